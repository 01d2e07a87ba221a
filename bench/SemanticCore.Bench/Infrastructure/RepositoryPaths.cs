namespace SemanticCore.Bench.Infrastructure;

/// <summary>Paths inside the repository, found from where the bench runs (its bin folder is inside the repository).</summary>
internal static class RepositoryPaths
{
    public const string SolutionFile = "SemanticCore.PS.sln";

    /// <summary>The folder that holds <see cref="SolutionFile"/>, walking up from <see cref="AppContext.BaseDirectory"/>.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
            }

            throw new InvalidOperationException(
                $"No folder above '{AppContext.BaseDirectory}' holds {SolutionFile}: run the bench from its build output inside the repository.");
        }
    }

    public static string SearchQualityData => Path.Combine(Root, "bench", "data", "search-quality");
}

/// <summary>A fresh folder under the system temp folder, deleted on dispose unless kept.</summary>
internal sealed class TempFolder : IDisposable
{
    private readonly bool keep;

    public TempFolder(string purpose, bool keep)
    {
        this.keep = keep;
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"semanticcore-bench-{purpose}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        if (keep) return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still open (e.g. a child process that has not exited): the system temp cleaner will have it.
        }
    }
}
