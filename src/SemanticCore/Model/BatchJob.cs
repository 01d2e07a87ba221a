namespace SemanticCore.Model;

/// <summary>
/// A batch job's lifecycle: Created (chunks claimed, nothing remote yet) -> Submitted (the remote job
/// exists) -> Running -> Completed | CompletedWithErrors | Failed | Cancelled | Expired.
/// </summary>
public enum BatchJobStatus
{
    Created,
    Submitted,
    Running,
    Completed,
    CompletedWithErrors,
    Failed,
    Cancelled,
    Expired,
}

/// <summary>A batch embedding job (<c>Invoke-BatchFlush</c>, <c>Sync-BatchJob</c>, <c>Get-BatchJob</c>).</summary>
public sealed class BatchJob
{
    public required string Id { get; init; }
    /// <summary>The remote job (<c>batches/...</c>; <c>local-batches/...</c> on the Local provider); null until it exists.</summary>
    public string? RemoteName { get; init; }
    /// <summary>Created, Submitted, Running, Completed, CompletedWithErrors, Failed, Cancelled or Expired (see <see cref="BatchJobStatus"/>).</summary>
    public string Status => State.ToString();
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public int Dimensions { get; init; }
    /// <summary>Chunks sent in the job.</summary>
    public long Requests { get; init; }
    /// <summary>Chunks whose vectors were stored (now Ready).</summary>
    public long Succeeded { get; init; }
    /// <summary>Chunks that failed for good (a non-retriable error, or the retry budget spent).</summary>
    public long Failed { get; init; }
    /// <summary>Chunks put back to Pending for another job (a retriable error, or missing from the output).</summary>
    public long Retried { get; init; }
    /// <summary>Chunks removed from the index (with their document) while the job held them; their results are not stored.</summary>
    public long Removed { get; init; }
    /// <summary>Tokens billed, from the results (0 until the job is synced).</summary>
    public long Tokens { get; init; }
    /// <summary>Tokens estimated when the job was created.</summary>
    public long EstimatedTokens { get; init; }
    /// <summary>US dollars at the batch price: of <see cref="Tokens"/> once known, else of <see cref="EstimatedTokens"/>; null for models without a known price.</summary>
    public decimal? EstimatedCost { get; init; }
    /// <summary>The same tokens at the interactive price: what the job would have cost without the Batch API.</summary>
    public decimal? InteractiveCost { get; init; }
    /// <summary>InteractiveCost minus EstimatedCost.</summary>
    public decimal? Savings => EstimatedCost is { } batch && InteractiveCost is { } interactive ? interactive - batch : null;
    public long UnknownKeys { get; init; }
    public long DuplicateKeys { get; init; }
    public long MalformedLines { get; init; }
    public string? InputFile { get; init; }
    public string? OutputFile { get; init; }
    public string? ErrorMessage { get; init; }
    /// <summary>UTC, as are the other dates.</summary>
    public required DateTime CreatedAt { get; init; }
    public DateTime? SubmittedAt { get; init; }
    public DateTime? CompletedAt { get; init; }
    public DateTime? UpdatedAt { get; init; }
    public required string Database { get; init; }

    internal BatchJobStatus State { get; init; }

    /// <summary>The statuses of a job that has not finished yet.</summary>
    public static IReadOnlyList<BatchJobStatus> ActiveStatuses { get; } = [BatchJobStatus.Created, BatchJobStatus.Submitted, BatchJobStatus.Running];

    /// <summary>Not finished yet: Created, Submitted or Running.</summary>
    public bool IsActive => ActiveStatuses.Contains(State);

    public override string ToString() => $"{Id} ({Status})";
}

/// <summary>What <c>Invoke-BatchFlush -WhatIf</c> would send, and what it would cost.</summary>
public sealed class BatchFlushEstimate
{
    public long Chunks { get; init; }
    public int Jobs { get; init; }
    public long EstimatedTokens { get; init; }
    /// <summary>US dollars at the batch price; null for models without a known price.</summary>
    public decimal? BatchCost { get; init; }
    /// <summary>US dollars at the interactive price, for comparison.</summary>
    public decimal? InteractiveCost { get; init; }
    public decimal? Savings => BatchCost is { } batch && InteractiveCost is { } interactive ? interactive - batch : null;
    /// <summary>Rounds of jobs the whole backlog needs under the queue budget (each after the previous round's jobs finish); 0 when nothing is Pending.</summary>
    public int Rounds { get; init; }
    /// <summary>Pending chunks this command would leave Pending (past the queue budget without -Wait, or past -MaxCost).</summary>
    public long HeldChunks { get; init; }
    public long HeldTokens { get; init; }
    /// <summary>Estimated tokens the index's unfinished jobs hold now.</summary>
    public long TokensInFlight { get; init; }
    /// <summary>The queue budget in force (set with -QueueTokenLimit, or learned from the service's refusals); null when there is none.</summary>
    public long? QueueTokenLimit { get; init; }
    public required string Model { get; init; }
    /// <summary>Why nothing would be sent (fewer pending chunks than -MinSize), or what would stay Pending and why; null when everything would go.</summary>
    public string? Note { get; init; }
    public required string Database { get; init; }
}

/// <summary>The total of a folder mirror (Sync-SemanticFolder): what changed, or would, and what embedding it costs.</summary>
public sealed class FolderSyncSummary
{
    public required string Path { get; init; }
    public int Added { get; init; }
    public int Updated { get; init; }
    public int Removed { get; init; }
    public int Unchanged { get; init; }
    /// <summary>Files that could not be imported (each reported as an error).</summary>
    public int Failed { get; init; }
    /// <summary>New chunks, Pending for the next flush.</summary>
    public long ChunksToEmbed { get; init; }
    public long EstimatedTokens { get; init; }
    /// <summary>US dollars for <see cref="EstimatedTokens"/> at the batch price; null for a model without a known price.</summary>
    public decimal? BatchCost { get; init; }
    public decimal? InteractiveCost { get; init; }
    public decimal? Savings => BatchCost is { } batch && InteractiveCost is { } interactive ? interactive - batch : null;
    public required string Model { get; init; }
    public bool WhatIf { get; init; }
    public required string Database { get; init; }
    /// <summary>True when this sync created the index (under -WhatIf: would create it).</summary>
    public bool IndexCreated { get; init; }
}
