using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>-WhatIf changes no byte of the index, for every cmdlet that changes state.</summary>
[Collection(ModuleCollection.Name)]
public sealed class WhatIfTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    [Theory]
    [InlineData("Import-SemanticDocument kb/b.md, kb/new.md -Database index.db -WhatIf")]
    [InlineData("Sync-SemanticFolder kb -Database index.db -WhatIf")]
    [InlineData("Get-SemanticDocument -Database index.db | Remove-SemanticDocument -WhatIf")]
    [InlineData("Remove-SemanticDocument -Path * -Database index.db -WhatIf")]
    [InlineData("Reset-ChunkStatus -Status Ready, Failed, Pending -Force -Database index.db -WhatIf")]
    [InlineData("Get-BatchJob -Database index.db -Active | Stop-BatchJob -WhatIf")]
    [InlineData("Invoke-BatchFlush -Database index.db -Force -WhatIf")]
    [InlineData("Sync-BatchJob -Database index.db -WhatIf")]
    [InlineData("Update-SemanticSchema -Database index.db -WhatIf")]
    [InlineData("Backup-SemanticIndex copy.db -Database index.db -WhatIf")]
    public void WhatIf_changes_no_byte_of_the_index(string command)
    {
        using var ps = IndexWithEveryState();
        var before = Db.FileState(Database);
        var spool = Directory.GetFiles(Database + ".batches").Order().ToList();

        ps.Run(command).AssertNoErrors();

        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal(spool, Directory.GetFiles(Database + ".batches").Order().ToList());
        Assert.False(File.Exists(dir.Combine("copy.db")));
    }

    [Theory]
    [InlineData("Import-SemanticDocument kb/b.md, kb/new.md -Database index.db -WhatIf")]
    [InlineData("Sync-SemanticFolder kb -Database index.db -WhatIf")]
    [InlineData("Remove-SemanticDocument -Path * -Database index.db -WhatIf")]
    [InlineData("Reset-ChunkStatus -Status Ready, Failed, Pending -Force -Database index.db -WhatIf")]
    [InlineData("Stop-BatchJob -Id $job -Database index.db -WhatIf")]
    [InlineData("Invoke-BatchFlush -Database index.db -Force -WhatIf")]
    [InlineData("Sync-BatchJob -Database index.db -WhatIf")]
    [InlineData("Update-SemanticSchema -Database index.db -WhatIf")]
    public void WhatIf_on_an_index_that_needs_a_schema_upgrade_forecasts_and_leaves_the_file_as_it_was(string command)
    {
        using var ps = IndexWithEveryState();
        // Back to version 3, in rollback-journal mode: an upgrade, or switching to WAL, would change the file.
        Db.Execute(Database, """
            DROP TRIGGER tr_chunks_leave_job; DROP TRIGGER tr_chunks_delete_from_job; DROP TABLE batch_job_former_chunks;
            ALTER TABLE batch_jobs DROP COLUMN remote_files_left; DELETE FROM schema_history WHERE version = 4;
            PRAGMA user_version = 3; PRAGMA journal_mode = DELETE;
            """);
        var job = Db.Scalar<string>(Database, "SELECT id FROM batch_jobs WHERE status IN ('Submitted', 'Running')");
        var before = Db.FileState(Database);

        var run = ps.Run($"{command} -Verbose", new Dictionary<string, object?> { ["job"] = job }).AssertNoErrors();

        Assert.Equal(before, Db.FileState(Database));
        Assert.False(File.Exists(Database + "-wal"));
        Assert.False(File.Exists(Database + "-journal"));
        Assert.Equal(3L, Db.Scalar<long>(Database, "PRAGMA user_version"));

        if (command.StartsWith("Update-SemanticSchema", StringComparison.Ordinal))
        {
            Assert.Contains("Add column batch_jobs.remote_files_left", (IEnumerable<string>)run.Single().Prop("Steps")!);
        }
        else
        {
            // The forecast ran against the upgraded copy: the same objects and queries as on a current index.
            Assert.Contains(run.Verbose, v => v.Contains("Schema v3 to v5, forecast against an upgraded temporary copy", StringComparison.Ordinal));
        }
    }

    /// <summary>An index with documents, vectors, an active job, a Pending and a Failed chunk, and a file gone from the folder.</summary>
    private PsSession IndexWithEveryState()
    {
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.");
        dir.Write("kb/b.md", "# B\n\nBeta.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        ps.Run("Invoke-BatchFlush -Database index.db -Force | Sync-BatchJob").AssertNoErrors();
        dir.Write("kb/b.md", "# B\n\nBeta, changed.");
        dir.Write("kb/new.md", "# New\n\nFresh.");
        ps.Run("Import-SemanticDocument kb/b.md -Database index.db -Mode Async; Invoke-BatchFlush -Database index.db -Force").AssertNoErrors();
        File.Delete(dir.Combine("kb/a.md"));
        Db.Execute(Database, "UPDATE chunks SET embedding_status = 'Failed' WHERE id = 1; PRAGMA wal_checkpoint(TRUNCATE);");
        return ps;
    }

    public void Dispose() => dir.Dispose();
}
