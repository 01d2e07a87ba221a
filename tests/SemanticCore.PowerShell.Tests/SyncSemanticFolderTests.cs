using System.Management.Automation;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Sync-SemanticFolder: the nightly mirror of a folder, and its -WhatIf forecast.</summary>
[Collection(ModuleCollection.Name)]
public sealed class SyncSemanticFolderTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private void WriteFolder()
    {
        dir.Write("kb/a.md", "# A\n\nAlpha.\n\n## Two\n\nMore alpha.");
        dir.Write("kb/sub/b.md", "# B\n\nBeta.");
        dir.Write("kb/notes.txt", "Notes.");
        dir.Write("kb/image.png", "not a document");
        dir.Write("kb/.hidden/secret.md", "# Hidden\n\nNot imported.");
    }

    private static IEnumerable<string> Describe(IEnumerable<PSObject> output) =>
        output.Where(o => o.TypeName() == "SemanticCore.Model.ImportResult")
            .Select(o => $"{Path.GetFileName(o.Text("Path"))} {o.Text("Status")} +{o.Long("Added")} -{o.Long("Removed")} ~{o.Long("EstimatedTokens")}");

    private static PSObject Summary(PsResult run) => run.Output.Single(o => o.TypeName() == "SemanticCore.Model.FolderSyncSummary");

    [Fact]
    public void A_first_mirror_imports_the_documents_recursively_and_its_forecast_wrote_nothing()
    {
        WriteFolder();
        using var ps = module.NewSession(dir.Path);

        var forecast = ps.Run("Sync-SemanticFolder kb -Database index.db -Provider Local -WhatIf").AssertNoErrors();
        Assert.False(File.Exists(Database));
        var run = ps.Run("Sync-SemanticFolder kb -Database index.db -Provider Local").AssertNoErrors();

        Assert.Equal(["a.md Added +2 -0", "notes.txt Added +1 -0", "b.md Added +1 -0"], Describe(run.Output).Select(d => d[..d.IndexOf(" ~")]));
        Assert.Equal(Describe(forecast.Output), Describe(run.Output));
        Assert.All(forecast.Output, o => Assert.True((bool)o.Prop("WhatIf")!));
        Assert.Equal(3L, Summary(run).Long("Added"));
        Assert.Equal(4L, Summary(run).Long("ChunksToEmbed"));
        Assert.Equal(Summary(forecast).Long("EstimatedTokens"), Summary(run).Long("EstimatedTokens"));
        Assert.Equal(3L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents WHERE source_path LIKE '%secret.md' OR source_path LIKE '%.png'"));
    }

    [Fact]
    public void A_later_mirror_updates_and_removes_exactly_what_changed_as_its_forecast_said()
    {
        WriteFolder();
        dir.Write("elsewhere/keep.md", "# Keep\n\nOutside the folder.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Sync-SemanticFolder kb -Database index.db -Provider Local").AssertNoErrors();
        ps.Run("Import-SemanticDocument elsewhere/keep.md -Database index.db -Mode Async").AssertNoErrors();
        File.Delete(dir.Combine("elsewhere/keep.md")); // gone, but not under the mirrored folder
        File.Delete(dir.Combine("kb/notes.txt"));
        File.AppendAllText(dir.Combine("kb/a.md"), "\n\n## Three\n\nNew section.");
        dir.Write("kb/sub/new.md", "# New\n\nFresh.");
        Db.Execute(Database, "PRAGMA wal_checkpoint(TRUNCATE)");
        var before = Db.FileState(Database);

        var forecast = ps.Run("Sync-SemanticFolder kb -Database index.db -WhatIf").AssertNoErrors();
        Assert.Equal(before, Db.FileState(Database));
        var run = ps.Run("Sync-SemanticFolder kb -Database index.db").AssertNoErrors();

        Assert.Equal(Describe(forecast.Output), Describe(run.Output));
        Assert.Equal(["a.md Updated +1 -0", "b.md Unchanged +0 -0", "new.md Added +1 -0", "notes.txt Removed +0 -1"],
            Describe(run.Output).Select(d => d[..d.IndexOf(" ~")]).Order());
        var summary = Summary(run);
        Assert.Equal((1L, 1L, 1L, 1L), (summary.Long("Added"), summary.Long("Updated"), summary.Long("Removed"), summary.Long("Unchanged")));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents WHERE source_path LIKE '%notes.txt'"));
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents WHERE source_path LIKE '%keep.md'"));
    }

    [Fact]
    public void Include_and_Exclude_choose_the_files_and_a_bad_file_fails_alone()
    {
        WriteFolder();
        dir.Write("kb/draft.md", "# Draft\n\nNot yet.");
        dir.Write("kb/empty.md", "");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Sync-SemanticFolder kb -Include *.md -Exclude draft* -Database index.db -Provider Local");

        Assert.Equal("EmptyFile", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(["a.md", "b.md"], Describe(run.Output).Select(d => d.Split(' ')[0]).Order());
        Assert.Equal(1L, Summary(run).Long("Failed"));
    }

    [Fact]
    public void A_path_that_is_not_a_folder_ends_the_command()
    {
        dir.Write("kb/a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var file = ps.Run("Sync-SemanticFolder kb/a.md -Database index.db -Provider Local");
        var missing = ps.Run("Sync-SemanticFolder nowhere -Database index.db -Provider Local");

        Assert.Equal("PathIsNotDirectory", file.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("PathNotFound", missing.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.False(File.Exists(Database));
    }

    [Fact]
    public void Import_SemanticDocument_WhatIf_forecasts_each_file_as_the_import_then_does()
    {
        WriteFolder();
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        File.AppendAllText(dir.Combine("kb/a.md"), "\n\n## Three\n\nNew section.");

        var forecast = ps.Run("Import-SemanticDocument kb/a.md, kb/notes.txt -Database index.db -Mode Async -WhatIf").AssertNoErrors();
        var run = ps.Run("Import-SemanticDocument kb/a.md, kb/notes.txt -Database index.db -Mode Async").AssertNoErrors();

        Assert.Equal(2, forecast.Output.Count);
        Assert.All(forecast.Output, o => Assert.True((bool)o.Prop("WhatIf")!));
        Assert.Equal(Describe(forecast.Output), Describe(run.Output));
        Assert.Equal(forecast.Output.Select(o => (o.Long("Chunks"), o.Long("Pending"), o.Long("Kept"))), run.Output.Select(o => (o.Long("Chunks"), o.Long("Pending"), o.Long("Kept"))));
    }

    public void Dispose() => dir.Dispose();
}
