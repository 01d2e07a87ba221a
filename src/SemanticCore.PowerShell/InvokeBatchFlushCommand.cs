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
public sealed class InvokeBatchFlushCommand : WaitingBatchCmdlet
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

    /// <summary>Estimated tokens per job; a larger queue is split into several jobs.</summary>
    [Parameter]
    [ValidateRange(1_000, long.MaxValue)]
    public long MaxJobTokens { get; set; } = 500_000;

    /// <summary>Estimated tokens the index's unfinished jobs may hold together; recorded in the index for later flushes (0 removes it).</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long QueueTokenLimit { get; set; }

    /// <summary>US dollars this command may spend, at the batch price; what would pass it stays Pending.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public decimal MaxCost { get; set; }

    protected override int ProgressId => ProgressIds.Flush;

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var options = new FlushOptions
        {
            MinSize = MinSize,
            Force = Force,
            MaxBatchSize = MaxBatchSize,
            MaxJobTokens = MaxJobTokens,
            QueueTokenLimit = MyInvocation.BoundParameters.ContainsKey(nameof(QueueTokenLimit)) ? QueueTokenLimit : null,
            MaxCost = MyInvocation.BoundParameters.ContainsKey(nameof(MaxCost)) ? MaxCost : null,
        };
        var estimate = BatchManager.Estimate(index, options, Wait);
        var rounds = Wait && estimate.Rounds > 1 ? string.Create(CultureInfo.InvariantCulture, $" over {estimate.Rounds} rounds") : "";
        var held = estimate.HeldChunks > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {estimate.HeldChunks:N0} chunk(s) stay Pending") : "";
        var action = estimate.Chunks == 0 && estimate.Note is { } why ? why : string.Create(CultureInfo.InvariantCulture,
            $"Submit {estimate.Chunks:N0} chunk(s) in {estimate.Jobs} batch job(s){rounds}, about {estimate.EstimatedTokens:N0} tokens: {Money.FormatOrUnknown(estimate.BatchCost)} at the batch price instead of {Money.FormatOrUnknown(estimate.InteractiveCost)} interactively{held}");
        if (!ShouldProcess($"{action} (index '{index.DatabasePath}').", $"{action}?", "Invoke-BatchFlush", out var reason))
        {
            if (reason == ShouldProcessReason.WhatIf) WriteObject(estimate);
            return;
        }

        var manager = new BatchManager(index, BatchServiceFor(index));
        var result = Await(Wait
            ? manager.DrainAsync(options, new DrainOptions(TimeSpan.FromSeconds(PollInterval), Timeout > 0 ? TimeSpan.FromSeconds(Timeout) : null, MaxRetries), Progress, Cancellation)
            : manager.FlushAsync(options, Progress, Cancellation));
        CompleteProgress();
        // Jobs and notes first: with -ErrorAction Stop the first error ends the command, and the jobs sent must not go unsaid.
        foreach (var job in result.Jobs)
        {
            WriteVerbose($"Batch job {job.Id}: {job.Requests:N0} chunks, remote {job.RemoteName}.");
            WriteObject(job);
        }

        foreach (var note in result.Notes) WriteWarning(note);
        foreach (var error in result.Errors) WriteError(Errors.FromIndex(error, index.DatabasePath, index.DatabasePath));
    }
}
