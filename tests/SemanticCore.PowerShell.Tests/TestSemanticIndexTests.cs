using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Test-SemanticIndex and Get-SemanticKeyring: each rule passes on a healthy index and fails on what it is about.</summary>
[Collection(ModuleCollection.Name)]
public sealed class TestSemanticIndexTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private static readonly string[] Rules = ["FailedChunks", "StalePending", "LongRunningJobs", "MissingSources", "KeywordIndex", "Integrity", "Keys"];

    private PsSession Imported()
    {
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.\n\n## C\n\nThree.");
        dir.Write("kb/b.md", "# B\n\nBeta.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        return ps;
    }

    [Fact]
    public void A_healthy_index_passes_every_rule_and_the_check_writes_nothing()
    {
        using var ps = Imported();
        Db.Execute(Database, "PRAGMA wal_checkpoint(TRUNCATE)");
        var before = Db.FileState(Database);

        var checks = ps.Run("Test-SemanticIndex -Database index.db").AssertNoErrors().Output;

        Assert.Equal(Rules, checks.Select(c => c.Text("Name")));
        Assert.All(checks, c => Assert.True((bool)c.Prop("Passed")!, c.Text("Message")));
        Assert.Equal(before, Db.FileState(Database));
    }

    [Fact]
    public void Each_rule_fails_on_what_it_is_about_and_names_the_items()
    {
        using var ps = Imported();
        var ids = Db.Rows(Database, "SELECT id FROM chunks ORDER BY id").Select(r => (long)r[0]!).ToList();
        Db.Execute(Database, $"""
            UPDATE chunks SET embedding_status = 'Failed', error_message = 'x' WHERE id = {ids[0]};
            UPDATE chunks SET updated_at = '2020-01-01T00:00:00.000Z' WHERE id = {ids[1]};
            INSERT INTO batch_jobs (id, status, provider, model, dimensions, created_at, updated_at)
                VALUES ('old-job', 'Running', 'Local', 'local-feature-hash-v2', 768, '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z');
            DELETE FROM chunks_fts WHERE rowid = {ids[2]};
            """);
        File.Delete(dir.Combine("kb/b.md"));

        var failed = ps.Run("Test-SemanticIndex index.db | Where-Object { -not $_.Passed }").AssertNoErrors().Output.ToDictionary(c => c.Text("Name"));

        Assert.Equal(["FailedChunks", "StalePending", "LongRunningJobs", "MissingSources", "KeywordIndex"], failed.Keys);
        Assert.Equal([ids[0]], Items(failed["FailedChunks"]).Cast<long>());
        Assert.Equal([ids[1]], Items(failed["StalePending"]).Cast<long>());
        Assert.Equal(["old-job"], Items(failed["LongRunningJobs"]).Cast<string>());
        Assert.Equal([dir.Combine("kb/b.md")], Items(failed["MissingSources"]).Cast<string>());
        Assert.Equal([ids[2]], Items(failed["KeywordIndex"]).Cast<long>());
        Assert.All(failed.Values, c => Assert.Equal(Items(c).Count, c.Long("Count")));
    }

    [Fact]
    public void The_keys_rule_and_Get_SemanticKeyring_say_where_keys_come_from_never_what_they_are()
    {
        const string key = "AIzaSyTest-0123456789-abcdefghijk";
        dir.Write("kb/a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database gemini.db -Mode Async").AssertNoErrors();

        var without = ps.Run("Test-SemanticIndex gemini.db").AssertNoErrors().Output.Single(c => c.Text("Name") == "Keys");
        Assert.False((bool)without.Prop("Passed")!);
        Assert.Equal(["Default", "Batch"], Items(without).Cast<string>());

        using var _ = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", key));
        var run = ps.Run($"Set-SemanticKeyring -ApiKey (ConvertTo-SecureString '{key}' -AsPlainText -Force); Get-SemanticKeyring; Test-SemanticIndex gemini.db | Where-Object Name -eq Keys").AssertNoErrors();

        var (defaultKey, batchKey, check) = (run.Output[0], run.Output[1], run.Output[2]);
        Assert.Equal(("Default", "Session"), (defaultKey.Text("Kind"), defaultKey.Text("Source")));
        Assert.Equal(("Batch", "Environment", "GEMINI_BATCH_API_KEY"), (batchKey.Text("Kind"), batchKey.Text("Source"), batchKey.Text("EnvironmentVariable")));
        Assert.Matches("^sha256:[0-9a-f]{8}$", defaultKey.Text("Fingerprint"));
        Assert.Equal(defaultKey.Text("Fingerprint"), batchKey.Text("Fingerprint")); // the same key
        Assert.True((bool)check.Prop("Passed")!);
        Assert.DoesNotContain(key, run.AllText);
        Assert.DoesNotContain(key[..12], string.Join("\n", run.Output.Select(o => string.Join(" ", o.Properties.Select(p => p.Value)))));
    }

    private static List<object> Items(System.Management.Automation.PSObject check) =>
        ((object[])check.Prop("Items")!).Select(i => i is System.Management.Automation.PSObject p ? p.BaseObject : i).ToList();

    public void Dispose() => dir.Dispose();
}
