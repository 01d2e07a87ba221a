using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>
/// The index's batch jobs and the chunks they hold. Every change that must not be seen half-done (a claim, an ending,
/// a budget lesson) is one member, whose implementation owns the transaction; a change guarded by a job's status is a
/// no-op when another process got there first, so two processes doing it give one outcome.
/// </summary>
internal interface IBatchJobStore
{
    /// <summary>How many chunks are Pending: what a flush could claim.</summary>
    long CountClaimable();

    /// <summary>How many chunks are claimed by unfinished jobs (Submitted).</summary>
    long CountSubmitted();

    /// <summary>The Pending chunks in id order (the order jobs claim them), with the text each would be embedded from.</summary>
    IEnumerable<(long Id, string Text)> PendingTexts();

    /// <summary>The index's unfinished jobs (Created, Submitted, Running) of every process and host: how many, and their estimated tokens.</summary>
    (int Jobs, long Tokens) Unfinished();

    /// <summary>
    /// Creates a job (for the index's model) and claims the Pending chunks that fit it (in id order, within <paramref name="limits"/> and the room
    /// the index's unfinished jobs leave), atomically and before any remote call: two flushes can never claim the same
    /// chunk, nor together pass the queue's budget. Returns the chunks and estimated tokens claimed (0: none fit, and no
    /// job is kept).
    /// </summary>
    (long Chunks, long Tokens) CreateAndClaim(string jobId, ClaimLimits limits);

    /// <summary>The queue budget recorded in the index (every process and host reads the same), as it holds now.</summary>
    QueueBudget ReadBudget();

    /// <summary>
    /// Changes the recorded budget atomically, so that two processes learning at once never undo each other's lesson;
    /// <paramref name="change"/> returning null leaves it as it is. Returns the budget recorded.
    /// </summary>
    QueueBudget? UpdateBudget(Func<QueueBudget, QueueBudget?> change);

    /// <summary>Deletes a Created job that holds no chunk any more (all removed by a re-import after the claim); false when it holds one.</summary>
    bool DiscardEmpty(string jobId);

    /// <summary>The claimed chunks of a job, in id order, with the text to send.</summary>
    IEnumerable<(long Id, string Text)> JobTexts(string jobId);

    /// <summary>Records a job's estimated tokens and, when given, the name of its uploaded input file.</summary>
    void RecordInput(string jobId, string? inputFile, long estimatedTokens);

    /// <summary>
    /// Renews a Created job's lease right before the remote create; false when another process has meanwhile recovered
    /// (adopted or released) it, in which case it must not be created.
    /// </summary>
    bool RenewLease(string jobId);

    /// <summary>
    /// Lets the next flush or sync recover a Created job at once (its creator gave up on it after a create, or an upload,
    /// whose outcome is unknown); with <paramref name="createAttempted"/>, records now as when that create was attempted.
    /// </summary>
    void ExpireLease(string jobId, string message, bool createAttempted = true);

    /// <summary>Created jobs whose lease ran out (their creator died or gave up), oldest first, with when a create was attempted, if one was.</summary>
    IReadOnlyList<(string Id, DateTimeOffset? CreateAttemptedAt)> StaleCreatedJobs(TimeSpan lease);

    /// <summary>Records the remote job; only from Created, so adopting twice (two recoveries) is harmless.</summary>
    void MarkSubmitted(string jobId, string remoteName, string? inputFile);

    /// <summary>Records that the remote job runs; only from Submitted.</summary>
    void MarkRunning(string jobId);

    /// <summary>
    /// Ends a job without results, atomically, and puts its chunks back to Pending with the reason; they keep the job's id,
    /// as every chunk keeps the id of the job it was last sent in. With <paramref name="maxRetries"/> (a remote job that
    /// ended without results) that counts as a retry, and a chunk past the budget is Failed: a job that always fails is
    /// not resubmitted forever. The job's counters take the outcome, and the results it produced before it ended are
    /// billed in the spend ledger. Guarded by the job's status (and, for recovery, by its lease still being expired
    /// before <paramref name="leaseExpiredBefore"/>, so a flush that renewed it meanwhile keeps it). Returns false when
    /// the job had already ended or was renewed.
    /// </summary>
    bool EndWithoutResults(string jobId, BatchJobStatus status, string reason,
        DateTimeOffset? leaseExpiredBefore = null, int? maxRetries = null, string? outputFile = null, bool remoteFilesLeft = true);

    /// <summary>
    /// Sets a Submitted or Running job's final status from its counters (Completed, CompletedWithErrors, or Failed when
    /// nothing succeeded) and bills it in the spend ledger, atomically, so it is billed once however many syncs finish
    /// it; false when it had already ended.
    /// </summary>
    bool Finish(string jobId, string? inputFile, string? outputFile, SyncStats stats);

    /// <summary>A writer of the job's results, a page per transaction; chunks past <paramref name="maxRetries"/> retries fail for good.</summary>
    IBatchResultWriter WriteResults(string jobId, int maxRetries);

    /// <summary>Ended jobs whose remote input and output files may still exist (their deletion failed or never ran), oldest first.</summary>
    IReadOnlyList<(string Id, string? InputFile, string? OutputFile)> JobsWithRemoteFilesLeft();

    /// <summary>Records that a job's remote files are deleted.</summary>
    void MarkRemoteFilesDeleted(string jobId);

    /// <summary>The job with this id, or null when there is none.</summary>
    BatchJob? Find(string jobId);

    /// <summary>Jobs in creation order, of the given statuses (all when none are given).</summary>
    IEnumerable<BatchJob> List(IReadOnlyCollection<BatchJobStatus>? statuses);
}
