namespace SemanticCore.Model;

/// <summary>What an embedding call was billed for.</summary>
public enum SpendKind
{
    /// <summary>A batch job's results (the batch price).</summary>
    Batch,
    /// <summary>Chunks embedded at import (Import-SemanticDocument or Sync-SemanticFolder in Sync mode; the interactive price).</summary>
    Interactive,
    /// <summary>A search query embedded by Search-SemanticIndex (the interactive price).</summary>
    Query,
}

/// <summary>The embedding calls of one kind on one UTC day, and what they cost (<c>Get-SemanticSpend</c>).</summary>
public sealed class SpendDay
{
    /// <summary>The UTC day (midnight, Kind Utc).</summary>
    public required DateTime Date { get; init; }
    public required SpendKind Kind { get; init; }
    /// <summary>Calls billed: one per batch job, per interactive embedding call, per query.</summary>
    public long Calls { get; init; }
    public long Tokens { get; init; }
    /// <summary>US dollars at the price the calls paid (batch or interactive); 0 on the Local provider; null when a call's model has no known price.</summary>
    public decimal? Cost { get; init; }
    /// <summary>The same tokens at the interactive price.</summary>
    public decimal? InteractiveCost { get; init; }
    /// <summary>InteractiveCost minus Cost: what the Batch API saved.</summary>
    public decimal? Savings => Cost is { } cost && InteractiveCost is { } interactive ? interactive - cost : null;
    public required string Database { get; init; }

    public override string ToString() => $"{Date:yyyy-MM-dd} {Kind}";
}
