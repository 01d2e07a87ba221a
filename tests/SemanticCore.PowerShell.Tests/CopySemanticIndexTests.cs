using System.Management.Automation;
using SemanticCore.PowerShell.Tests.Infrastructure;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Copy-SemanticIndex between SQLite and PostgreSQL, and Backup-SemanticIndex of a PostgreSQL index.</summary>
[Collection(ModuleCollection.Name)]
public sealed class CopySemanticIndexTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    /// <summary>Each chunk as the cmdlets show it, with everything a copy keeps.</summary>
    private static List<string> Chunks(PsSession ps, string database) =>
        [.. ps.Run($"Get-ChunkStatus -Database $Db", new Dictionary<string, object?> { ["Db"] = database }).AssertNoErrors().Output
            .Select(c => string.Join("|", c.Text("Id"), c.Text("DocumentPath"), c.Text("Ordinal"), c.Text("Status"), c.Text("BatchJobId"),
                c.Text("RetryCount"), c.Text("ErrorMessage"), c.Text("Preview")))];

    private static List<string> Jobs(PsSession ps, string database) =>
        [.. ps.Run("Get-BatchJob -Database $Db", new Dictionary<string, object?> { ["Db"] = database }).AssertNoErrors().Output
            .Select(j => string.Join("|", j.Text("Id"), j.Text("Status"), j.Text("RequestCount"), j.Text("SucceededCount"), j.Text("RemoteName")))];

    private static List<long> SemanticHits(PsSession ps, string database) =>
        [.. ps.Run("Search-SemanticIndex 'rotate the key' -Mode Semantic -Top 5 -Database $Db -ApiKey $ApiKey",
                new Dictionary<string, object?>(GeminiFake.KeyVariables()) { ["Db"] = database })
            .AssertNoErrors().Output.Select(h => h.Long("ChunkId"))];

    /// <summary>Each vector's chunk id and its bytes, in hex: equal lists are equal bit for bit.</summary>
    private static List<string> Vectors(string file) =>
        [.. Db.Rows(file, "SELECT chunk_id, vector FROM chunk_vectors ORDER BY chunk_id").Select(r => $"{r[0]}:{Convert.ToHexString((byte[])r[1]!)}")];

    [PostgresFact]
    public async Task An_index_goes_to_PostgreSQL_and_back_unchanged_and_a_copied_Submitted_job_syncs_without_embedding_again()
    {
        await using var gemini = await GeminiFake.StartAsync();
        var keys = GeminiFake.KeyVariables();
        BatchTestKit.WriteCorpus(dir, "ready", documents: 2, sections: 3, "ready");
        BatchTestKit.WriteCorpus(dir, "submitted", documents: 1, sections: 2, "submitted");
        BatchTestKit.WriteCorpus(dir, "pending", documents: 1, sections: 2, "pending");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument ready/*.md -Database index.db -Mode Async").AssertNoErrors();
        ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey | Sync-BatchJob -Database index.db -Wait -BatchApiKey $BatchKey", keys).AssertNoErrors();
        gemini.Server.AutoComplete = false;
        ps.Run("Import-SemanticDocument submitted/*.md -Database index.db -Mode Async").AssertNoErrors();
        var submitted = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        ps.Run("Import-SemanticDocument pending/*.md -Database index.db -Mode Async").AssertNoErrors();
        Db.Execute(Database, "UPDATE chunks SET embedding_status = 'Failed', error_message = '400 INVALID_ARGUMENT: too long', retry_count = 3 WHERE id = (SELECT min(id) FROM chunks)");
        var chunks = Chunks(ps, Database);
        Assert.Equal(["Failed", "Pending", "Ready", "Submitted"], chunks.Select(c => c.Split('|')[3]).Distinct().Order());
        var batches = gemini.Server.Batches.Count;
        var postgres = PostgresFactAttribute.NewIndex();
        var vars = new Dictionary<string, object?> { ["Pg"] = postgres };

        var there = ps.Run("Copy-SemanticIndex -Database index.db -Destination $Pg", vars).AssertNoErrors().Single();
        var back = ps.Run("Copy-SemanticIndex -Database $Pg -Destination back.db", vars).AssertNoErrors().Single();

        Assert.Equal((4L, (long)chunks.Count, 2L), (there.Long("Documents"), there.Long("Chunks"), there.Long("Jobs")));
        Assert.DoesNotContain("Password", there.Text("Destination"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(there.Long("Vectors"), back.Long("Vectors"));
        Assert.Equal(chunks, Chunks(ps, postgres));
        Assert.Equal(chunks, Chunks(ps, dir.Combine("back.db")));
        Assert.Equal(Jobs(ps, Database), Jobs(ps, postgres));
        Assert.Equal(Jobs(ps, Database), Jobs(ps, dir.Combine("back.db")));
        Assert.Equal(Vectors(Database), Vectors(dir.Combine("back.db")));
        Assert.Equal(SemanticHits(ps, Database), SemanticHits(ps, postgres));
        Assert.Equal(SemanticHits(ps, Database), SemanticHits(ps, dir.Combine("back.db")));

        // The copy that went there and back syncs the job (a sync deletes the remote files, so only one copy can).
        gemini.Server.Complete(submitted.Text("RemoteName"));
        var copy = dir.Combine("back.db");
        var synced = ps.Run("Sync-BatchJob $Id -Database $Db -Wait -BatchApiKey $BatchKey", new Dictionary<string, object?>(keys) { ["Id"] = submitted.Text("Id"), ["Db"] = copy })
            .AssertNoErrors().Single();
        Assert.Equal("Completed", synced.Text("Status"));
        var statuses = Chunks(ps, copy).Select(c => c.Split('|')[3]).ToList();
        Assert.DoesNotContain("Submitted", statuses);
        Assert.Equal(chunks.Count(c => c.Split('|')[3] == "Pending"), statuses.Count(s => s == "Pending"));
        Assert.Equal(batches, gemini.Server.Batches.Count);
    }

    [Fact]
    public void A_destination_that_holds_documents_is_refused_and_left_as_it_was()
    {
        dir.Write("kb/a.md", "# A\n\nSome text.");
        dir.Write("kb/b.md", "# B\n\nOther text.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Sync").AssertNoErrors();
        ps.Run("Import-SemanticDocument kb/b.md -Database other.db -Provider Local -Mode Async").AssertNoErrors();
        var before = Db.FileState(dir.Combine("other.db"));

        var refused = ps.Run("Copy-SemanticIndex -Database index.db -Destination other.db");
        var forecast = ps.Run("Copy-SemanticIndex -Database index.db -Destination new.db -WhatIf");

        BatchTestKit.AssertErrors(refused, "CopyDestinationNotEmpty", ErrorCategory.ResourceExists, 1);
        Assert.Empty(refused.Output);
        Assert.Equal(before, Db.FileState(dir.Combine("other.db")));
        Assert.Empty(forecast.AssertNoErrors().Output);
        Assert.False(File.Exists(dir.Combine("new.db")));
    }

    [PostgresFact]
    public void A_backup_of_a_PostgreSQL_index_opens_as_an_SQLite_index_with_the_same_counts()
    {
        for (var i = 0; i < 3; i++) dir.Write($"kb/doc-{i}.md", $"# Doc {i}\n\nSome text {i}.\n\n## More\n\nMore text {i}.");
        using var ps = module.NewSession(dir.Path);
        var vars = new Dictionary<string, object?> { ["Pg"] = PostgresFactAttribute.NewIndex() };
        ps.Run("Import-SemanticDocument kb/doc-0.md, kb/doc-1.md -Database $Pg -Provider Local -Mode Sync", vars).AssertNoErrors();
        ps.Run("Import-SemanticDocument kb/doc-2.md -Database $Pg -Mode Async", vars).AssertNoErrors();

        var backup = ps.Run("Backup-SemanticIndex backup.db -Database $Pg", vars).AssertNoErrors().Single();

        var summary = ps.Run("Get-ChunkStatus -Database backup.db -Summary").AssertNoErrors().Output.ToDictionary(r => r.Text("Status"), r => r.Long("Chunks"));
        Assert.Equal((3L, 6L, 4L), (backup.Long("Documents"), backup.Long("Chunks"), backup.Long("Vectors")));
        Assert.Equal((4L, 2L, 6L), (summary["Ready"], summary["Pending"], summary["Total"]));
        Assert.Equal(3, ps.Run("Get-SemanticDocument -Database backup.db").AssertNoErrors().Output.Count);
        Invariants.AssertHold(dir.Combine("backup.db"));
    }

    public void Dispose() => dir.Dispose();
}
