namespace SemanticCore.PowerShell;

/// <summary>Stable Write-Progress activity ids, one per kind of long work.</summary>
internal static class ProgressIds
{
    // Each command's id is followed by the id of its nested (child) activity.
    public const int Import = 0x5C10;
    public const int Flush = 0x5C20;
    public const int Sync = 0x5C30;
    public const int Copy = 0x5C40;
}
