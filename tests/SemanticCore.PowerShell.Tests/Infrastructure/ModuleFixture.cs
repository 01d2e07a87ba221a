using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// The built module (out/SemanticCore.PS/&lt;version&gt;), imported into runspaces of this process the way
/// pwsh imports it, on the full engine of pwsh 7.6 (Microsoft.PowerShell.SDK). Before the first import
/// this process loads its OWN builds of two of the module's dependencies (the SDK's Markdig.Signed, as
/// pwsh does, and Microsoft.Data.Sqlite 8): every hosted test therefore also proves the module's
/// dependency isolation.
/// </summary>
public sealed class ModuleFixture
{
    public ModuleFixture()
    {
        PreloadConflictingDependencies();
        ManifestPath = FindManifest();
        SessionState = InitialSessionState.CreateDefault2();
        SessionState.ImportPSModule([ManifestPath]);
        // Tests own their environment: nothing from the developer's session may leak in.
        foreach (var variable in new[] { "SEMANTICCORE_DATABASE", "SEMANTICCORE_GEMINI_ENDPOINT", "SEMANTICCORE_GEMINI_TIMEOUT", "SEMANTICCORE_GEMINI_RETRY_DELAY", "SEMANTICCORE_GEMINI_TPM", "SEMANTICCORE_GEMINI_TPM_WINDOW", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BATCH_API_KEY" })
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    public string ManifestPath { get; }
    public InitialSessionState SessionState { get; }

    public static string RepoRoot { get; } = FindRepoRoot();

    public PsSession NewSession(string workingDirectory) => new(SessionState, workingDirectory);

    private static void PreloadConflictingDependencies()
    {
        _ = Markdig.Markdown.ToHtml("*loaded*");
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        connection.Open();
    }

    private static string FindManifest()
    {
        var moduleRoot = Path.Combine(RepoRoot, "out", "SemanticCore.PS");
        var manifests = Directory.Exists(moduleRoot)
            ? Directory.GetFiles(moduleRoot, "SemanticCore.PS.psd1", SearchOption.AllDirectories)
            : [];
        return manifests.Length == 1
            ? manifests[0]
            : throw new InvalidOperationException($"Expected one built module under {moduleRoot}, found {manifests.Length}. Build src/SemanticCore.PowerShell first.");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SemanticCore.PS.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("Cannot find the repository root (SemanticCore.PS.sln) above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class ModuleCollection : ICollectionFixture<ModuleFixture>
{
    public const string Name = "Module";
}
