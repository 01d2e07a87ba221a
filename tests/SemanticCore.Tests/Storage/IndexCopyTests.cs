using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Storage;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.Tests.Storage;

/// <summary>A copy reads its source as of one moment, whatever another session writes meanwhile.</summary>
public sealed class IndexCopyTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-copy-").FullName;

    private string Source(string backend) => backend == StoreBackend.Sqlite ? Path.Combine(folder, "source.db") : PostgresFactAttribute.NewIndex();

    private async Task Import(string database, string name, string text)
    {
        File.WriteAllText(Path.Combine(folder, name), text);
        using var index = SemanticIndex.Open(database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local));
        using var importer = new DocumentImporter(index);
        await importer.ImportAsync(Path.Combine(folder, name), new LocalEmbeddingProvider(index.Settings), CancellationToken.None);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [PostgresData]
    public async Task A_copy_holds_the_source_as_it_was_when_the_copy_began_while_another_session_imports(string backend)
    {
        var source = Source(backend);
        await Import(source, "keys.md", "# Keys\n\nRotate the batch key monthly.\n\n## Drills\n\nRestore drills run quarterly.");
        using var index = SemanticIndex.Open(source, createIfMissing: false);
        var before = index.Ranking.CountChunks();
        var imported = false;

        var copy = IndexCopy.Run(index, Path.Combine(folder, "copy.db"), (_, _) =>
        {
            if (imported) return;
            imported = true;
            Import(source, "later.md", "# Later\n\nWritten while the copy reads.").GetAwaiter().GetResult();
        });

        Assert.True(imported);
        Assert.Equal((1L, before), (copy.Documents, copy.Chunks));
        using var copied = SemanticIndex.Open(copy.Destination, createIfMissing: false);
        Assert.Equal(before, copied.Ranking.CountChunks());
        Assert.Single(copied.Documents.Find(new DocumentFilter()));
        Assert.Empty(copied.Maintenance.CheckIntegrity().Problems);
        using var after = SemanticIndex.Open(source, createIfMissing: false);
        Assert.Equal(2, after.Documents.Find(new DocumentFilter()).Count());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
