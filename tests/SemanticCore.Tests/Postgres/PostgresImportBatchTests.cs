using SemanticCore.Storage;
using SemanticCore.Tests.Storage;

namespace SemanticCore.Tests.Postgres;

/// <summary>What only a server with many sessions can show of the import batch: two hosts importing the same new file.</summary>
public sealed class PostgresImportBatchTests
{
    [PostgresFact]
    public void Two_sessions_importing_the_same_new_path_store_one_document_and_the_loser_goes_on_with_its_others()
    {
        using var store = new StoreBackend("Postgres");
        using var first = store.Open();
        using var second = store.Open();
        using var winner = first.Documents.BeginImport(stageNewChunks: false);
        var id = winner.Write("/docs/a.md", writer => ImportBatchTests.WriteDocument(writer, "/docs/a.md", 2));

        var loserPid = Convert.ToInt32(second.Sql("SELECT pg_backend_pid()"));
        using var loser = second.Documents.BeginImport(stageNewChunks: false);
        var racing = Task.Run(() => Record.Exception(() => loser.Write("/docs/a.md", writer => ImportBatchTests.WriteDocument(writer, "/docs/a.md", 3))));
        // The loser's insert waits on the winner's uncommitted row; commit only once it does, so the two truly overlap.
        while (Convert.ToInt64(first.Sql("SELECT count(*) FROM pg_locks WHERE pid = @pid AND NOT granted", ("pid", loserPid))) == 0 && !racing.IsCompleted) Thread.Sleep(10);
        winner.Commit();

        var failure = Assert.IsType<SemanticCoreException>(racing.GetAwaiter().GetResult());
        Assert.Equal("DatabaseWriteFailed", failure.ErrorId);
        Assert.Contains("'/docs/a.md'", failure.Message);
        Assert.Contains("another session", failure.Message);
        loser.Write("/docs/b.md", writer => ImportBatchTests.WriteDocument(writer, "/docs/b.md", 1));
        loser.Commit();

        Assert.Equal(["/docs/a.md", "/docs/b.md"], second.Documents.Find(new DocumentFilter()).Select(d => d.Path));
        Assert.Equal((2, 2), second.Documents.Counts(id));
    }

    [PostgresFact]
    public void Vectors_are_stored_as_pgvector_values_with_the_index_model()
    {
        using var store = new StoreBackend("Postgres");
        using var index = store.Open();
        var drafts = ImportBatchTests.Drafts("/docs/a.md", 1);
        using (var batch = index.Documents.BeginImport(stageNewChunks: false))
        {
            batch.Write("/docs/a.md", writer =>
            {
                var now = Timestamps.Now();
                var id = writer.SaveDocument(null, "/docs/a.md", "A", "hash", "1", now);
                writer.AddChunks(id, drafts, new Dictionary<string, float[]> { [drafts[0].ContentHash] = [0.6f, 0.8f, .. new float[14]] }, now);
                return id;
            });
            batch.Commit();
        }

        Assert.Equal("[0.6,0.8,0,0,0,0,0,0,0,0,0,0,0,0,0,0] local-test 16", index.Sql("SELECT embedding::text || ' ' || model || ' ' || dimensions FROM chunk_vectors"));
    }
}
