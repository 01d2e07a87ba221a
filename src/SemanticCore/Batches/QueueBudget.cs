namespace SemanticCore.Batches;

/// <summary>
/// How many estimated tokens the index's unfinished batch jobs may hold together, and how large one job may be: what the
/// admin set (<c>-QueueTokenLimit</c>) and what the service's refusals taught. The service caps the tokens queued in a
/// project's unfinished jobs per model and tier, publishes no number, and refuses a create past it with a bare 429.
/// </summary>
public sealed record QueueBudget
{
    /// <summary>A refused job with nothing in flight is halved down to this size, no further: below it the queue is not the cause.</summary>
    public const long SmallestLearnedJob = 4_096;

    /// <summary>The budget set with <c>-QueueTokenLimit</c> and recorded in the index; null when none was set.</summary>
    public long? Limit { get; init; }

    /// <summary>The tokens the service held when it last refused a job (grows again after accepted rounds); null when never refused.</summary>
    public long? LearnedLimit { get; init; }

    /// <summary>The job size the service accepted after refusing larger ones with nothing in flight; null when never refused so.</summary>
    public long? LearnedJobTokens { get; init; }

    /// <summary>The smallest total (tokens in flight and the new job's) the service refused: learned limits stay below it.</summary>
    public long? RefusedTokens { get; init; }

    /// <summary>When <see cref="RefusedTokens"/> was learned; the ceiling holds for <see cref="CeilingLifetime"/>.</summary>
    public DateTimeOffset? RefusedAt { get; init; }

    /// <summary>
    /// How long a refused total stays a ceiling: within a day the project's queue has turned over (jobs end within 24 hours),
    /// so a refusal caused by others filling it, or a tier raised since, is not a limit for good.
    /// </summary>
    public static readonly TimeSpan CeilingLifetime = TimeSpan.FromDays(1);

    /// <summary>The budget as it holds at <paramref name="now"/>: without a ceiling older than <see cref="CeilingLifetime"/>.</summary>
    public QueueBudget AsOf(DateTimeOffset now) =>
        RefusedAt is { } at && now - at > CeilingLifetime ? this with { RefusedTokens = null, RefusedAt = null } : this;

    /// <summary>
    /// The tokens all unfinished jobs may hold: the smallest of what was set, what was learned, and less than what was
    /// refused; null when unlimited.
    /// </summary>
    public long? QueueTokens => new[] { Limit, LearnedLimit, RefusedTokens - 1 }.Min();

    /// <summary>The largest job: <paramref name="maxJobTokens"/>, or less when the service refused larger ones.</summary>
    public long JobTokens(long maxJobTokens) => LearnedJobTokens is { } learned ? Math.Min(learned, maxJobTokens) : maxJobTokens;

    /// <summary>
    /// What a refusal teaches: with jobs in flight, the queue holds no more than they do (what the service had accepted);
    /// with none, the job alone was too large, so the next is half its size. Either way the refused total is remembered as
    /// a ceiling. Null when there is nothing left to learn (a small job refused with nothing in flight: batch jobs are not
    /// available to the project, whatever their size).
    /// </summary>
    public QueueBudget? AfterRefusal(long tokensInFlight, long jobTokens, DateTimeOffset now)
    {
        var ceiling = this with { RefusedTokens = Math.Min(RefusedTokens ?? long.MaxValue, tokensInFlight + jobTokens), RefusedAt = now };
        if (tokensInFlight > 0) return ceiling with { LearnedLimit = tokensInFlight };
        return jobTokens <= SmallestLearnedJob ? null : ceiling with { LearnedJobTokens = Math.Max(SmallestLearnedJob, jobTokens / 2) };
    }

    /// <summary>
    /// After a round the service accepted whole, a learned limit that held work back grows by a quarter, at most halfway to
    /// the smallest total refused within a day: the cap is found again in a few rounds (jobs that ended just before a refusal made
    /// the lesson too strict), with few refusals. <c>-QueueTokenLimit 0</c> forgets it all, e.g. after a change of tier.
    /// </summary>
    public QueueBudget AfterAcceptedRound(bool heldByQueue, bool heldByJobSize, long maxJobTokens)
    {
        var budget = this;
        if (heldByQueue && LearnedLimit is { } limit && (Limit is null || limit < Limit)) budget = budget with { LearnedLimit = Grow(limit) };
        if (heldByJobSize && LearnedJobTokens is { } job) budget = budget with { LearnedJobTokens = Grow(job) >= maxJobTokens ? null : Grow(job) };
        return budget;
    }

    private long Grow(long value)
    {
        var grown = value + Math.Max(1, value / 4);
        return RefusedTokens is { } refused ? Math.Max(value, Math.Min(grown, value + (refused - value) / 2)) : grown;
    }
}
