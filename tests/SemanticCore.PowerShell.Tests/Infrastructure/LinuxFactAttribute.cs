namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>A fact about Linux itself (its /proc files): skipped on other systems.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "Linux only: it reads /proc.";
    }
}
