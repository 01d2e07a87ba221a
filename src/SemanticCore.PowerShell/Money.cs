using SemanticCore.Batches;

namespace SemanticCore.PowerShell;

/// <summary>The one way the module writes an amount of US dollars (<see cref="Pricing.Format"/>), for the default views, What if lines and warnings.</summary>
public static class Money
{
    /// <summary>"$0.0123": four decimals, or two significant digits for a non-zero amount below $0.0001 ("$0.000075").</summary>
    public static string Format(decimal amount) => Pricing.Format(amount);

    /// <summary>The amount as <see cref="Format"/> writes it, or "(price unknown)" when the model has no known price.</summary>
    public static string FormatOrUnknown(decimal? amount) => amount is { } value ? Format(value) : "(price unknown)";
}
