using System.Management.Automation;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Stops active batch jobs: cancels the remote job, keeps the results already produced, and puts the other chunks back to Pending.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "BatchJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IdSet)]
[OutputType(typeof(BatchJob))]
public sealed class StopBatchJobCommand : BatchCmdlet
{
    private const string IdSet = "Id";
    private const string InputSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
    [Alias("BatchJobId")]
    [ArgumentCompleter(typeof(BatchJobIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    /// <summary>Jobs (their Id) or job ids as strings, from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>Retry budget for the failed lines of results that are stored (as Sync-BatchJob).</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int MaxRetries { get; set; } = 3;

    protected override int ProgressId => ProgressIds.Sync;

    protected override void OnProcessRecord()
    {
        var ids = ParameterSetName == IdSet ? Id : JobIdOf(InputObject!);
        if (ids is null) return;
        var index = OpenIndex(createIfMissing: false);
        BatchManager? manager = null;
        foreach (var id in ids)
        {
            if (!ShouldProcess($"batch job {id} of '{index.DatabasePath}'", "Stop (cancel the remote job; its unfinished chunks go back to Pending)")) continue;
            manager ??= new BatchManager(index, BatchServiceFor(index));
            try
            {
                var result = Await(manager.StopAsync(id, MaxRetries, Progress, Cancellation));
                foreach (var warning in result.Warnings) WriteWarning(warning);
                WriteObject(result.Job);
            }
            catch (SemanticCoreException ex)
            {
                WriteError(Errors.FromIndex(ex, index.DatabasePath, id));
            }
        }

        CompleteProgress();
    }

    private string[]? JobIdOf(PSObject input)
    {
        switch (input.BaseObject)
        {
            case BatchJob job: return [job.Id];
            case string text: return [text];
            default:
                WriteInputNotSupported(input, "job", "batch jobs (Get-BatchJob) or job ids");
                return null;
        }
    }
}
