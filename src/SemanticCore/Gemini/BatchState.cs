namespace SemanticCore.Gemini;

/// <summary>State of a remote batch job (BATCH_STATE_* or the SDKs' JOB_STATE_* spellings).</summary>
public enum BatchState
{
    Unknown,
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
}

internal static class BatchStates
{
    public static BatchState Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return BatchState.Unknown;
        var at = text.LastIndexOf("_STATE_", StringComparison.OrdinalIgnoreCase);
        var suffix = at >= 0 ? text[(at + "_STATE_".Length)..] : text;
        return suffix.ToUpperInvariant() switch
        {
            "PENDING" or "QUEUED" => BatchState.Pending,
            // Cancelling/updating/paused jobs are not over yet: keep polling.
            "RUNNING" or "CANCELLING" or "UPDATING" or "PAUSED" => BatchState.Running,
            "SUCCEEDED" or "PARTIALLY_SUCCEEDED" => BatchState.Succeeded,
            "FAILED" => BatchState.Failed,
            "CANCELLED" => BatchState.Cancelled,
            "EXPIRED" => BatchState.Expired,
            _ => BatchState.Unknown,
        };
    }
}
