using System.Globalization;
using System.Management.Automation;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Sends the Pending chunks of an index to one or more batch embedding jobs (half the interactive price).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "BatchFlush", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BatchJob))]
[OutputType(typeof(BatchFlushEstimate))]
public sealed class InvokeBatchFlushCommand : BatchCmdlet
{
    /// <summary>Fewer Pending chunks than this submits nothing (a batch job has a fixed overhead and takes hours).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MinSize { get; set; } = 10;

    /// <summary>Submits whatever is Pending, even fewer than -MinSize.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Chunks per job; a larger queue is split into several jobs.</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int MaxBatchSize { get; set; } = 50_000;

    protected override int ProgressId => ProgressIds.Flush;

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var estimate = BatchManager.Estimate(index, MinSize, Force, MaxBatchSize);
        var action = estimate.Note ?? string.Create(CultureInfo.InvariantCulture,
            $"Submit {estimate.Chunks:N0} chunk(s) in {estimate.Jobs} batch job(s), about {estimate.EstimatedTokens:N0} tokens: {Money(estimate.BatchCost)} at the batch price instead of {Money(estimate.InteractiveCost)} interactively");
        if (!ShouldProcess($"{action} (index '{index.DatabasePath}').", $"{action}?", "Invoke-BatchFlush", out var reason))
        {
            if (reason == ShouldProcessReason.WhatIf) WriteObject(estimate);
            return;
        }

        var service = BatchServiceFor(index);

        var result = Await(new BatchManager(index, service).FlushAsync(MinSize, Force, MaxBatchSize, Progress, Cancellation));
        CompleteProgress();
        foreach (var error in result.Errors) WriteError(Errors.FromIndex(error, index.DatabasePath, index.DatabasePath));
        if (result.Note is not null) WriteWarning(result.Note);
        foreach (var job in result.Jobs)
        {
            WriteVerbose($"Batch job {job.Id}: {job.Requests:N0} chunks, remote {job.RemoteName}.");
            WriteObject(job);
        }
    }

    private static string Money(decimal? amount) => amount is { } value ? value.ToString("$0.0000", CultureInfo.InvariantCulture) : "(price unknown)";
}
