namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>Every ErrorId the help documents: the first column of the error tables (headed "| ErrorId |") in docs/en-US.</summary>
public static class DocumentedErrorIds
{
    private static readonly Lazy<HashSet<string>> All = new(Read);

    public static bool Contains(string errorId) => All.Value.Contains(errorId);

    private static HashSet<string> Read()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var page in Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "docs", "en-US"), "*.md"))
        {
            var lines = File.ReadAllLines(page);
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].StartsWith("| ErrorId |", StringComparison.Ordinal)) continue;
                // A row may document several ids at once: "| PathNotFound, PathIsNotDirectory | ...".
                ids.UnionWith(lines.Skip(i + 2).TakeWhile(l => l.StartsWith('|')).SelectMany(l => l.Split('|')[1].Split(',', StringSplitOptions.TrimEntries)));
            }
        }

        Assert.Contains("GeminiUnavailable", ids);
        return ids;
    }
}
