namespace SemanticCore.Host;

/// <summary>Finds the built module and works out what goes on PSModulePath and what to import.</summary>
internal static class ModuleLocator
{
    public const string DefaultModuleName = "SemanticCore.PS";

    /// <summary>
    /// What to import before the script and which folders go on PSModulePath for it;
    /// null after reporting a missing -Module path.
    /// </summary>
    public static ModulePlan? Plan(HostOptions options, TextWriter messages)
    {
        var imports = new List<string>();
        var pathEntries = new List<string>();
        if (options.Modules.Count > 0)
        {
            foreach (var module in options.Modules)
            {
                var full = Path.GetFullPath(module);
                if (!File.Exists(full) && !Directory.Exists(full))
                {
                    messages.WriteLine($"SemanticCore.Host: the module path '{module}' does not exist.");
                    return null;
                }

                imports.Add(full);
                if (ModulePathEntry(full) is { } entry)
                {
                    pathEntries.Add(entry);
                }
            }
        }
        else if (FindDefault() is { } found)
        {
            pathEntries.Add(Path.GetDirectoryName(found)!);

            // By name, as a user would, so PSModulePath picks the version.
            imports.Add(DefaultModuleName);
        }
        else if (!options.NoModule)
        {
            messages.WriteLine(
                $"SemanticCore.Host: warning: out/{DefaultModuleName} was not found above {Environment.CurrentDirectory} "
                + $"or {AppContext.BaseDirectory}; running without the module.");
        }

        return new ModulePlan(options.NoModule ? [] : imports, pathEntries);
    }

    /// <summary>The nearest out/SemanticCore.PS above the current directory, then above this program.</summary>
    public static string? FindDefault()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "out", DefaultModuleName);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The folder that must be on PSModulePath for <c>Import-Module &lt;Name&gt;</c> to find a module
    /// given by path: the parent of "&lt;Name&gt;" in "&lt;Name&gt;[/&lt;version&gt;][/&lt;Name&gt;.psd1]".
    /// Null when the path is not laid out like that (it can still be imported by path).
    /// </summary>
    public static string? ModulePathEntry(string modulePath)
    {
        var full = Path.GetFullPath(modulePath);
        if (Directory.Exists(full))
        {
            return Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(full));
        }

        var name = Path.GetFileNameWithoutExtension(full);
        var dir = new DirectoryInfo(Path.GetDirectoryName(full)!);
        if (Version.TryParse(dir.Name, out _) && dir.Parent is not null)
        {
            dir = dir.Parent;
        }

        return string.Equals(dir.Name, name, StringComparison.OrdinalIgnoreCase) ? dir.Parent?.FullName : null;
    }

    /// <summary>Puts folders first in $env:PSModulePath (process-wide, where the engine reads it).</summary>
    public static void PrependToPSModulePath(IEnumerable<string> folders)
    {
        var existing = Environment.GetEnvironmentVariable("PSModulePath") ?? string.Empty;
        var entries = folders
            .Concat(existing.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            .Distinct(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        Environment.SetEnvironmentVariable("PSModulePath", string.Join(Path.PathSeparator, entries));
    }
}

/// <summary>Modules to import (names or paths) and folders to put first on PSModulePath.</summary>
internal sealed record ModulePlan(IReadOnlyList<string> Imports, IReadOnlyList<string> ModulePathEntries);
