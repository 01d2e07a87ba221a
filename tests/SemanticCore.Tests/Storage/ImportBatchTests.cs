using SemanticCore.Chunking;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.Tests.Storage;

/// <summary>The import's unit of work, on every backend: documents isolated from each other, visible only at the commit, reads that see its own writes.</summary>
public sealed class ImportBatchTests
{
    internal static List<ChunkDraft> Drafts(string text, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ChunkDraft(i, ChunkType.Text, null, $"{text} {i}", [], $"{text} {i}", $"{text}-{i}"))];

    /// <summary>A unit vector of the test index's dimension along axis <paramref name="axis"/>.</summary>
    internal static float[] Axis(int axis)
    {
        var vector = new float[StoreBackend.Settings.Dimensions];
        vector[axis] = 1;
        return vector;
    }

    /// <summary>Writes a new document with <paramref name="chunks"/> chunks; returns its id.</summary>
    internal static long WriteDocument(IDocumentWriter writer, string path, int chunks)
    {
        var now = Timestamps.Now();
        var id = writer.SaveDocument(null, path, "Title", "hash-" + path, "1", now);
        writer.AddChunks(id, Drafts(path, chunks), new Dictionary<string, float[]>(), now);
        return id;
    }

    /// <summary>Imports documents of <paramref name="chunks"/> chunks each in one batch; returns their ids.</summary>
    internal static List<long> Import(StoreSession session, int chunks, params string[] paths)
    {
        using var batch = session.Documents.BeginImport(stageNewChunks: false);
        var ids = paths.Select(path => batch.Write(path, writer => WriteDocument(writer, path, chunks))).ToList();
        batch.Commit();
        return ids;
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void A_document_whose_write_fails_is_rolled_back_alone_and_the_others_are_committed(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        using (var batch = index.Documents.BeginImport(stageNewChunks: true))
        {
            batch.Write("/docs/a.md", writer => WriteDocument(writer, "/docs/a.md", 2));
            var failure = Assert.Throws<InvalidOperationException>(() => batch.Write<long>("/docs/b.md", writer =>
            {
                WriteDocument(writer, "/docs/b.md", 3);
                throw new InvalidOperationException("planning failed after the writes");
            }));
            Assert.Equal("planning failed after the writes", failure.Message);
            batch.Write("/docs/c.md", writer => WriteDocument(writer, "/docs/c.md", 1));
            batch.Commit();
        }

        var documents = index.Documents.Find(new DocumentFilter()).ToList();
        Assert.Equal(["/docs/a.md", "/docs/c.md"], documents.Select(d => d.Path));
        Assert.Equal([2L, 1L], documents.Select(d => d.Chunks));
        Assert.Equal(3, index.Chunks.Find(new ChunkFilter()).Count());
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void A_staging_batch_reads_its_own_writes_and_nothing_is_visible_to_others_before_the_commit(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        using var other = store.Open();
        using var batch = index.Documents.BeginImport(stageNewChunks: true);
        var (id, counted) = batch.Write("/docs/a.md", writer =>
        {
            var written = WriteDocument(writer, "/docs/a.md", 3);
            return (written, writer.Counts(written));
        });

        Assert.Equal((3, 3), counted);
        Assert.Equal((3, 3), batch.Read("/docs/a.md", reads => reads.Counts(id)));
        Assert.Null(other.Documents.Find("/docs/a.md"));

        batch.Commit();

        Assert.Equal(id, other.Documents.Find("/docs/a.md")?.Id);
        Assert.Equal((3, 3), other.Documents.Counts(id));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void The_same_document_twice_in_a_staging_batch_sees_its_first_chunks(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        using var batch = index.Documents.BeginImport(stageNewChunks: true);
        var id = batch.Write("/docs/a.md", writer => WriteDocument(writer, "/docs/a.md", 2));

        var keys = batch.Read("/docs/a.md", reads => reads.ChunkKeys(id));

        Assert.Equal([0, 1], keys.Select(k => k.Ordinal));
        Assert.All(keys, k => Assert.True(k.Pending));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Disposing_a_batch_without_its_commit_stores_nothing(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        using (var batch = index.Documents.BeginImport(stageNewChunks: false))
        {
            batch.Write("/docs/a.md", writer => WriteDocument(writer, "/docs/a.md", 2));
        }

        Assert.Empty(index.Documents.Find(new DocumentFilter()));
        Assert.Empty(index.Chunks.Find(new ChunkFilter()));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void Staged_chunks_enter_in_write_order_and_chunks_with_a_vector_are_ready(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        using (var batch = index.Documents.BeginImport(stageNewChunks: true))
        {
            batch.Write("/docs/b.md", writer => WriteDocument(writer, "/docs/b.md", 2));
            batch.Write("/docs/a.md", writer => WriteDocument(writer, "/docs/a.md", 2));
            batch.Commit();
        }

        // Ids follow the order of the writes (b before a), though the listing is in path order.
        var staged = index.Chunks.Find(new ChunkFilter()).ToList();
        Assert.Equal(["/docs/a.md", "/docs/a.md", "/docs/b.md", "/docs/b.md"], staged.Select(c => c.DocumentPath));
        Assert.True(staged[2].Id < staged[0].Id);
        Assert.All(staged, c => Assert.Equal(EmbeddingStatus.Pending, c.State));

        var drafts = Drafts("/docs/c.md", 3);
        drafts[1] = drafts[1] with { Type = ChunkType.Code, Language = "powershell" };
        using (var batch = index.Documents.BeginImport(stageNewChunks: false))
        {
            batch.Write("/docs/c.md", writer =>
            {
                var now = Timestamps.Now();
                var id = writer.SaveDocument(null, "/docs/c.md", "C", "hash-c", "1", now);
                writer.AddChunks(id, drafts, new Dictionary<string, float[]> { [drafts[0].ContentHash] = Axis(0), [drafts[1].ContentHash] = Axis(1) }, now);
                return id;
            });
            batch.Commit();
        }

        var written = index.Chunks.Find(new ChunkFilter { DocumentPathMatches = path => path == "/docs/c.md" }).ToList();
        Assert.Equal([EmbeddingStatus.Ready, EmbeddingStatus.Ready, EmbeddingStatus.Pending], written.Select(c => c.State));
        Assert.Equal((ChunkType.Code, "powershell"), (written[1].Type, written[1].Language));
        Assert.Equal(2L, Convert.ToInt64(index.Sql("SELECT count(*) FROM chunk_vectors")));
    }

    [Theory, InlineData(StoreBackend.Sqlite), PostgresData]
    public void A_reimport_moves_kept_chunks_deletes_the_others_and_records_those_a_job_held(string backend)
    {
        using var store = new StoreBackend(backend);
        using var index = store.Open();
        var id = Import(index, 3, "/docs/a.md")[0];
        var chunks = index.Documents.ChunkKeys(id);
        ChunkStoreTests.HoldInJob(index, "job-1", chunks[0].Id);

        using (var batch = index.Documents.BeginImport(stageNewChunks: false))
        {
            batch.Write("/docs/a.md", writer =>
            {
                var now = Timestamps.Now();
                writer.SaveDocument(id, "/docs/a.md", "New title", "hash-2", "2", now);
                writer.DeleteChunks([chunks[0].Id, chunks[1].Id], now);
                writer.MoveChunks([(chunks[2].Id, 0)], now);
                return id;
            });
            batch.Commit();
        }

        var kept = Assert.Single(index.Documents.ChunkKeys(id));
        Assert.Equal((chunks[2].Id, 0), (kept.Id, kept.Ordinal));
        Assert.Equal(new StoredDocument(id, "hash-2", "2", "New title"), index.Documents.Find("/docs/a.md"));
        Assert.Equal(chunks[0].Id, Convert.ToInt64(index.Sql("SELECT chunk_id FROM batch_job_removed_chunks WHERE batch_job_id = 'job-1'")));
    }
}
