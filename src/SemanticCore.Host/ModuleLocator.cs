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

    /// <summary>
    /// Puts a folder first in the process's PSModulePath. pwsh keeps it when it adds its own folders at
    /// startup (the user's module folder goes before it, as for any entry set in the environment).
    /// </summary>
    public static void PrependToPSModulePath(string folder)
    {
        var existing = Environment.GetEnvironmentVariable("PSModulePath") ?? "";
        var comparer = OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var entries = new[] { folder }.Concat(existing.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)).Distinct(comparer);
        Environment.SetEnvironmentVariable("PSModulePath", string.Join(Path.PathSeparator, entries));
    }
}
