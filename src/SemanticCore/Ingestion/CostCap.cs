using SemanticCore.Batches;
using SemanticCore.Storage;

namespace SemanticCore.Ingestion;

/// <summary>
/// A cap, in US dollars, on what one command may spend embedding chunks interactively (<c>-MaxCost</c>), estimated
/// at the interactive price from each chunk's token estimate. Chunks are offered in the order the command meets them;
/// the first that would pass the cap closes it, and it and every later one are held (left Pending for a batch job).
/// </summary>
public sealed class CostCap(decimal maxCost)
{
    private bool closed;

    public decimal MaxCost { get; } = maxCost;

    /// <summary>The estimated interactive cost of the chunks taken so far.</summary>
    public decimal Taken { get; private set; }

    public long HeldChunks { get; private set; }

    public long HeldTokens { get; private set; }

    /// <summary>The held chunks' estimated interactive cost; null when an index's model has no known price.</summary>
    public decimal? HeldCost { get; private set; } = 0m;

    /// <summary>
    /// True when embedding a chunk of <paramref name="tokens"/> now keeps the command within the cap (it is counted as
    /// taken); false when it is held. A model without a known price holds every chunk; the Local provider, free, none.
    /// </summary>
    public bool TryTake(IndexSettings settings, long tokens)
    {
        var cost = Pricing.Cost(settings, tokens, batch: false);
        if (!closed && cost is { } known && Taken + known <= MaxCost)
        {
            Taken += known;
            return true;
        }

        closed = true;
        HeldChunks++;
        HeldTokens += tokens;
        HeldCost = HeldCost is { } held && cost is { } c ? held + c : null;
        return false;
    }
}
