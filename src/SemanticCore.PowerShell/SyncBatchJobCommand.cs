using System.Diagnostics;
using System.Management.Automation;
using SemanticCore.Batches;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Brings batch jobs up to date: stores the vectors of finished jobs, records per-chunk failures, retries what can be retried.</para>
/// </summary>
[Cmdlet(VerbsData.Sync, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = IdSet)]
[OutputType(typeof(BatchJob))]
public sealed class SyncBatchJobCommand : WaitingBatchCmdlet
{
    private const string IdSet = "Id";
    private const string InputSet = "InputObject";

    private readonly Dictionary<string, (SemanticIndex Index, List<string>? Ids)> requests = new(StringComparer.Ordinal);

    /// <summary>The jobs to sync. Default: every active job of the index.</summary>
    [Parameter(Position = 0, ParameterSetName = IdSet)]
    [Alias("BatchJobId")]
    [ArgumentCompleter(typeof(BatchJobIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    /// <summary>Jobs (their Id), job ids as strings, or objects that name a job in BatchJobId (chunks), from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    public PSObject? InputObject { get; set; }

    protected override int ProgressId => ProgressIds.Sync;

    /// <summary>Collects the jobs per index; the work happens at the end, so -Wait polls them all together.</summary>
    protected override void OnProcessRecord()
    {
        var ids = ParameterSetName == InputSet ? BatchJobInput.IdsOf(InputObject!) : Id;
        if (ParameterSetName == InputSet && ids is null)
        {
            WriteInputNotSupported(InputObject!, "job", BatchJobInput.Accepted);
            return;
        }

        var index = OpenIndex(createIfMissing: false);
        if (!requests.TryGetValue(index.DatabasePath, out var request)) request = (index, ids is null ? null : []);
        if (ids is null) request = (index, null);          // "all active" wins over a list
        else request.Ids?.AddRange(ids);
        requests[index.DatabasePath] = request;
    }

    protected override void OnEndProcessing()
    {
        foreach (var (index, ids) in requests.Values) Sync(index, ids);
        CompleteProgress();
    }

    private void Sync(SemanticIndex index, List<string>? ids)
    {
        var waiting = ids?.Distinct(StringComparer.Ordinal).ToList() ?? index.Jobs.List([.. BatchJob.ActiveStatuses]).Select(j => j.Id).ToList();
        var target = ids is null ? $"all {waiting.Count} active batch job(s) of '{index.DatabasePath}'" : $"batch job(s) {string.Join(", ", waiting)} of '{index.DatabasePath}'";
        if (!ShouldProcess(target, "Sync")) return;

        var manager = new BatchManager(index, BatchServiceFor(index));
        var recoveryErrors = new List<SemanticCoreException>();
        Await(manager.RecoverAsync(recoveryErrors, Progress, Cancellation));
        foreach (var error in recoveryErrors) WriteError(Errors.FromIndex(error, index.DatabasePath, index.DatabasePath));

        var clock = Stopwatch.StartNew();
        while (true)
        {
            var stillActive = new List<BatchJob>();
            foreach (var jobId in waiting)
            {
                if (SyncOne(manager, index, jobId, named: ids is not null) is not { } job) continue;
                if (job.IsActive && Wait) stillActive.Add(job);
                else WriteObject(job);
            }

            if (stillActive.Count == 0) return;
            if (Timeout > 0 && clock.Elapsed.TotalSeconds + PollInterval > Timeout)
            {
                foreach (var job in stillActive)
                {
                    WriteError(Errors.Create("BatchJobWaitTimeout", ErrorCategory.OperationTimeout,
                        $"Batch job {job.Id} is still {job.Status} after {Timeout} s; run Sync-BatchJob again later.", job.Id));
                    WriteObject(job);
                }

                return;
            }

            // A countdown, a second at a time: the screen shows what each job is doing and when the next check comes.
            var doing = string.Join(", ", stillActive.Select(j => $"{j.Id[..Math.Min(8, j.Id.Length)]} {j.Status} ({j.Requests:N0} chunks)"));
            for (var left = PollInterval; left > 0; left--)
            {
                Progress.Report(new OperationProgress("Waiting for batch jobs", $"{doing}; next check in {left} s", -1, Child: false));
                Await(Task.Delay(TimeSpan.FromSeconds(1), Cancellation));
            }

            waiting = stillActive.Select(j => j.Id).ToList();
        }
    }

    private BatchJob? SyncOne(BatchManager manager, SemanticIndex index, string jobId, bool named)
    {
        try
        {
            var result = Await(manager.SyncAsync(jobId, MaxRetries, Progress, Cancellation));
            foreach (var warning in result.Warnings) WriteWarning(warning);
            return result.Job;
        }
        catch (SemanticCoreException ex) when (!named && ex.ErrorId == "BatchJobNotFound")
        {
            // Listed a moment ago, then dropped by a flush whose chunks were all removed meanwhile: nothing to sync.
        }
        catch (SemanticCoreException ex) when (ex.ErrorId != "DatabaseUnavailable")
        {
            // A lost server connection ends the command (it stops as a terminating error): the next jobs cannot be stored either.
            WriteError(Errors.FromIndex(ex, index.DatabasePath, jobId));
        }

        return null;
    }
}
