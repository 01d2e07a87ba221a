namespace SemanticCore.Batches;

/// <summary>
/// Plays a flush's claims over the Pending chunks, in id order, without claiming anything: the jobs of each round the
/// queue budget allows (the first round after the jobs now in flight, each later one once those have finished), and
/// what the cost cap holds back for good.
/// </summary>
internal sealed class FlushForecast(ClaimLimits limits, int unfinishedJobs, long tokensInFlight)
{
    private int roundJobs = unfinishedJobs;
    private long roundTokens = tokensInFlight;
    private long spentTokens;
    private JobPacker? job;

    /// <summary>The Pending chunks and their estimated tokens.</summary>
    public long Chunks { get; private set; }

    public long Tokens { get; private set; }

    /// <summary>Rounds of jobs the backlog needs (0 when nothing is Pending).</summary>
    public int Rounds { get; private set; }

    /// <summary>What the first round sends: a flush without -Wait.</summary>
    public (long Chunks, int Jobs, long Tokens) FirstRound { get; private set; }

    /// <summary>What all rounds send: a flush with -Wait.</summary>
    public (long Chunks, int Jobs, long Tokens) Drained { get; private set; }

    /// <summary>Chunks that passing the cost cap would need: never sent by this command.</summary>
    public long HeldByCost { get; private set; }

    public void Add(long tokens, long bytes)
    {
        Chunks++;
        Tokens += tokens;
        if (Rounds == 0) Rounds = 1;
        if (HeldByCost > 0)
        {
            HeldByCost++; // the claims stop at the first chunk the cap refuses
            return;
        }

        if (job is not null && job.TryAdd(tokens, bytes)) return;
        CloseJob();
        if (tokens > Affordable)
        {
            HeldByCost++;
            return;
        }

        job = Next();
        if (job is not null && job.TryAdd(tokens, bytes)) return;

        // The queue has no room left in this round: the chunk opens the next one, once today's jobs have finished.
        Rounds++;
        (roundJobs, roundTokens) = (0, 0);
        job = Next()!;
        job.TryAdd(tokens, bytes);
    }

    /// <summary>Counts the last job; call once after the last chunk.</summary>
    public void Close()
    {
        CloseJob();
        job = null;
    }

    private long Affordable => limits.AffordableTokens is { } affordable ? affordable - spentTokens : long.MaxValue;

    private JobPacker? Next() => (limits with { AffordableTokens = Affordable }).PackerFor(roundJobs, roundTokens);

    private void CloseJob()
    {
        if (job is not { Chunks: > 0 } full) return;
        roundJobs++;
        roundTokens += full.Tokens;
        spentTokens += full.Tokens;
        Drained = (Drained.Chunks + full.Chunks, Drained.Jobs + 1, Drained.Tokens + full.Tokens);
        if (Rounds == 1) FirstRound = (FirstRound.Chunks + full.Chunks, FirstRound.Jobs + 1, FirstRound.Tokens + full.Tokens);
        job = null;
    }
}
