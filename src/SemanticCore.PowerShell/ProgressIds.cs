namespace SemanticCore.PowerShell;

/// <summary>Stable Write-Progress activity ids, one per kind of long work.</summary>
internal static class ProgressIds
{
    public const int Import = 0x5C01;
}
