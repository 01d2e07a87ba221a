using SemanticCore.Storage;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.Tests.Storage;

/// <summary>The document store's contract on every backend: its queries, and a removal that happens once and tells the jobs that held its chunks.</summary>
public sealed class DocumentStoreTests
{
    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Find_counts_chunks_per_status_in_path_order_and_keeps_the_ids_asked_for(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        var ids = ImportBatchTests.Import(index, 2, "/docs/é.md", "/docs/Z.md", "/docs/a.md");
        ChunkStoreTests.HoldInJob(index, "job-1", index.Documents.ChunkKeys(ids[2])[0].Id);

        var documents = index.Documents.Find(new DocumentFilter()).ToList();
        Assert.Equal(["/docs/Z.md", "/docs/a.md", "/docs/é.md"], documents.Select(d => d.Path));
        var a = documents[1];
        Assert.Equal((ids[2], "Title", "hash-/docs/a.md", 2L, 1L, 1L, 0L, 0L), (a.Id, a.Title, a.ContentHash, a.Chunks, a.Pending, a.Submitted, a.Ready, a.Failed));
        Assert.Equal("/docs/é.md 0/docs/é.md 1".Length + 2, documents[2].Bytes);
        Assert.Equal(DateTimeKind.Utc, a.ImportedAt.Kind);
        Assert.Equal([ids[0]], index.Documents.Find(new DocumentFilter { Ids = [ids[0]] }).Select(d => d.Id));
        Assert.Equal([ids[1]], index.Documents.MatchingIds(path => path.Contains('Z', StringComparison.Ordinal)));
        Assert.Equal((2, 1), index.Documents.Counts(ids[2]));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Removing_a_document_takes_its_chunks_and_records_those_an_active_job_held(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        var id = ImportBatchTests.Import(index, 3, "/docs/a.md")[0];
        var keys = index.Documents.ChunkKeys(id);
        ChunkStoreTests.HoldInJob(index, "job-1", keys[0].Id, keys[1].Id);

        Assert.Equal(new Model.DocumentRemoval(id, "/docs/a.md", 3, 2), index.Documents.Remove(id));

        Assert.Null(index.Documents.Remove(id));
        Assert.Empty(index.Chunks.Find(new ChunkFilter()));
        Assert.Equal(2L, Convert.ToInt64(index.Sql("SELECT count(*) FROM batch_job_removed_chunks WHERE batch_job_id = 'job-1'")));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Sessions_removing_the_same_document_at_once_remove_it_once(string backend)
    {
        using var store = new StoreBackend(backend);
        var sessions = Enumerable.Range(0, 4).Select(_ => store.Open()).ToList();
        try
        {
            var id = ImportBatchTests.Import(sessions[0], 20, "/docs/a.md")[0];
            using var start = new Barrier(sessions.Count);

            var removals = sessions.AsParallel().WithDegreeOfParallelism(sessions.Count).Select(session =>
            {
                start.SignalAndWait();
                return session.Documents.Remove(id);
            }).ToList();

            Assert.Equal(20, Assert.Single(removals, r => r is not null)!.Chunks);
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }
}
