using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Backup-SemanticIndex: consistent copies, taken while another process writes.</summary>
[Collection(ModuleCollection.Name)]
public sealed class BackupSemanticIndexTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private static void AssertConsistent(string copy)
    {
        Assert.Equal("ok", Db.Scalar<string>(copy, "PRAGMA integrity_check"));
        Assert.Equal(0L, Db.Scalar<long>(copy, "SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"));
        // The keyword index holds exactly the chunks of the copy: both come from one moment.
        Assert.Equal(Db.Scalar<long>(copy, "SELECT COUNT(*) FROM chunks"), Db.Scalar<long>(copy, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'text'"));
    }

    [Fact]
    public async Task A_backup_taken_while_another_process_imports_opens_as_an_index_and_is_consistent()
    {
        for (var i = 0; i < 150; i++) dir.Write($"kb/doc-{i:D3}.md", $"# Doc {i}\n\nSome text {i}.\n\n## More\n\nMore text {i}.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/doc-000.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        // One import command per file: a commit each, all the while the backups run.
        using var writer = HostProcess.Start(dir.Path, "-Command", "Get-ChildItem kb/*.md | ForEach-Object { Import-SemanticDocument $_.FullName -Database index.db -Mode Async | Out-Null }");
        var stderr = writer.StandardError.ReadToEndAsync();
        var copies = new List<(string Path, long Chunks)>();
        for (var i = 0; i < 3 && !writer.HasExited; i++)
        {
            var backup = ps.Run($"Backup-SemanticIndex backup-{i}.db -Database index.db").AssertNoErrors().Single();
            copies.Add((backup.Text("Path"), backup.Long("Chunks")));
        }

        Assert.True(writer.WaitForExit(TimeSpan.FromMinutes(2)), "the importing process did not finish");
        Assert.True(writer.ExitCode == 0, await stderr);
        Assert.NotEmpty(copies);
        foreach (var (path, chunks) in copies)
        {
            AssertConsistent(path);
            Invariants.AssertHold(path);
            Assert.Equal(chunks, Db.Scalar<long>(path, "SELECT COUNT(*) FROM chunks"));
            Assert.False(File.Exists(path + "-wal") && new FileInfo(path + "-wal").Length > 0);
            Assert.Equal("Pending", ps.Run($"Get-ChunkStatus -Database '{path}' -Summary").AssertNoErrors().Output[0].Text("Status"));
        }
    }

    [Fact]
    public void It_refuses_to_replace_a_file_without_Force_and_WhatIf_writes_nothing()
    {
        dir.Write("kb/a.md", "# A\n\nSome text.");
        dir.Write("taken.db", "someone's file");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        var refused = ps.Run("Backup-SemanticIndex taken.db -Database index.db");
        ps.Run("Backup-SemanticIndex new.db -Database index.db -WhatIf").AssertNoErrors();
        var same = ps.Run("Backup-SemanticIndex index.db -Database index.db");

        Assert.Equal("BackupDestinationExists", Assert.Single(refused.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("someone's file", File.ReadAllText(dir.Combine("taken.db")));
        Assert.False(File.Exists(dir.Combine("new.db")));
        Assert.Equal("BackupSameFile", Assert.Single(same.Errors).FullyQualifiedErrorId.Split(',')[0]);

        var replaced = ps.Run("Get-Item index.db | Backup-SemanticIndex taken.db -Force").AssertNoErrors().Single();
        Assert.Equal(1L, replaced.Long("Documents"));
        AssertConsistent(dir.Combine("taken.db"));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
    }

    [Theory]
    [InlineData("./backup/kb.db")]
    [InlineData("backups/2025/06/kb.db")]
    public void A_destination_in_folders_that_do_not_exist_yet_creates_them(string destination)
    {
        dir.Write("kb/a.md", "# A\n\nSome text.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        var backup = ps.Run($"Backup-SemanticIndex '{destination}' -Database index.db").AssertNoErrors().Single();

        Assert.Equal(System.IO.Path.GetFullPath(dir.Combine(destination)), backup.Text("Path"));
        Assert.Equal(1L, backup.Long("Documents"));
        AssertConsistent(backup.Text("Path"));
    }

    [Fact]
    public void A_destination_below_a_file_is_one_clear_error_naming_the_file_and_the_pipeline_goes_on()
    {
        dir.Write("kb/a.md", "# A\n\nSome text.");
        var file = dir.Write("notes.txt", "not a folder");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        var run = ps.Run("Backup-SemanticIndex notes.txt/backup/kb.db -Database index.db; 'next'");

        var error = Assert.Single(run.Errors);
        Assert.Equal("BackupFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(System.Management.Automation.ErrorCategory.WriteError, error.CategoryInfo.Category);
        Assert.Equal($"Could not back up to '{dir.Combine("notes.txt", "backup", "kb.db")}': '{file}' is a file, not a folder.", error.Exception.Message);
        Assert.DoesNotContain("SQLite", error.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        Assert.Equal("next", Assert.Single(run.Output).ToString());
        Assert.Equal("not a folder", File.ReadAllText(file));
    }

    public void Dispose() => dir.Dispose();
}
