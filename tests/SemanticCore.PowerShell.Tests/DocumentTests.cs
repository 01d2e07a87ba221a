using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Get-SemanticDocument and Remove-SemanticDocument through the engine.</summary>
[Collection(ModuleCollection.Name)]
public sealed class DocumentTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private PsSession Imported()
    {
        dir.Write("kb/alpha.md", "# Alpha\n\nQuartz alpha text.\n\n## Two\n\nMore alpha.\n\n## Three\n\nMost alpha.");
        dir.Write("kb/beta.md", "# Beta\n\nBeta text about zircon.");
        dir.Write("kb/gamma.txt", "Gamma text.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/* -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        return ps;
    }

    [Fact]
    public void Get_SemanticDocument_lists_documents_with_chunks_counted_per_status()
    {
        using var ps = Imported();
        Db.Execute(Database, "UPDATE chunks SET embedding_status = 'Failed', error_message = 'x' WHERE id = (SELECT MIN(id) FROM chunks WHERE document_id = 1)");

        var documents = ps.Run("Get-SemanticDocument -Database index.db").AssertNoErrors().Output;

        Assert.Equal(["alpha.md", "beta.md", "gamma.txt"], documents.Select(d => Path.GetFileName(d.Text("Path"))));
        var alpha = documents[0];
        Assert.Equal("SemanticCore.Model.SemanticDocument", alpha.TypeName());
        Assert.Equal("Alpha", alpha.Text("Title"));
        Assert.Equal(3L, alpha.Long("Chunks"));
        Assert.Equal(2L, alpha.Long("Pending"));
        Assert.Equal(1L, alpha.Long("Failed"));
        Assert.Equal(0L, alpha.Long("Ready"));
        Assert.True(alpha.Long("Bytes") > 20);
        Assert.Equal(64, alpha.Text("ContentHash").Length);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)alpha.Prop("ImportedAt")!).Kind);
        Assert.Equal(Database, alpha.Text("Database"));
    }

    [Fact]
    public void Get_SemanticDocument_filters_by_wildcard_id_pipeline_and_missing_source()
    {
        using var ps = Imported();
        File.Delete(dir.Combine("kb/beta.md"));

        Assert.Equal(2, ps.Run("Get-SemanticDocument *a.md -Database index.db").AssertNoErrors().Output.Count);
        Assert.Equal("Beta", ps.Run("Get-SemanticDocument -Id 2 -Database index.db").AssertNoErrors().Single().Text("Title"));
        Assert.Equal("gamma", ps.Run("Get-ChildItem kb/gamma.txt | Get-SemanticDocument -Database index.db").AssertNoErrors().Single().Text("Title"));
        Assert.Equal("Alpha", ps.Run("Search-SemanticIndex quartz -Database index.db -Mode Keyword | Get-SemanticDocument").AssertNoErrors().Single().Text("Title"));
        Assert.Equal("Beta", ps.Run("Get-SemanticDocument -Missing -Database index.db").AssertNoErrors().Single().Text("Title"));
    }

    [Fact]
    public void Remove_SemanticDocument_takes_the_documents_chunks_vectors_and_keyword_entries()
    {
        using var ps = Imported();
        ps.Run("Invoke-BatchFlush -Database index.db -Force | Sync-BatchJob").AssertNoErrors();
        Assert.Single(ps.Run("Search-SemanticIndex zircon -Database index.db -Mode Keyword").AssertNoErrors().Output);

        ps.Run("Get-SemanticDocument beta.md -Database index.db | Remove-SemanticDocument -Confirm:$false").AssertNoErrors();

        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents WHERE source_path LIKE '%beta.md'"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors WHERE chunk_id NOT IN (SELECT id FROM chunks)"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'zircon'"));
        Assert.Empty(ps.Run("Search-SemanticIndex zircon -Database index.db -Mode Keyword").AssertNoErrors().Output);
        Assert.Equal(2L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
        Invariants.AssertHold(Database);
    }

    [Fact]
    public void Remove_SemanticDocument_takes_import_results_hits_and_paths_and_reports_what_names_nothing()
    {
        using var ps = Imported();

        ps.Run("Import-SemanticDocument kb/gamma.txt -Database index.db | Remove-SemanticDocument -Confirm:$false").AssertNoErrors();
        ps.Run("Search-SemanticIndex quartz -Database index.db -Mode Keyword | Remove-SemanticDocument -Confirm:$false").AssertNoErrors();
        var run = ps.Run("'some text' | Remove-SemanticDocument -Database index.db -Confirm:$false");
        ps.Run("Remove-SemanticDocument -Path kb/b* -Database index.db -Confirm:$false").AssertNoErrors();

        Assert.Equal("InputObjectNotSupported", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks"));
    }

    [Fact]
    public void Remove_SemanticDocument_WhatIf_changes_no_byte()
    {
        using var ps = Imported();
        Db.Execute(Database, "PRAGMA wal_checkpoint(TRUNCATE)");
        var before = Db.FileState(Database);

        var run = ps.Run("Get-SemanticDocument -Database index.db | Remove-SemanticDocument -WhatIf").AssertNoErrors();

        Assert.Empty(run.Output);
        Assert.Equal(before, Db.FileState(Database));
    }

    [Fact]
    public async Task Removing_a_document_releases_its_chunks_from_an_active_job_and_the_sync_ends_clean()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        BatchTestKit.WriteCorpus(dir, "kb", documents: 3, sections: 4);
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Mode Async").AssertNoErrors();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys).AssertNoErrors().Single();
        var removedChunks = Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE document_id = 1");

        ps.Run("Get-SemanticDocument -Id 1 -Database index.db | Remove-SemanticDocument -Confirm:$false").AssertNoErrors();
        gemini.Server.Complete(Assert.Single(gemini.Server.Batches).Name);
        var synced = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(job.Text("Id"), synced.Text("Id"));
        Assert.Equal("Completed", synced.Text("Status"));
        Assert.Equal(removedChunks, synced.Long("Removed"));
        Assert.Equal(0L, synced.Long("UnknownKeys"));
        Assert.Equal(job.Long("Requests") - removedChunks, synced.Long("Succeeded"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Ready'"));
        Invariants.AssertHold(Database);
    }

    public void Dispose() => dir.Dispose();
}
