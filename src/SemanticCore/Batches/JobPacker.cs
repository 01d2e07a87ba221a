namespace SemanticCore.Batches;

/// <summary>
/// Fills one batch job with chunks, in id order, within its limits: a chunk count, estimated tokens, and the service's
/// input file limit. A soft token limit lets a first chunk larger than it through (a job of one chunk is always possible
/// when nothing else is queued); a hard one (the cost cap, or the queue's room while other jobs hold tokens) never does.
/// </summary>
internal sealed class JobPacker(long maxChunks, long softTokens, long hardTokens)
{
    /// <summary>The service refuses an input file over 2 GB.</summary>
    public const long MaxInputBytes = 2_000_000_000;

    public long Chunks { get; private set; }

    public long Tokens { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Adds a chunk if it fits; false when it does not (the job is full, and this chunk starts the next one).</summary>
    public bool TryAdd(long tokens, long bytes)
    {
        if (Tokens + tokens > hardTokens) return false;
        if (Chunks > 0 && (Chunks + 1 > maxChunks || Tokens + tokens > softTokens || Bytes + bytes > MaxInputBytes)) return false;
        Chunks++;
        Tokens += tokens;
        Bytes += bytes;
        return true;
    }

    /// <summary>An upper bound of a chunk's line in the input file: every character escaped (\uXXXX), plus the line's own JSON.</summary>
    public static long LineBytes(string text) => text.Length * 6L + 200;
}

/// <summary>What the jobs of one flush may hold: chunks and tokens per job, the queue's budget, and what the cost cap still allows.</summary>
/// <param name="MaxChunks">Chunks per job (<c>-MaxBatchSize</c>).</param>
/// <param name="MaxJobTokens">Estimated tokens per job (<c>-MaxJobTokens</c>, or less when the service refused larger jobs).</param>
/// <param name="QueueTokens">Estimated tokens all unfinished jobs of the index may hold; null when unlimited.</param>
/// <param name="AffordableTokens">Estimated tokens the rest of <c>-MaxCost</c> pays for; null when there is no cap.</param>
internal sealed record ClaimLimits(long MaxChunks, long MaxJobTokens, long? QueueTokens, long? AffordableTokens)
{
    /// <summary>The service keeps at most 100 unfinished batch jobs per project.</summary>
    public const int MaxUnfinishedJobs = 100;

    /// <summary>A packer for the next job, given what the unfinished jobs hold; null when the queue has no room for any.</summary>
    public JobPacker? PackerFor(int unfinishedJobs, long tokensInFlight)
    {
        if (unfinishedJobs >= MaxUnfinishedJobs) return null;
        var hard = AffordableTokens ?? long.MaxValue;
        var soft = MaxJobTokens;
        if (QueueTokens is { } queue)
        {
            var room = queue - tokensInFlight;
            if (room <= 0) return null;
            // An empty queue takes a first chunk larger than the budget (or it would never be sent); a busy one waits.
            if (tokensInFlight > 0) hard = Math.Min(hard, room);
            else soft = Math.Min(soft, room);
        }

        return hard <= 0 ? null : new JobPacker(MaxChunks, soft, hard);
    }
}
