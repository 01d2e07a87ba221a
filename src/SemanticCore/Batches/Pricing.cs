namespace SemanticCore.Batches;

/// <summary>Published prices per million input tokens, in US dollars (gemini-api.md).</summary>
public static class Pricing
{
    private static readonly Dictionary<string, (decimal Interactive, decimal Batch)> PerMillionTokens = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gemini-embedding-001"] = (0.15m, 0.075m),
    };

    /// <summary>Cost of <paramref name="tokens"/> at the batch or interactive price; 0 for vectors made on this machine (Local, Onnx); null when the model's price is unknown.</summary>
    public static decimal? Cost(Storage.IndexSettings settings, long tokens, bool batch)
    {
        if (settings.RunsOnThisMachine) return 0m;
        // Exact: decimal keeps every digit of these prices, so the batch cost is exactly half the interactive one.
        return PerMillionTokens.TryGetValue(settings.Model, out var price)
            ? tokens * (batch ? price.Batch : price.Interactive) / 1_000_000m
            : null;
    }

    /// <summary>
    /// The tokens <paramref name="dollars"/> pay for at the batch or interactive price, rounded down: none for a model whose
    /// price is unknown (a cost cap then holds everything); null for vectors made on this machine, which are free.
    /// </summary>
    public static long? TokensFor(Storage.IndexSettings settings, decimal dollars, bool batch)
    {
        if (settings.RunsOnThisMachine) return null;
        if (!PerMillionTokens.TryGetValue(settings.Model, out var price)) return 0;
        if (dollars >= 1_000_000_000m) return long.MaxValue / 2; // no cap in practice, and no overflow below
        var perMillion = batch ? price.Batch : price.Interactive;
        return (long)Math.Floor(dollars * 1_000_000m / perMillion);
    }

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

        var text = Math.Round(size, decimals, MidpointRounding.AwayFromZero).ToString("#,0." + new string('0', decimals), System.Globalization.CultureInfo.InvariantCulture);
        return (amount < 0 ? "-$" : "$") + text;
    }
}
