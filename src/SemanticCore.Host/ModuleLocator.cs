namespace SemanticCore.Host;

/// <summary>Finds the module built in this repository and puts it on PSModulePath.</summary>
internal static class ModuleLocator
{
    private const string ModuleName = "SemanticCore.PS";

    /// <summary>The nearest out/SemanticCore.PS above the current directory, then above this program; null if not built.</summary>
    public static string? FindBuiltModule()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "out", ModuleName);
                if (Directory.Exists(candidate)) return candidate;
            }
        }

        return null;
    }

    /// <summary>The current user's module folder as pwsh names it: Documents\PowerShell\Modules, else $XDG_DATA_HOME (or ~/.local/share)/powershell/Modules.</summary>
    public static string UserModulesFolder()
    {
        if (OperatingSystem.IsWindows()) return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.MyDocuments), "PowerShell", "Modules");
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(data)) data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "powershell", "Modules");
    }

    /// <summary>
    /// Puts a folder first in the process's PSModulePath. pwsh keeps the order of what it finds there when it
    /// adds its own folders at startup: a folder of its own that is missing goes first, one already listed stays.
    /// </summary>
    public static void PrependToPSModulePath(string folder)
    {
        var existing = Environment.GetEnvironmentVariable("PSModulePath") ?? "";
        var comparer = OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var entries = new[] { folder }.Concat(existing.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)).Distinct(comparer);
        Environment.SetEnvironmentVariable("PSModulePath", string.Join(Path.PathSeparator, entries));
    }
}
