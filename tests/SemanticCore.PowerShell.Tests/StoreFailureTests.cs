using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>SQLite's failures reach the user as documented ErrorIds, never as a raw provider exception.</summary>
[Collection(ModuleCollection.Name)]
public sealed class StoreFailureTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private PsSession Imported()
    {
        dir.Write("kb/a.md", "# A\n\nAlpha text.\n\n## B\n\nBeta text.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        return ps;
    }

    [Fact]
    public void A_truncated_index_is_IndexCorrupt_for_every_cmdlet_and_Update_SemanticSchema_goes_on_with_the_next()
    {
        using var ps = Imported();
        ps.Run("Import-SemanticDocument kb/a.md -Database other.db -Provider Local -Mode Async").AssertNoErrors();
        using (var file = new FileStream(Database, FileMode.Open)) file.SetLength(16384 * 2 + 100);

        foreach (var command in new[] { "Get-ChunkStatus", "Get-ChunkStatus -Summary", "Get-SemanticDocument", "Get-BatchJob", "Search-SemanticIndex alpha", "Test-SemanticIndex", "Import-SemanticDocument kb/a.md" })
        {
            var run = ps.Run($"{command} -Database index.db");
            var error = run.Terminating ?? Assert.Single(run.Errors);
            Assert.Equal("IndexCorrupt", error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("Restore", error.ErrorDetails.RecommendedAction, StringComparison.Ordinal);
        }

        var update = ps.Run("'index.db', 'other.db' | Update-SemanticSchema");
        Assert.Equal("IndexCorrupt", Assert.Single(update.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(dir.Combine("other.db"), update.Single().Text("Database"));
    }

    [Fact]
    public void A_damaged_page_fails_the_Integrity_rule_instead_of_the_whole_health_check()
    {
        using var ps = Imported();
        var bytes = File.ReadAllBytes(Database);
        new Random(7).NextBytes(bytes.AsSpan(16384 * 2, Math.Min(16384 * 3, bytes.Length - 16384 * 2)));
        File.WriteAllBytes(Database, bytes);

        var checks = ps.Run("Test-SemanticIndex index.db").AssertNoErrors().Output.ToDictionary(c => c.Text("Name"));

        Assert.False((bool)checks["Integrity"].Prop("Passed")!);
        Assert.Equal(7, checks.Count);
    }

    [Fact]
    public void A_device_is_not_an_index_and_nothing_is_written_beside_it_and_odd_wildcards_match_literally()
    {
        using var ps = Imported();

        if (!OperatingSystem.IsWindows())
        {
            var device = ps.Run("Get-ChunkStatus -Database /dev/null");
            Assert.Equal("NotADatabase", device.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
            Assert.False(File.Exists("/dev/null-journal"));
        }

        Assert.Empty(ps.Run("Get-ChunkStatus -Database index.db -DocumentPath 'a[b'").AssertNoErrors().Output);
        Assert.Empty(ps.Run("Get-SemanticDocument 'kb/a[b.md' -Database index.db").AssertNoErrors().Output);
    }

    public void Dispose() => dir.Dispose();
}
