using System.Data.Common;
using SemanticCore.Chunking;
using SemanticCore.Gemini;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>What a flush may send: when it is worth a job, and the limits of its jobs.</summary>
public sealed record FlushOptions
{
    /// <summary>Fewer Pending chunks submit nothing (unless <see cref="Force"/>).</summary>
    public long MinSize { get; init; } = 10;

    public bool Force { get; init; }

    /// <summary>Chunks per job.</summary>
    public long MaxBatchSize { get; init; } = 50_000;

    /// <summary>Estimated tokens per job: small enough for the service's per-job and queue caps on every tier users report.</summary>
    public long MaxJobTokens { get; init; } = 500_000;

    /// <summary>A queue budget to record in the index before the flush (0 removes the recorded one and what was learned); null keeps it.</summary>
    public long? QueueTokenLimit { get; init; }

    /// <summary>US dollars the command may spend at the batch price; null: no cap.</summary>
    public decimal? MaxCost { get; init; }
}

/// <summary>How <c>Invoke-BatchFlush -Wait</c> drains a backlog: the poll interval, the time limit, the retry budget of its syncs.</summary>
public sealed record DrainOptions(TimeSpan PollInterval, TimeSpan? Timeout, int MaxRetries);

public sealed partial class BatchManager
{
    /// <summary>What a flush would send and cost (<c>-WhatIf</c>), in jobs and rounds of the queue budget; reads only, needs no key.</summary>
    /// <param name="drain">Forecast the whole drain (<c>-Wait</c>), not only the first round.</param>
    public static BatchFlushEstimate Estimate(SemanticIndex index, FlushOptions options, bool drain)
    {
        var budget = BudgetFor(index, options);
        var (unfinishedJobs, inFlight) = index.Jobs.Unfinished();
        var forecast = new FlushForecast(LimitsFor(index, options, budget, spent: 0), unfinishedJobs, inFlight);
        foreach (var (_, text) in index.Jobs.PendingTexts()) forecast.Add(TokenEstimator.Estimate(text), JobPacker.LineBytes(text));
        forecast.Close();

        var skipped = forecast.Chunks < options.MinSize && !options.Force;
        var sent = skipped ? (Chunks: 0L, Jobs: 0, Tokens: 0L) : drain ? forecast.Drained : forecast.FirstRound;
        return new BatchFlushEstimate
        {
            Chunks = sent.Chunks,
            Jobs = sent.Jobs,
            EstimatedTokens = sent.Tokens,
            BatchCost = Pricing.Cost(index.Settings, sent.Tokens, batch: true),
            InteractiveCost = Pricing.Cost(index.Settings, sent.Tokens, batch: false),
            Rounds = skipped ? 0 : forecast.Rounds,
            HeldChunks = forecast.Chunks - sent.Chunks,
            HeldTokens = forecast.Tokens - sent.Tokens,
            TokensInFlight = inFlight,
            QueueTokenLimit = budget.QueueTokens,
            Model = index.Settings.Model,
            Note = skipped ? TooFewNote(forecast.Chunks, options.MinSize) : HeldNote(forecast, sent, budget, inFlight, options, drain),
            Database = index.DatabasePath,
        };
    }

    /// <summary>
    /// Sends the Pending chunks to jobs while the queue budget, the unfinished-job limit and the cost cap allow; the rest
    /// stays Pending, and the result says so once. A job the service refuses because its queue is full teaches the index's
    /// budget (<see cref="QueueBudget.AfterRefusal"/>) and ends the flush.
    /// </summary>
    public async Task<FlushResult> FlushAsync(FlushOptions options, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        RecordBudgetGiven(options);
        var round = await RoundAsync(options with { QueueTokenLimit = null }, spent: 0, progress, cancellationToken).ConfigureAwait(false);
        return new FlushResult(round.Jobs, round.Errors, round.Notes);
    }

    /// <summary>
    /// Drains the backlog (<c>Invoke-BatchFlush -Wait</c>): submits what the budget allows, waits for jobs to finish, stores
    /// their results as <see cref="SyncAsync"/> does, and submits more, until nothing is Pending or the time is up. Every
    /// step is one a flush or sync would take, so a drain stopped anywhere (Ctrl+C, a crash) resumes when run again.
    /// </summary>
    public async Task<FlushResult> DrainAsync(FlushOptions options, DrainOptions drain, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var touched = new List<string>();
        var errors = new List<SemanticCoreException>();
        var warnings = new List<string>();
        IReadOnlyList<string> held = [];
        var total = index.Jobs.CountClaimable() + index.Jobs.CountSubmitted();
        var failing = new HashSet<string>(StringComparer.Ordinal);
        decimal spent = 0;
        RecordBudgetGiven(options);
        // The budget given is recorded once: a later round must not undo what a refusal taught meanwhile.
        options = options with { QueueTokenLimit = null };
        for (var first = true; ; first = false)
        {
            // After the first round the backlog has been judged worth sending: its tail goes whatever its size.
            var round = await RoundAsync(first ? options : options with { Force = true }, spent, progress, cancellationToken).ConfigureAwait(false);
            spent += round.Spent;
            touched.AddRange(round.Jobs.Select(j => j.Id));
            errors.AddRange(round.Errors);
            held = round.Notes; // what the last round held back is what stays: said once, at the end
            if (first && round.TooFew) break;

            // A job whose sync failed (a rejected key, a denied project) is not waited for again: it would fail the same way.
            var active = index.Jobs.List([.. BatchJob.ActiveStatuses]).Where(j => !failing.Contains(j.Id)).ToList();
            var pending = index.Jobs.CountClaimable();
            // Nothing to wait for: go on (after a poll interval) only when a refusal taught a smaller job; anything else would fail again.
            if (active.Count == 0 && !(pending > 0 && round.RetryAtOnce)) break;

            if (drain.Timeout is { } limit && DateTimeOffset.UtcNow - started + drain.PollInterval > limit)
            {
                errors.Add(new SemanticCoreException("BatchDrainTimeout", FailureKind.OperationTimeout,
                    $"After {limit.TotalSeconds:0} s, {pending:N0} chunk(s) are still Pending and {active.Count} batch job(s) unfinished. " +
                    "Run Invoke-BatchFlush -Wait again to go on where this one stopped."));
                break;
            }

            var inFlight = index.Jobs.Unfinished().Tokens;
            var done = total - pending - index.Jobs.CountSubmitted();
            for (var left = (int)Math.Ceiling(drain.PollInterval.TotalSeconds); left > 0; left--)
            {
                progress?.Report(new OperationProgress("Draining the batch queue",
                    $"Stored {Math.Max(0, done):N0} of {total:N0} chunks; {inFlight:N0} tokens in flight in {active.Count} job(s); next check in {left} s",
                    OperationProgress.Percent(Math.Max(0, done), total), Child: false));
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(1, drain.PollInterval.TotalSeconds)), cancellationToken).ConfigureAwait(false);
            }

            foreach (var job in active)
            {
                try
                {
                    var synced = await SyncAsync(job.Id, drain.MaxRetries, progress, cancellationToken).ConfigureAwait(false);
                    warnings.AddRange(synced.Warnings);
                    touched.Add(job.Id);
                }
                catch (SemanticCoreException ex) when (ex.ErrorId == "BatchJobNotFound")
                {
                    // Dropped by another flush whose chunks were all removed meanwhile: nothing to sync.
                }
                catch (SemanticCoreException ex)
                {
                    errors.Add(ex);
                    failing.Add(job.Id);
                }
            }
        }

        var jobs = touched.Distinct(StringComparer.Ordinal).Select(id => index.Jobs.Find(id)).OfType<BatchJob>().OrderBy(j => j.CreatedAt).ToList();
        return new FlushResult(jobs, errors, [.. warnings, .. held]);
    }

    /// <summary>What one round of a flush did.</summary>
    /// <param name="TooFew">Fewer Pending chunks than -MinSize: nothing was tried.</param>
    /// <param name="RetryAtOnce">The service refused a job with nothing in flight, and the next, smaller one may be tried at once.</param>
    /// <param name="Spent">US dollars at the batch price of the jobs submitted.</param>
    private sealed record Round(List<BatchJob> Jobs, List<SemanticCoreException> Errors, List<string> Notes, bool TooFew, bool RetryAtOnce, decimal Spent);

    private async Task<Round> RoundAsync(FlushOptions options, decimal spent, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await RoundCoreAsync(options, spent, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            // Locked past the busy timeout, disk full: what was claimed stays recoverable (Created jobs have leases).
            throw new SemanticCoreException("DatabaseWriteFailed", FailureKind.ResourceUnavailable,
                $"The flush could not update the index '{index.DatabasePath}': {ex.Message}", ex);
        }
    }

    private async Task<Round> RoundCoreAsync(FlushOptions options, decimal spent, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var errors = new List<SemanticCoreException>();
        var notes = new List<string>();
        var recovered = await RecoverAsync(errors, progress, cancellationToken).ConfigureAwait(false);
        var jobs = recovered.Where(j => j.State == BatchJobStatus.Submitted).ToList();

        var claimable = index.Jobs.CountClaimable();
        if (claimable < options.MinSize && !options.Force)
        {
            notes.Add(TooFewNote(claimable, options.MinSize));
            return new Round(jobs, errors, notes, TooFew: true, RetryAtOnce: false, 0);
        }

        var budget = BudgetFor(index, options);
        var submitted = new List<BatchJob>();
        var retryAtOnce = false;
        decimal roundSpent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var jobId = Guid.NewGuid().ToString();
            var (chunks, tokens) = index.Jobs.CreateAndClaim(jobId, LimitsFor(index, options, budget, spent + roundSpent));
            if (chunks == 0) break;
            try
            {
                if (await SubmitAsync(jobId, progress, cancellationToken).ConfigureAwait(false) is not { } job) continue;
                submitted.Add(job);
                roundSpent += Pricing.Cost(index.Settings, job.EstimatedTokens, batch: true) ?? 0;
            }
            catch (SemanticCoreException ex) when (ex.ErrorId == QueueFullErrorId && !cancellationToken.IsCancellationRequested)
            {
                // With nothing in flight the job itself was too large: a smaller one (halved, learned) may go at once.
                errors.Add(ex);
                retryAtOnce = tokens > QueueBudget.SmallestLearnedJob && index.Jobs.Unfinished().Jobs == 0;
                break;
            }
            catch (SemanticCoreException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Stop at the first failure: its chunks are Pending again, and claiming them (or the rest) in this
                // run would fail the same way. The next flush tries again.
                errors.Add(ex);
                break;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        jobs.AddRange(submitted);
        var held = errors.Count == 0 ? HeldBack(options, budget, spent + roundSpent) : null;
        if (held is not null) notes.Add(held.Value.Note);
        if (errors.Count == 0 && submitted.Count > 0)
        {
            index.Jobs.UpdateBudget(recorded => recorded.AfterAcceptedRound(
                heldByQueue: held is { ByCost: false }, heldByJobSize: submitted.Count > 1 || held is not null, options.MaxJobTokens));
        }

        return new Round(jobs, errors, notes, TooFew: false, retryAtOnce, roundSpent);
    }

    /// <summary>Records the limit given on this command (<c>-QueueTokenLimit</c>) in the index; 0 forgets it, and what was learned.</summary>
    private void RecordBudgetGiven(FlushOptions options)
    {
        if (options.QueueTokenLimit is { } limit) index.Jobs.UpdateBudget(recorded => limit == 0 ? new QueueBudget() : recorded with { Limit = limit });
    }

    /// <summary>The index's budget, with the limit given on this command in place of the recorded one (0 forgets it, and what was learned).</summary>
    private static QueueBudget BudgetFor(SemanticIndex index, FlushOptions options) => options.QueueTokenLimit switch
    {
        null => index.Jobs.ReadBudget(),
        0 => new QueueBudget(),
        { } limit => index.Jobs.ReadBudget() with { Limit = limit },
    };

    private static ClaimLimits LimitsFor(SemanticIndex index, FlushOptions options, QueueBudget budget, decimal spent) =>
        new(options.MaxBatchSize, budget.JobTokens(options.MaxJobTokens), budget.QueueTokens,
            options.MaxCost is { } cap ? Pricing.TokensFor(index.Settings, Math.Max(0, cap - spent), batch: true) : null);

    /// <summary>What stays Pending after a round that met no failure, and why (once, with the numbers an admin needs); null when nothing does.</summary>
    private (string Note, bool ByCost)? HeldBack(FlushOptions options, QueueBudget budget, decimal spent)
    {
        long chunks = 0, tokens = 0;
        foreach (var (_, text) in index.Jobs.PendingTexts())
        {
            chunks++;
            tokens += TokenEstimator.Estimate(text);
        }

        if (chunks == 0) return null;
        var (jobs, inFlight) = index.Jobs.Unfinished();
        var rest = Pricing.Cost(index.Settings, tokens, batch: true);
        var byCost = options.MaxCost is { } cap && (rest is null || spent + rest > cap);
        var why = byCost
            ? rest is null
                ? $"the price of the model '{index.Settings.Model}' is unknown to this module, so -MaxCost {Pricing.Format(options.MaxCost!.Value)} cannot be kept"
                : $"-MaxCost {Pricing.Format(options.MaxCost!.Value)} would be passed ({Pricing.Format(spent)} sent by this command; the rest would cost {Pricing.Format(rest!.Value)})"
            : jobs >= ClaimLimits.MaxUnfinishedJobs
                ? $"the index has {jobs} unfinished batch jobs, the service's limit"
                : $"{inFlight:N0} estimated tokens are in flight in {jobs} unfinished job(s), and the queue budget is {budget.QueueTokens:N0}";
        return ($"{chunks:N0} chunk(s) ({tokens:N0} estimated tokens) stay Pending: {why}. " +
                (byCost ? "Raise -MaxCost to send them." : "Invoke-BatchFlush -Wait sends them as jobs finish, or run Invoke-BatchFlush again later."), byCost);
    }

    private static string? HeldNote(FlushForecast forecast, (long Chunks, int Jobs, long Tokens) sent, QueueBudget budget, long inFlight, FlushOptions options, bool drain)
    {
        var held = forecast.Chunks - sent.Chunks;
        if (held == 0) return null;
        if (forecast.HeldByCost > 0 && (drain || forecast.Rounds <= 1))
        {
            return $"{held:N0} chunk(s) ({forecast.Tokens - sent.Tokens:N0} estimated tokens) would stay Pending: sending them would pass -MaxCost {Pricing.Format(options.MaxCost!.Value)}.";
        }

        return $"The queue budget of {budget.QueueTokens:N0} tokens ({inFlight:N0} in flight now) lets this flush send {sent.Chunks:N0} of {forecast.Chunks:N0} chunk(s); " +
               $"the backlog needs {forecast.Rounds} round(s) of jobs: Invoke-BatchFlush -Wait sends them all as jobs finish.";
    }

    private const string QueueFullErrorId = "BatchQueueFull";

    /// <summary>A refused create: the job's chunks are Pending again (no retry counted), and the index's budget learns from it.</summary>
    private SemanticCoreException QueueFull(string jobId, long jobTokens)
    {
        index.Jobs.EndWithoutResults(jobId, BatchJobStatus.Failed,
            "The service refused the job: the project's batch queue is full. Its chunks are Pending again (no retry counted).");
        var (jobs, inFlight) = index.Jobs.Unfinished();
        var learned = index.Jobs.UpdateBudget(recorded => recorded.AfterRefusal(inFlight, jobTokens, DateTimeOffset.UtcNow));
        var lesson = learned switch
        {
            null => $"The service refuses even a job of {jobTokens:N0} tokens with nothing of this index in flight: check the project's batch quota and billing in AI Studio, and whether other indexes or programs fill its queue.",
            _ when inFlight > 0 => $"The index's queue budget is now {learned.QueueTokens:N0} tokens; more is sent as jobs finish (Invoke-BatchFlush -Wait, or the next flush).",
            _ => $"Jobs of this index are now at most {learned.JobTokens(long.MaxValue):N0} tokens.",
        };
        return new SemanticCoreException(QueueFullErrorId, FailureKind.QuotaExceeded,
            $"Batch job {jobId} ({jobTokens:N0} estimated tokens) was refused: the project's batch queue is full (the service's enqueued-token cap " +
            $"or its {ClaimLimits.MaxUnfinishedJobs} unfinished jobs). {inFlight:N0} estimated tokens are in flight in {jobs} unfinished job(s) of this index. " +
            $"Its chunks are Pending again, with no retry counted, and its upload is deleted. {lesson}");
    }

    private static string TooFewNote(long pending, long minSize) =>
        $"{pending} chunk(s) pending, fewer than -MinSize {minSize}: nothing was submitted. Use -Force to submit them anyway.";

    /// <summary>Where a flush writes a job's input before the upload; named by the job, so recovery finds a killed flush's file.</summary>
    private static string SpoolPath(string jobId) => Path.Combine(Path.GetTempPath(), $"semanticcore-{jobId}.jsonl");

    /// <summary>Uploads and creates a claimed job; null when an import removed all its chunks after the claim (nothing to send).</summary>
    private async Task<BatchJob?> SubmitAsync(string jobId, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        var activity = $"Submitting batch job {jobId}";
        var file = SpoolPath(jobId);
        string? inputFile = null;
        try
        {
            var (lines, tokens) = WriteInput(jobId, file, activity, progress);
            // The service refuses an input without requests; a job that never existed remotely can just go.
            if (lines == 0)
            {
                return index.Jobs.DiscardEmpty(jobId) ? null : throw new SemanticCoreException("BatchJobRecovered", FailureKind.InvalidOperation,
                    $"Batch job {jobId} was recovered by another process before its input was written; it was not created.");
            }

            index.Jobs.RecordInput(jobId, null, tokens);

            var size = new FileInfo(file).Length;
            var uploaded = new Progress<long>(bytes => progress?.Report(new OperationProgress(activity,
                $"Uploading {bytes / 1048576.0:N1} of {size / 1048576.0:N1} MB ({lines:N0} chunks)", OperationProgress.Percent(bytes, size))));
            try
            {
                inputFile = await service.UploadAsync(file, jobId, uploaded, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!service.UploadCertainlyFailed(ex) && ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // No remote job exists, but a file may: the last piece can reach the service with only its answer (and the
                // query that would confirm it) lost. Recovery, at the next flush or sync, deletes the files named by the job
                // id before it releases the chunks, so no upload is left that no job knows.
                index.Jobs.ExpireLease(jobId,
                    $"Uploading the batch input failed ({Describe(ex)}). Its chunks stay claimed until the next Invoke-BatchFlush or Sync-BatchJob " +
                    "has deleted any file the upload left, and then go back to Pending.", createAttempted: false);
                throw Known(ex, "BatchSubmitFailed", FailureKind.ConnectionError,
                    $"Batch job {jobId}: uploading the batch input failed; the next flush or sync releases its chunks");
            }
            catch (Exception ex)
            {
                // No remote job can exist yet: the chunks go back to Pending, even when the user stopped us.
                // Stopped by the user, the upload may have reached the service; refused by it, it made no file.
                var error = Release(jobId, "Uploading the batch input failed", ex, filesMayExist: ex is OperationCanceledException);
                if (ex is OperationCanceledException) throw;
                throw error;
            }

            index.Jobs.RecordInput(jobId, inputFile, tokens);
            if (!index.Jobs.RenewLease(jobId))
            {
                // Its lease ran out during a very long upload and another process released its chunks: never create it now.
                await DeleteRemoteFilesAsync(jobId, inputFile, null, [], CancellationToken.None).ConfigureAwait(false);
                throw new SemanticCoreException("BatchJobRecovered", FailureKind.InvalidOperation,
                    $"Batch job {jobId} was recovered by another process while it was being uploaded; it was not created.");
            }

            progress?.Report(new OperationProgress(activity, "Creating the remote job"));
            BatchOperation remote;
            try
            {
                remote = await service.CreateAsync(jobId, inputFile, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (service.IsQueueFull(ex))
            {
                // The job ends with its upload marked as left first: should the delete fail, the next flush or sync deletes it.
                var refused = QueueFull(jobId, tokens);
                await DeleteRemoteFilesAsync(jobId, inputFile, null, [], CancellationToken.None).ConfigureAwait(false);
                throw refused;
            }
            catch (Exception ex) when (service.CreateCertainlyFailed(ex) && ex is not OperationCanceledException)
            {
                var error = Release(jobId, "Creating the remote batch job failed", ex, filesMayExist: true);
                await DeleteRemoteFilesAsync(jobId, inputFile, null, [], CancellationToken.None).ConfigureAwait(false);
                throw error;
            }
            catch (Exception ex)
            {
                // It may exist: keep the claim, and let the next flush or sync look for it by its display name.
                var message = $"Creating the remote batch job may or may not have succeeded ({Describe(ex)}). " +
                              "Its chunks stay claimed; the next Invoke-BatchFlush or Sync-BatchJob adopts the job if it exists, or releases them.";
                index.Jobs.ExpireLease(jobId, message);
                if (ex is OperationCanceledException) throw;
                throw new SemanticCoreException("BatchSubmitUncertain", FailureKind.ConnectionError, $"Batch job {jobId}: {message}", ex);
            }

            index.Jobs.MarkSubmitted(jobId, remote.Name, inputFile);
            return index.Jobs.Find(jobId)!;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Release(jobId, "Writing the batch input failed", ex, filesMayExist: false);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Streams the job's chunks into a JSONL file: key = chunk id, the stored vector source, RETRIEVAL_DOCUMENT.</summary>
    private (long Lines, long Tokens) WriteInput(string jobId, string file, string activity, IProgress<OperationProgress>? progress)
    {
        // The documents' text: readable by this user only (the temp folder is shared).
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(file, options);
        var writer = new BatchInputWriter(stream, index.Settings.Dimensions);
        long tokens = 0;
        foreach (var (id, text) in index.Jobs.JobTexts(jobId))
        {
            writer.Write(id.ToString(System.Globalization.CultureInfo.InvariantCulture), text);
            tokens += TokenEstimator.Estimate(text);
            if (writer.LineCount % LinesPerProgress == 0) progress?.Report(new OperationProgress(activity, $"Writing the input: {writer.LineCount:N0} chunks"));
        }

        writer.Flush();
        return (writer.LineCount, tokens);
    }
}
