using System.Management.Automation;

namespace SemanticCore.PowerShell;

/// <summary>What the batch cmdlets that can wait for jobs share: -Wait, its poll interval and time limit, and the retry budget of their syncs.</summary>
public abstract class WaitingBatchCmdlet : BatchCmdlet
{
    /// <summary>Waits for the jobs to finish (each cmdlet's page says what it does meanwhile).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Seconds between polls with -Wait.</summary>
    [Parameter]
    [ValidateRange(1, 86_400)]
    public int PollInterval { get; set; } = 30;

    /// <summary>Seconds to wait at most with -Wait; 0 (the default) waits as long as it takes.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Timeout { get; set; }

    /// <summary>Retriable failures (429, 5xx, missing from the output) a chunk may have before it is Failed for good.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int MaxRetries { get; set; } = 3;
}
