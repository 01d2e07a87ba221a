using System.Globalization;

namespace SemanticCore.PowerShell;

/// <summary>The one way the module writes an amount of US dollars: in the default views, What if lines and warnings.</summary>
public static class Money
{
    /// <summary>"$0.0123": four decimals, or two significant digits for a non-zero amount below $0.0001 ("$0.000075").</summary>
    /// <remarks>Embedding a few chunks costs a fraction of a hundredth of a cent; four decimals alone would show it as free.</remarks>
    public static string Format(decimal amount)
    {
        var size = Math.Abs(amount);
        var decimals = 4;
        if (size is > 0 and < 0.0001m)
        {
            for (var scaled = size * 10_000; scaled < 10 && decimals < 28; scaled *= 10) decimals++;
        }

        var text = Math.Round(size, decimals, MidpointRounding.AwayFromZero).ToString("#,0." + new string('0', decimals), CultureInfo.InvariantCulture);
        return (amount < 0 ? "-$" : "$") + text;
    }

    /// <summary>The amount as <see cref="Format"/> writes it, or "(price unknown)" when the model has no known price.</summary>
    public static string FormatOrUnknown(decimal? amount) => amount is { } value ? Format(value) : "(price unknown)";
}
