using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.Tests.Storage;

/// <summary>The chunk store's contract on every backend: its filters and order, the status summary, and a requeue that changes each chunk once.</summary>
public sealed class ChunkStoreTests
{
    /// <summary>Puts chunks in an active job, Submitted, as a flush leaves them.</summary>
    internal static void HoldInJob(StoreSession session, string jobId, params long[] chunkIds)
    {
        session.Sql("""
            INSERT INTO batch_jobs (id, status, provider, model, dimensions, created_at, updated_at)
            VALUES (@id, 'Submitted', 'Local', 'local-test', 16, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')
            """, ("id", jobId));
        foreach (var id in chunkIds) session.Sql("UPDATE chunks SET embedding_status = 'Submitted', batch_job_id = @job WHERE id = @id", ("job", jobId), ("id", id));
    }

    private static void SetStatus(StoreSession session, string status, params long[] chunkIds)
    {
        foreach (var id in chunkIds) session.Sql("UPDATE chunks SET embedding_status = @status, error_message = 'boom', retry_count = 2 WHERE id = @id", ("status", status), ("id", id));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Find_filters_and_orders_by_path_ordinal_and_id_and_the_summary_counts_every_status(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        var ids = ImportBatchTests.Import(index, 2, "/docs/b.md", "/docs/B.md", "/docs/a.md");
        var b = index.Documents.ChunkKeys(ids[0]);
        SetStatus(index, "Failed", b[1].Id);
        HoldInJob(index, "job-1", b[0].Id);

        // Byte order: upper case before lower case, whatever the database's collation.
        Assert.Equal(["/docs/B.md", "/docs/B.md", "/docs/a.md", "/docs/a.md", "/docs/b.md", "/docs/b.md"], index.Chunks.Find(new ChunkFilter()).Select(c => c.DocumentPath));
        var failed = Assert.Single(index.Chunks.Find(new ChunkFilter { Statuses = [EmbeddingStatus.Failed] }));
        Assert.Equal((b[1].Id, "boom", 2, "/docs/b.md 1"), (failed.Id, failed.ErrorMessage, failed.RetryCount, failed.Preview));
        Assert.Equal(b[0].Id, Assert.Single(index.Chunks.Find(new ChunkFilter { BatchJobId = "job-1" })).Id);
        Assert.Equal(2, index.Chunks.Find(new ChunkFilter { DocumentIds = [ids[2]], First = 5 }).Count());
        Assert.Single(index.Chunks.Find(new ChunkFilter { DocumentPathMatches = p => p.EndsWith("a.md", StringComparison.Ordinal), First = 1 }));
        Assert.Empty(index.Chunks.Find(new ChunkFilter { DocumentPathMatches = _ => false }));
        Assert.All(index.Chunks.Find(new ChunkFilter()), c => Assert.Equal(DateTimeKind.Utc, c.UpdatedAt?.Kind));

        var summary = index.Chunks.Summarize(new ChunkFilter { DocumentIds = [ids[0], ids[2]] });
        Assert.Equal(
            [("Pending", 2L, 1L), ("Submitted", 1L, 1L), ("Ready", 0L, 0L), ("Failed", 1L, 1L), ("Total", 4L, 2L)],
            summary.Select(s => (s.Status, s.Chunks, s.Documents)));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Requeue_takes_failed_chunks_and_with_force_ready_ones_without_their_vector_but_never_submitted_ones(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        var keys = index.Documents.ChunkKeys(ImportBatchTests.Import(index, 4, "/docs/a.md")[0]);
        SetStatus(index, "Failed", keys[0].Id);
        SetStatus(index, "Ready", keys[1].Id);
        index.Sql("INSERT INTO chunk_vectors (chunk_id, model, dimensions, " + (backend == StoreBackend.Sqlite ? "vector" : "embedding")
            + ", created_at) SELECT id, 'm', 16, @vector, updated_at FROM chunks WHERE id = @id",
            ("id", (object)keys[1].Id), ("vector", backend == StoreBackend.Sqlite ? Vectors.ToBlob(ImportBatchTests.Axis(0)) : new Pgvector.Vector(ImportBatchTests.Axis(0))));
        HoldInJob(index, "job-1", keys[2].Id);
        var all = keys.Select(k => k.Id).ToList();

        Assert.Equal([keys[0].Id], index.Chunks.Requeue(all, force: false));
        SetStatus(index, "Failed", keys[0].Id);
        Assert.Equal([keys[0].Id, keys[1].Id, keys[3].Id], index.Chunks.Requeue(all, force: true).Order());

        var chunks = index.Chunks.Find(new ChunkFilter()).ToList();
        Assert.Equal([EmbeddingStatus.Pending, EmbeddingStatus.Pending, EmbeddingStatus.Submitted, EmbeddingStatus.Pending], chunks.Select(c => c.State));
        Assert.Equal((0, null), (chunks[0].RetryCount, chunks[0].ErrorMessage));
        Assert.Equal(0L, Convert.ToInt64(index.Sql("SELECT count(*) FROM chunk_vectors")));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Sessions_requeueing_the_same_chunks_at_once_requeue_each_chunk_once(string backend)
    {
        using var store = new StoreBackend(backend);
        var sessions = Enumerable.Range(0, 4).Select(_ => store.Open()).ToList();
        try
        {
            var keys = sessions[0].Documents.ChunkKeys(ImportBatchTests.Import(sessions[0], 50, "/docs/a.md")[0]);
            var ids = keys.Select(k => k.Id).ToArray();
            SetStatus(sessions[0], "Failed", ids);
            using var start = new Barrier(sessions.Count);

            var requeued = sessions.AsParallel().WithDegreeOfParallelism(sessions.Count).Select(session =>
            {
                start.SignalAndWait();
                return session.Chunks.Requeue(ids, force: false);
            }).ToList();

            Assert.Equal(ids.Order(), requeued.SelectMany(r => r).Order());
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }
}
