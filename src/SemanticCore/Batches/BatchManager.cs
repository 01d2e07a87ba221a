using System.Runtime.CompilerServices;
using System.Threading.Channels;
using SemanticCore.Gemini;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>What one flush did: the jobs it submitted (or adopted, or synced while draining), the failures of the others, and what it held back.</summary>
public sealed record FlushResult(IReadOnlyList<BatchJob> Jobs, IReadOnlyList<SemanticCoreException> Errors, IReadOnlyList<string> Notes);

/// <summary>A synced job, and what could not be cleaned up remotely (worth a warning, not an error).</summary>
public sealed record SyncResult(BatchJob Job, IReadOnlyList<string> Warnings);

/// <summary>
/// Sends Pending chunks to batch jobs and brings their vectors back, without losing or double-paying
/// a chunk: chunks are claimed with the job row before any remote call; the remote job is named by
/// the local job id, so a create whose answer was lost is found and adopted instead of repeated;
/// results are applied idempotently in bounded transactions.
/// </summary>
public sealed partial class BatchManager(SemanticIndex index, IBatchService service)
{
    /// <summary>How long a Created job belongs to the flush that created it; after that, recovery may adopt or release it.</summary>
    public static readonly TimeSpan CreatedLease = TimeSpan.FromMinutes(30);

    /// <summary>
    /// After a create whose outcome is unknown, how long a job that cannot be found remotely is still
    /// presumed to exist: the service may list a just-created job late, and releasing its chunks then
    /// would pay for them twice. A job that is found is adopted at once.
    /// </summary>
    public static readonly TimeSpan UncertainCreateGrace = TimeSpan.FromMinutes(10);

    /// <summary>Output lines applied per transaction: bounded memory and short write locks.</summary>
    public const int LinesPerTransaction = 5_000;

    /// <summary>Parsed groups that may wait for the writer (each holds up to <see cref="LinesPerTransaction"/> vectors).</summary>
    private const int GroupsAhead = 2;

    private static int ParsingThreads => Math.Clamp(Environment.ProcessorCount, 1, 4);

    private const int LinesPerProgress = 1_000;

    /// <summary>
    /// Recovers Created jobs whose flush died or gave up: a remote job with their id as display name
    /// is adopted (never created twice); without one, their chunks go back to Pending.
    /// </summary>
    public async Task<IReadOnlyList<BatchJob>> RecoverAsync(List<SemanticCoreException> errors, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var recovered = new List<BatchJob>();
        foreach (var (jobId, createAttemptedAt) in index.Jobs.StaleCreatedJobs(CreatedLease))
        {
            DeleteSpoolQuietly(jobId);
            progress?.Report(new OperationProgress($"Recovering batch job {jobId}", "Looking for the remote job"));
            BatchOperation? remote;
            try
            {
                remote = await service.FindAsync(jobId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Unknown remote state: leave the job as it is for the next attempt.
                errors.Add(Known(ex, "BatchRecoveryFailed", FailureKind.ConnectionError, $"Batch job {jobId}: looking for its remote job failed, so it was left for the next flush or sync"));
                continue;
            }

            if (remote is not null)
            {
                index.Jobs.MarkSubmitted(jobId, remote.Name, remote.InputFileName);
            }
            else if (createAttemptedAt > DateTimeOffset.UtcNow - UncertainCreateGrace)
            {
                continue; // not listed yet is not proof of absence: ask again on a later run
            }
            else
            {
                var job = index.Jobs.Find(jobId);
                try
                {
                    // Its uploads go first: once its chunks are released, nothing would ever look for them again.
                    if (job?.InputFile is { } input) await service.DeleteFileAsync(input, cancellationToken).ConfigureAwait(false);
                    await service.DeleteUploadsAsync(jobId, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    errors.Add(Known(ex, "BatchRecoveryFailed", FailureKind.ConnectionError, $"Batch job {jobId}: deleting what it uploaded failed, so it was left for the next flush or sync"));
                    continue;
                }

                if (index.Jobs.EndWithoutResults(jobId, BatchJobStatus.Failed,
                        "Never submitted: the flush that created this job stopped before the remote job existed. Its chunks are Pending again.",
                        leaseExpiredBefore: DateTimeOffset.UtcNow - CreatedLease))
                {
                    index.Jobs.MarkRemoteFilesDeleted(jobId); // they went first, above
                }
            }

            recovered.Add(index.Jobs.Find(jobId)!);
        }

        // Ended jobs whose files are still at the service (their process died right after storing the results, or the delete
        // failed). The first failure ends the sweep: the service is unreachable, and the next run tries again.
        foreach (var (jobId, inputFile, outputFile) in index.Jobs.JobsWithRemoteFilesLeft())
        {
            if (!await DeleteRemoteFilesAsync(jobId, inputFile, outputFile, [], cancellationToken).ConfigureAwait(false)) break;
        }

        return recovered;
    }

    /// <summary>Brings one job up to date with its remote state; a finished job is returned as it is, without a remote call.</summary>
    public async Task<SyncResult> SyncAsync(string jobId, int maxRetries, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var job = index.Jobs.Find(jobId) ?? throw new SemanticCoreException("BatchJobNotFound", FailureKind.ObjectNotFound,
            $"There is no batch job '{jobId}' in the index '{index.DatabasePath}'.");
        // A Created job has no remote job to ask about yet; RecoverAsync deals with the abandoned ones.
        if (!job.IsActive || job.RemoteName is null) return new SyncResult(job, []);

        progress?.Report(new OperationProgress($"Syncing batch job {jobId}", "Getting the remote state"));
        var warnings = new List<string>();
        try
        {
            var remote = await service.GetAsync(job.RemoteName, cancellationToken).ConfigureAwait(false);
            switch (remote.State)
            {
                case BatchState.Running:
                    index.Jobs.MarkRunning(jobId);
                    break;
                case BatchState.Succeeded:
                    await ApplyResultsAsync(job, remote, maxRetries, warnings, progress, cancellationToken).ConfigureAwait(false);
                    break;
                case BatchState.Failed or BatchState.Cancelled or BatchState.Expired:
                    var status = remote.State switch
                    {
                        BatchState.Cancelled => BatchJobStatus.Cancelled,
                        BatchState.Expired => BatchJobStatus.Expired,
                        _ => BatchJobStatus.Failed,
                    };
                    await EndWithPartialResultsAsync(job, remote, status, $"The remote job ended {remote.State}" + (remote.ErrorMessage is { } message ? $": {message}" : "."),
                        maxRetries, countRetry: true, warnings, progress, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException && index.Jobs.Find(jobId) is { IsActive: false })
        {
            // Another sync finished the job meanwhile (and deleted its remote files): its result stands.
        }
        catch (Exception ex) when (ex is not OperationCanceledException && service.IsGone(ex))
        {
            // The remote job or its output no longer exists (deleted, or past the service's 48 hours): nothing can come back.
            await EndWithoutResultsAsync(job, BatchJobStatus.Expired, $"The remote job or its output is no longer available ({Describe(ex)}).", warnings, cancellationToken, maxRetries)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not SemanticCoreException)
        {
            throw Known(ex, "BatchSyncFailed", FailureKind.ConnectionError, $"Batch job {jobId}: the sync failed and can be run again");
        }

        return new SyncResult(index.Jobs.Find(jobId)!, warnings);
    }

    /// <summary>
    /// Stops an active job: cancels the remote job, stores whatever results the service already produced, and
    /// puts the rest of its chunks back to Pending (no retry counted); the job ends Cancelled. A job that
    /// finished before the cancel reached it is synced as usual instead (a warning says so).
    /// </summary>
    /// <exception cref="SemanticCoreException">BatchJobNotFound, BatchJobNotActive; BatchStopFailed when the service would not cancel it (nothing changed).</exception>
    public async Task<SyncResult> StopAsync(string jobId, int maxRetries, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var job = index.Jobs.Find(jobId) ?? throw new SemanticCoreException("BatchJobNotFound", FailureKind.ObjectNotFound,
            $"There is no batch job '{jobId}' in the index '{index.DatabasePath}'.");
        if (!job.IsActive)
        {
            throw new SemanticCoreException("BatchJobNotActive", FailureKind.InvalidOperation, $"Batch job {jobId} already ended {job.Status}: there is nothing to stop.");
        }

        const string Reason = "Stopped with Stop-BatchJob.";
        var warnings = new List<string>();
        progress?.Report(new OperationProgress($"Stopping batch job {jobId}", "Cancelling the remote job"));
        try
        {
            // A Created job's create may have happened anyway: the remote job is found by its display name, and adopted
            // as recovery would, so that the job records it and ends (or finishes) as a Submitted one does.
            var remoteName = job.RemoteName;
            if (remoteName is null && await service.FindAsync(jobId, cancellationToken).ConfigureAwait(false) is { } found)
            {
                index.Jobs.MarkSubmitted(jobId, found.Name, found.InputFileName);
                (remoteName, job) = (found.Name, index.Jobs.Find(jobId)!);
            }

            if (remoteName is null)
            {
                // A flush may be creating it right now (its lease is fresh), or a create may not be listed yet:
                // ending the job then would leave a paid remote job nobody syncs. Only an abandoned one is ended.
                var now = DateTimeOffset.UtcNow;
                var abandoned = job.UpdatedAt is { } lease && lease < (now - CreatedLease).UtcDateTime &&
                                (job.SubmittedAt is not { } attempted || attempted < (now - UncertainCreateGrace).UtcDateTime);
                var busy = new SemanticCoreException("BatchStopFailed", FailureKind.InvalidOperation,
                    $"Batch job {jobId} is being submitted by a flush (or its create is not confirmed yet); it is unchanged. Run Stop-BatchJob again in a few minutes.");
                if (!abandoned) throw busy;
                // Its uploads go first (a failure leaves the job unchanged): once it has ended, nothing would look for them again.
                await service.DeleteUploadsAsync(jobId, cancellationToken).ConfigureAwait(false);
                if (!index.Jobs.EndWithoutResults(jobId, BatchJobStatus.Cancelled, Reason + " Its chunks are Pending again.", leaseExpiredBefore: now - CreatedLease))
                {
                    throw busy;
                }

                index.Jobs.MarkRemoteFilesDeleted(jobId);
                return new SyncResult(index.Jobs.Find(jobId)!, warnings);
            }

            Exception? refused = null;
            try
            {
                await service.CancelAsync(remoteName, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                refused = ex; // an ended job refuses: its state, read next, says what to do
            }

            BatchOperation? remote;
            try
            {
                remote = await service.GetAsync(remoteName, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && service.IsGone(ex))
            {
                remote = null;
            }

            switch (remote?.State)
            {
                case BatchState.Succeeded:
                    warnings.Add($"Batch job {jobId} finished before it could be stopped: its results were stored.");
                    await ApplyResultsAsync(job, remote, maxRetries, warnings, progress, cancellationToken).ConfigureAwait(false);
                    break;
                case BatchState.Pending or BatchState.Running or BatchState.Unknown when refused is null:
                    // The service took the cancel and is still cancelling: the job ends at the next stop or sync.
                    warnings.Add($"Batch job {jobId}: the cancel was accepted and the service is still cancelling it; run Stop-BatchJob or Sync-BatchJob again in a minute.");
                    break;
                case BatchState.Pending or BatchState.Running or BatchState.Unknown:
                    throw new SemanticCoreException("BatchStopFailed", FailureKind.ConnectionError,
                        $"Batch job {jobId}: the service did not cancel it ({Describe(refused!)}); it is unchanged. Run Stop-BatchJob again.", refused);
                default:
                    await EndWithPartialResultsAsync(job, remote, BatchJobStatus.Cancelled, Reason, maxRetries, countRetry: false, warnings, progress, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not SemanticCoreException)
        {
            throw Known(ex, "BatchStopFailed", FailureKind.ConnectionError, $"Batch job {jobId}: stopping it failed, and it is unchanged");
        }

        return new SyncResult(index.Jobs.Find(jobId)!, warnings);
    }


    private async Task ApplyResultsAsync(BatchJob job, BatchOperation remote, int maxRetries, List<string> warnings,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        SyncStats stats;
        using (var writer = index.Jobs.WriteResults(job.Id, maxRetries))
        {
            var applier = new ResultApplier(writer, index.Settings.Dimensions);
            if (remote.ResponsesFileName is { } output) await ApplyLinesAsync(job, output, applier, progress, cancellationToken).ConfigureAwait(false);
            applier.ApplyMissing();
            stats = applier.Stats(job.EstimatedTokens);
        }

        if (index.Jobs.Finish(job.Id, job.InputFile ?? remote.InputFileName, remote.ResponsesFileName, stats))
        {
            // The results are stored: the remote copies are no longer needed (and count against the project's quota).
            await DeleteRemoteFilesAsync(job.Id, job.InputFile ?? remote.InputFileName, remote.ResponsesFileName, warnings, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ApplyLinesAsync(BatchJob job, string output, ResultApplier applier, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Syncing batch job {job.Id}";
        await using var stream = await service.OpenResultsAsync(output, cancellationToken).ConfigureAwait(false);
        long applied = 0;
        await foreach (var group in ReadGroupsAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            applier.Apply(group);
            applied += group.Count;
            progress?.Report(new OperationProgress(activity, $"Storing results: {applied:N0} of {job.Requests:N0}", OperationProgress.Percent(applied, job.Requests)));
        }
    }

    /// <summary>
    /// The output's lines in chunk id order (<see cref="KeyOrderedLines"/>), in groups of <see cref="LinesPerTransaction"/>,
    /// read and parsed on other threads while the caller stores the previous group. At most <see cref="GroupsAhead"/>
    /// groups wait, and a few blocks of lines are parsed at once, so memory stays bounded whatever the file's size.
    /// </summary>
    private static async IAsyncEnumerable<List<BatchOutputLine>> ReadGroupsAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var groups = Channel.CreateBounded<List<BatchOutputLine>>(new BoundedChannelOptions(GroupsAhead) { SingleReader = true, SingleWriter = true });
        using var parser = new ThreadLocal<BatchOutputReader.LineParser>(() => new BatchOutputReader.LineParser());
        var reading = Task.Run(async () =>
        {
            try
            {
                using var ordered = new KeyOrderedLines();
                // The floats are parsed on every core (blocks of whole lines); the store waits for the ordered lines anyway.
                var parsing = new ParallelOptions { MaxDegreeOfParallelism = ParsingThreads, CancellationToken = stop.Token };
                await Parallel.ForEachAsync(BatchOutputReader.ReadBlocksAsync(stream, stop.Token), parsing, (block, _) =>
                {
                    var lines = block.Parse(parser.Value!);
                    lock (ordered)
                    {
                        foreach (var line in lines) ordered.Add(line);
                    }

                    return ValueTask.CompletedTask;
                }).ConfigureAwait(false);
                var group = new List<BatchOutputLine>(LinesPerTransaction);
                foreach (var line in ordered.Ordered())
                {
                    group.Add(line);
                    if (group.Count < LinesPerTransaction) continue;
                    await groups.Writer.WriteAsync(group, stop.Token).ConfigureAwait(false);
                    group = new List<BatchOutputLine>(LinesPerTransaction);
                }

                if (group.Count > 0) await groups.Writer.WriteAsync(group, stop.Token).ConfigureAwait(false);
            }
            finally
            {
                groups.Writer.Complete(); // a failure is rethrown below, as itself
            }
        }, stop.Token);

        try
        {
            await foreach (var group in groups.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false)) yield return group;
        }
        finally
        {
            // Done, or the caller stopped early (a failure while storing): stop reading, and let the caller's error stand.
            // A read failure is rethrown here, as itself: the sync ends before the missing lines are retried.
            stop.Cancel();
            try
            {
                await reading.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Ends a job that certainly has no remote counterpart, its chunks back to Pending; returns the error to report.</summary>
    /// <param name="filesMayExist">False when nothing reached the service: no later run needs to look for the job's files.</param>
    private SemanticCoreException Release(string jobId, string what, Exception cause, bool filesMayExist)
    {
        var message = $"{what}: {Describe(cause)}";
        index.Jobs.EndWithoutResults(jobId, BatchJobStatus.Failed, message + " Its chunks are Pending again.", remoteFilesLeft: filesMayExist);
        return cause is IOException or UnauthorizedAccessException
            ? Known(cause, "BatchInputWriteFailed", FailureKind.WriteError, $"Batch job {jobId}: {what}")
            : Known(cause, "BatchSubmitFailed", FailureKind.ConnectionError, $"Batch job {jobId}: {what}");
    }

    /// <summary>
    /// Ends a job the service ended before all its results: the results it did produce are paid for and stored, and the
    /// rest of the chunks go back (counting a retry, unless the user stopped the job).
    /// </summary>
    private async Task EndWithPartialResultsAsync(BatchJob job, BatchOperation? remote, BatchJobStatus status, string reason, int maxRetries, bool countRetry,
        List<string> warnings, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        if (remote?.ResponsesFileName is { } output)
        {
            using var writer = index.Jobs.WriteResults(job.Id, maxRetries);
            await ApplyLinesAsync(job, output, new ResultApplier(writer, index.Settings.Dimensions), progress, cancellationToken).ConfigureAwait(false);
        }

        await EndWithoutResultsAsync(job, status, reason, warnings, cancellationToken, countRetry ? maxRetries : null, remote?.ResponsesFileName).ConfigureAwait(false);
    }

    /// <param name="maxRetries">Given when the remote job ended without results: its chunks count a retry.</param>
    private async Task EndWithoutResultsAsync(BatchJob job, BatchJobStatus status, string reason, List<string> warnings, CancellationToken cancellationToken,
        int? maxRetries = null, string? outputFile = null)
    {
        var suffix = maxRetries is null ? " Its chunks are Pending again." : " Its chunks are Pending again (a retry counted), or Failed past the retry budget.";
        if (index.Jobs.EndWithoutResults(job.Id, status, reason + suffix, maxRetries: maxRetries, outputFile: outputFile))
        {
            await DeleteRemoteFilesAsync(job.Id, job.InputFile, outputFile, warnings, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A failure with a stable ErrorId: its own (or the Gemini API's mapping) when it has one, else <paramref name="errorId"/>.</summary>
    private static SemanticCoreException Known(Exception ex, string errorId, FailureKind kind, string context)
    {
        var known = ex as SemanticCoreException ?? (ex as GeminiApiException)?.ToSemanticCoreException();
        return known is not null
            ? new SemanticCoreException(known.ErrorId, known.Kind, $"{context}: {known.Message}", ex)
            : new SemanticCoreException(errorId, kind, $"{context}: {ex.Message}", ex);
    }

    /// <summary>A flush killed mid-way left its input spool behind (with the documents' text): it is not needed again.</summary>
    private static void DeleteSpoolQuietly(string jobId)
    {
        try
        {
            File.Delete(SpoolPath(jobId));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Still open elsewhere (a very slow upload on Windows): the next recovery removes it.
        }
    }

    /// <summary>
    /// Deletes an ended job's remote files (they count against the project's storage for 48 hours), then clears
    /// the job's mark; a failure keeps the mark, and the next flush or sync tries again. Without a recorded input
    /// name (a flush that died during its upload), the upload is found by its display name, the job id.
    /// </summary>
    private async Task<bool> DeleteRemoteFilesAsync(string jobId, string? inputFile, string? outputFile, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            if (inputFile is null) await service.DeleteUploadsAsync(jobId, cancellationToken).ConfigureAwait(false);
            else await service.DeleteFileAsync(inputFile, cancellationToken).ConfigureAwait(false);
            if (outputFile is not null) await service.DeleteFileAsync(outputFile, cancellationToken).ConfigureAwait(false);
            index.Jobs.MarkRemoteFilesDeleted(jobId);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            warnings.Add($"Batch job {jobId}: could not delete its remote files ({Describe(ex)}); the next flush or sync tries again.");
            return false;
        }
    }

    private static string Describe(Exception ex) => ex switch
    {
        GeminiApiException api => api.ToSemanticCoreException().Message,
        _ => ex.Message,
    };
}
