using SemanticCore.Chunking;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Storage;

/// <summary>The import's unit of work: documents isolated from each other, visible only at the commit, reads that see its own writes.</summary>
public sealed class ImportBatchTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-import-batch-").FullName;

    private string Database => Path.Combine(folder, "index.db");

    private SemanticIndex Open() => SemanticIndex.Open(Database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local));

    private static List<ChunkDraft> Drafts(string text, int count) =>
        [.. Enumerable.Range(0, count).Select(i => new ChunkDraft(i, ChunkType.Text, null, $"{text} {i}", [], $"{text} {i}", $"{text}-{i}"))];

    /// <summary>Writes a new document with <paramref name="chunks"/> chunks; returns its id.</summary>
    private static long WriteDocument(IDocumentWriter writer, string path, int chunks)
    {
        var now = Timestamps.Now();
        var id = writer.SaveDocument(null, path, "Title", "hash-" + path, "1", now);
        writer.AddChunks(id, Drafts(path, chunks), new Dictionary<string, float[]>(), now);
        return id;
    }

    [Fact]
    public void A_document_whose_write_fails_is_rolled_back_alone_and_the_others_are_committed()
    {
        using var index = Open();
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

    [Fact]
    public void A_staging_batch_reads_its_own_writes_and_nothing_is_visible_to_others_before_the_commit()
    {
        using var index = Open();
        using var other = Open();
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

    [Fact]
    public void The_same_document_twice_in_a_staging_batch_sees_its_first_chunks()
    {
        using var index = Open();
        using var batch = index.Documents.BeginImport(stageNewChunks: true);
        var id = batch.Write("/docs/a.md", writer => WriteDocument(writer, "/docs/a.md", 2));

        var keys = batch.Read("/docs/a.md", reads => reads.ChunkKeys(id));

        Assert.Equal([0, 1], keys.Select(k => k.Ordinal));
        Assert.All(keys, k => Assert.True(k.Pending));
    }

    [Fact]
    public void Disposing_a_batch_without_its_commit_stores_nothing()
    {
        using var index = Open();
        using (var batch = index.Documents.BeginImport(stageNewChunks: false))
        {
            batch.Write("/docs/a.md", writer => WriteDocument(writer, "/docs/a.md", 2));
        }

        Assert.Empty(index.Documents.Find(new DocumentFilter()));
        Assert.Empty(index.Chunks.Find(new ChunkFilter()));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
