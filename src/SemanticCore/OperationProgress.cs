namespace SemanticCore;

/// <summary>Progress of long core work, for the cmdlets to show with Write-Progress.</summary>
/// <param name="Activity">What is being done ("Submitting batch job 3f2a…").</param>
/// <param name="Status">Where it is ("Uploading 12.0 of 48.5 MB").</param>
/// <param name="PercentComplete">0..100, or -1 when unknown.</param>
/// <param name="Child">True for a step inside the current item (shown under the command's own progress).</param>
public sealed record OperationProgress(string Activity, string Status, int PercentComplete = -1, bool Child = true)
{
    public static int Percent(long done, long total) => total <= 0 ? -1 : (int)Math.Clamp(done * 100 / total, 0, 100);
}
