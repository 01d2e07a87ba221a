namespace SemanticCore.Storage;

/// <summary>Which documents <c>Get-SemanticDocument</c> returns; every criterion given must hold.</summary>
public sealed record DocumentFilter
{
    /// <summary>Keeps documents whose full path matches (PowerShell wildcards are matched by the caller).</summary>
    public Func<string, bool>? PathMatches { get; init; }
    public IReadOnlyCollection<long>? Ids { get; init; }
    /// <summary>Keeps documents whose source file no longer exists.</summary>
    public bool Missing { get; init; }

    /// <summary>Whether a document at this full path passes the path and missing-file criteria (a store checks <see cref="Ids"/> itself).</summary>
    internal bool Keeps(string path) => (PathMatches is not { } matches || matches(path)) && (!Missing || SourceIsGone(path));

    /// <summary>
    /// Gone, not merely out of sight: the nearest folder above it that exists can be listed, and its listing
    /// lacks the next step down. A file behind a folder this account can't read is not gone (its document
    /// and paid vectors must not be removed because of a permission change).
    /// </summary>
    private static bool SourceIsGone(string path)
    {
        if (File.Exists(path)) return false;
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        try
        {
            var child = path;
            for (var folder = Path.GetDirectoryName(path); folder is not null; child = folder, folder = Path.GetDirectoryName(folder))
            {
                if (!Directory.Exists(folder)) continue;
                var name = Path.GetFileName(child);
                return !Directory.EnumerateFileSystemEntries(folder).Any(entry => string.Equals(Path.GetFileName(entry), name, comparison));
            }

            return true;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }
}
