using Microsoft.Data.Sqlite;
using SemanticCore.Batches;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Tests.Storage;

/// <summary>A batch job is billed exactly once, in the transaction that ends it, however many processes end it at once.</summary>
public sealed class SpendLedgerTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-spend-").FullName;

    private string Database => Path.Combine(folder, "index.db");

    /// <summary>An index with one Submitted job of <paramref name="chunks"/> chunks, all of them reported as succeeded.</summary>
    private string SubmittedJob(int chunks)
    {
        var file = Path.Combine(folder, "guide.md");
        File.WriteAllText(file, "# Guide\n\n" + string.Concat(Enumerable.Range(0, chunks).Select(i => $"## Part {i}\n\nParagraph {i} about keys.\n\n")));
        using var index = SemanticIndex.Open(Database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Gemini));
        using (var importer = new DocumentImporter(index))
        {
            importer.Queue(file);
            importer.Commit();
        }

        var jobId = Guid.NewGuid().ToString();
        index.Jobs.CreateAndClaim(jobId, new ClaimLimits(MaxChunks: 1_000, MaxJobTokens: long.MaxValue, QueueTokens: null, AffordableTokens: null));
        index.Jobs.RecordInput(jobId, "files/input", estimatedTokens: 1_000);
        index.Jobs.MarkSubmitted(jobId, "batches/1", "files/input");
        Sql.Execute(((SqliteConnection)index.Connection), "UPDATE batch_jobs SET succeeded_count = request_count, token_count = 4000 WHERE id = $id", ("$id", jobId));
        return jobId;
    }

    [Fact]
    public async Task Two_processes_finishing_the_same_job_at_once_bill_it_once()
    {
        var jobId = SubmittedJob(chunks: 20);
        using var first = SemanticIndex.Open(Database, createIfMissing: false);
        using var second = SemanticIndex.Open(Database, createIfMissing: false);
        using var start = new Barrier(2);
        var stats = new SyncStats(0, 0, 0, 1_000);

        bool Finish(SemanticIndex index)
        {
            start.SignalAndWait();
            return index.Jobs.Finish(jobId, null, "files/output", stats);
        }

        var finished = await Task.WhenAll(Task.Run(() => Finish(first)), Task.Run(() => Finish(second)));
        var endedAgain = first.Jobs.EndWithoutResults(jobId, BatchJobStatus.Cancelled, "Stopped.");

        Assert.Equal(1, finished.Count(f => f));
        Assert.False(endedAgain);
        var day = Assert.Single(first.Spend.Days(null, null));
        Assert.Equal(SpendKind.Batch, day.Kind);
        Assert.Equal(1, day.Calls);
        Assert.Equal(4000, day.Tokens);
        Assert.Equal(0.0003m, day.Cost);
        Assert.Equal(0.0006m, day.InteractiveCost);
    }

    [Fact]
    public void A_job_without_reported_tokens_that_ends_part_way_bills_its_estimate_for_the_chunks_that_got_a_vector()
    {
        var jobId = SubmittedJob(chunks: 10);
        using var index = SemanticIndex.Open(Database, createIfMissing: false);
        var requests = (long)Sql.Scalar(((SqliteConnection)index.Connection), "SELECT request_count FROM batch_jobs WHERE id = $id", ("$id", jobId))!;
        Sql.Execute(((SqliteConnection)index.Connection), "UPDATE batch_jobs SET succeeded_count = $half, token_count = 0 WHERE id = $id", ("$half", requests / 2), ("$id", jobId));

        Assert.True(index.Jobs.EndWithoutResults(jobId, BatchJobStatus.Cancelled, "The remote job ended Cancelled.", maxRetries: 3));

        var day = Assert.Single(index.Spend.Days(null, null));
        Assert.Equal((1_000 * (requests / 2) + requests - 1) / requests, day.Tokens);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
