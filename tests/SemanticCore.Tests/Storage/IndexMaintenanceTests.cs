using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Storage;

/// <summary>What an index's maintenance store reads for the health checks and writes as a backup copy.</summary>
public sealed class IndexMaintenanceTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-maintenance-").FullName;

    /// <summary>An index of two documents of one chunk each: one embedded, one Pending.</summary>
    private async Task<SemanticIndex> IndexOfTwoDocuments()
    {
        File.WriteAllText(Path.Combine(folder, "embedded.md"), "# Keys\n\nRotate the batch key monthly.");
        File.WriteAllText(Path.Combine(folder, "pending.txt"), "Restore drills run on a scratch server.");
        var index = SemanticIndex.Open(Path.Combine(folder, "index.db"), createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local));
        using var importer = new DocumentImporter(index);
        await importer.ImportAsync(Path.Combine(folder, "embedded.md"), new LocalEmbeddingProvider(index.Settings), CancellationToken.None);
        importer.Queue(Path.Combine(folder, "pending.txt"));
        importer.Commit();
        return index;
    }

    [Fact]
    public async Task A_healthy_index_reads_as_healthy_and_its_Pending_chunks_are_stale_only_past_the_cutoff()
    {
        using var index = await IndexOfTwoDocuments();
        var store = index.Maintenance;

        Assert.Empty(store.FailedChunkIds());
        Assert.Empty(store.ActiveJobIdsBefore(DateTimeOffset.UtcNow.AddDays(1)));
        Assert.Empty(store.PendingChunkIdsBefore(DateTimeOffset.UtcNow.AddDays(-1)));
        Assert.Single(store.PendingChunkIdsBefore(DateTimeOffset.UtcNow.AddDays(1)));
        Assert.Empty(store.FindKeywordIndexDrift().NotIndexed);
        Assert.Empty(store.FindKeywordIndexDrift().Orphaned);
        Assert.Empty(store.CheckIntegrity().Problems);
    }

    [Fact]
    public async Task A_copy_holds_the_whole_index_and_opens_as_an_index()
    {
        using var index = await IndexOfTwoDocuments();
        var copy = Path.Combine(folder, "copy.db");

        var counts = index.Maintenance.WriteCopy(copy);

        Assert.Equal((2L, 2L, 1L), (counts.Documents, counts.Chunks, counts.Vectors));
        Assert.False(File.Exists(copy + "-wal")); // a file on its own, whatever mode the index is in
        using var opened = SemanticIndex.Open(copy, createIfMissing: false);
        Assert.Equal(counts.SchemaVersion, opened.Migration.ToVersion);
        Assert.Equal(2, opened.Ranking.CountChunks());
    }

    [Fact]
    public async Task A_copy_that_cannot_be_created_is_an_IOException_naming_the_folder()
    {
        using var index = await IndexOfTwoDocuments();
        var missing = Path.Combine(folder, "missing");

        var error = Assert.Throws<IOException>(() => index.Maintenance.WriteCopy(Path.Combine(missing, "copy.db")));

        Assert.Equal($"no file can be created in '{missing}'.", error.Message);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
