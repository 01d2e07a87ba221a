using System.Runtime.Loader;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

[Collection(ModuleCollection.Name)]
public sealed class ModuleLoadingTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    [Fact]
    public void Module_exports_its_cmdlets()
    {
        using var ps = module.NewSession(dir.Path);
        var names = ps.Run("(Get-Command -Module SemanticCore.PS).Name").AssertNoErrors().Output.Select(o => o.ToString()).ToHashSet();

        Assert.Superset(new HashSet<string> { "Import-SemanticDocument", "Get-ChunkStatus", "Update-SemanticSchema" }, names);
    }

    [Fact]
    public void Dependencies_load_in_the_modules_own_context_next_to_other_versions_of_them()
    {
        using var ps = module.NewSession(dir.Path);
        // Use the module's SQLite and Markdig for real (import = parse Markdown + write SQLite).
        dir.Write("a.md", "# A\n\nSome text.");
        ps.Run("Import-SemanticDocument a.md -Database idx.db -Provider Local -Mode Async").AssertNoErrors();

        var loaded = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name is "Markdig" or "Markdig.Signed" or "Microsoft.Data.Sqlite" or "SemanticCore")
            .Select(a => (Name: a.GetName().Name!, Version: a.GetName().Version!, Context: AssemblyLoadContext.GetLoadContext(a)!.Name))
            .ToList();

        // pwsh's own Markdown renderer loads Markdig.Signed (the same namespaces and types); the module brings Markdig.
        Assert.Contains(loaded, a => a is { Name: "Markdig.Signed", Context: "Default" });
        Assert.Contains(loaded, a => a is { Name: "Markdig", Context: "SemanticCore.PS" } && a.Version.Major >= 1);
        Assert.DoesNotContain(loaded, a => a is { Name: "Markdig", Context: "Default" });
        Assert.Contains(loaded, a => a is { Name: "Microsoft.Data.Sqlite", Context: "Default" } && a.Version.Major == 8);
        Assert.Contains(loaded, a => a is { Name: "Microsoft.Data.Sqlite", Context: "SemanticCore.PS" } && a.Version.Major >= 10);
        Assert.Contains(loaded, a => a is { Name: "SemanticCore", Context: "SemanticCore.PS" });
        Assert.DoesNotContain(loaded, a => a is { Name: "SemanticCore", Context: "Default" });
    }

    [Fact]
    public void Layout_ships_native_sqlite_for_every_supported_platform_and_no_engine_assemblies()
    {
        var version = Path.GetDirectoryName(module.ManifestPath)!;
        foreach (var native in new[]
                 {
                     "linux-x64/native/libe_sqlite3.so", "linux-arm64/native/libe_sqlite3.so", "osx-x64/native/libe_sqlite3.dylib",
                     "osx-arm64/native/libe_sqlite3.dylib", "win-x64/native/e_sqlite3.dll",
                 })
        {
            Assert.True(File.Exists(Path.Combine(version, "dependencies", "runtimes", native)), native);
        }

        var shipped = Directory.GetFiles(version, "*.dll", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.DoesNotContain("System.Management.Automation.dll", shipped);
        Assert.DoesNotContain(shipped, f => f!.StartsWith("System.Text.Json", StringComparison.Ordinal));
        Assert.Equal(["SemanticCore.PowerShell.Loader.dll", "SemanticCore.PowerShell.dll"], Directory.GetFiles(version, "*.dll").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    public void Dispose() => dir.Dispose();
}
