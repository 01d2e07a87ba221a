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
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.");
        dir.Write("kb/b.md", "# B\n\nBeta.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        ps.Run("Invoke-BatchFlush -Database index.db -Force | Sync-BatchJob").AssertNoErrors();
        dir.Write("kb/b.md", "# B\n\nBeta, changed.");
        dir.Write("kb/new.md", "# New\n\nFresh.");
        ps.Run("Import-SemanticDocument kb/b.md -Database index.db -Mode Async; Invoke-BatchFlush -Database index.db -Force").AssertNoErrors();
        File.Delete(dir.Combine("kb/a.md"));
        Db.Execute(Database, "UPDATE chunks SET embedding_status = 'Failed' WHERE id = 1; PRAGMA wal_checkpoint(TRUNCATE);");
        var before = Db.FileState(Database);
        var spool = Directory.GetFiles(Database + ".batches").Order().ToList();

        ps.Run(command).AssertNoErrors();

        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal(spool, Directory.GetFiles(Database + ".batches").Order().ToList());
        Assert.False(File.Exists(dir.Combine("copy.db")));
    }

    public void Dispose() => dir.Dispose();
}
