using SemanticCore.Batches;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Storage;

/// <summary>
/// The batch job store's contract as every backend must keep it, read back through the store alone: a page of results
/// stored twice changes the job once, and the queue budget is kept in the index's setting values.
/// </summary>
public sealed class BatchJobStoreTests : IDisposable
{
    private const int Dimensions = 16;
    private const long NeverHeld = 99_999_999;
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-jobstore-").FullName;

    /// <summary>An index with one job that has claimed <paramref name="chunks"/> chunks; returns the job and its chunk ids.</summary>
    private (SemanticIndex Index, string JobId, List<long> Chunks) ClaimedJob(int chunks)
    {
        var file = Path.Combine(folder, "guide.md");
        File.WriteAllText(file, "# Guide\n\n" + string.Concat(Enumerable.Range(0, chunks).Select(i => $"## Part {i}\n\nParagraph {i} about keys.\n\n")));
        var index = SemanticIndex.Open(Path.Combine(folder, "index.db"), createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local, null, Dimensions));
        using (var importer = new DocumentImporter(index))
        {
            importer.Queue(file);
            importer.Commit();
        }

        var jobId = Guid.NewGuid().ToString();
        index.Jobs.CreateAndClaim(jobId, new ClaimLimits(MaxChunks: 1_000, MaxJobTokens: long.MaxValue, QueueTokens: null, AffordableTokens: null));
        index.Jobs.MarkSubmitted(jobId, "batches/1", "files/input");
        return (index, jobId, index.Jobs.JobTexts(jobId).Select(c => c.Id).ToList());
    }

    private static float[] Vector(long chunkId) => Enumerable.Range(0, Dimensions).Select(i => (float)(chunkId + i)).ToArray();

    [Fact]
    public void A_page_stored_twice_changes_the_job_once_and_counts_as_unknown_only_chunks_it_never_held()
    {
        var (index, jobId, chunks) = ClaimedJob(chunks: 4);
        using var _ = index;
        Assert.Equal(4, chunks.Count);
        var page = new ResultPage(
            [(chunks[0], Vector(chunks[0]), 7), (NeverHeld, Vector(NeverHeld), 9)],
            [(chunks[1], "400 INVALID_ARGUMENT: too long")],
            [(chunks[2], "429 RESOURCE_EXHAUSTED: later")]);

        long first, second;
        using (var writer = index.Jobs.WriteResults(jobId, maxRetries: 3))
        {
            first = writer.Store(page);
            second = writer.Store(page);
            writer.RetryRest(ResultApplier.MissingMessage);
        }

        Assert.Equal(1, first);
        Assert.Equal(1, second);
        var job = index.Jobs.Find(jobId)!;
        Assert.Equal((1L, 1L, 2L, 7L), (job.Succeeded, job.Failed, job.Retried, job.Tokens));
        Assert.Empty(index.Jobs.JobTexts(jobId)); // nothing of the job is Submitted any more
        Assert.Equal([chunks[2], chunks[3]], index.Jobs.PendingTexts().Select(c => c.Id));
    }

    [Fact]
    public void A_retry_past_the_budget_fails_the_chunk_for_good()
    {
        var (index, jobId, chunks) = ClaimedJob(chunks: 2);
        using var _ = index;

        using (var writer = index.Jobs.WriteResults(jobId, maxRetries: 0))
        {
            Assert.Equal(0, writer.Store(new ResultPage([], [], [(chunks[0], "503 UNAVAILABLE: busy")])));
        }

        var job = index.Jobs.Find(jobId)!;
        Assert.Equal((1L, 0L), (job.Failed, job.Retried));
        Assert.Equal([chunks[1]], index.Jobs.JobTexts(jobId).Select(c => c.Id));
        Assert.Empty(index.Jobs.PendingTexts());
    }

    [Fact]
    public void The_queue_budget_is_kept_in_the_setting_values_and_a_value_edited_into_nonsense_counts_as_none()
    {
        using var index = SemanticIndex.Open(Path.Combine(folder, "index.db"), createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local, null, Dimensions));

        var recorded = index.Jobs.UpdateBudget(budget => budget with { Limit = 600_000, LearnedJobTokens = 250_000 });
        Assert.Null(index.Jobs.UpdateBudget(_ => null));

        Assert.Equal(recorded, index.Jobs.ReadBudget());
        Assert.Equal("600000", index.Values.Get("batch_queue_token_limit"));
        index.Values.Set("batch_queue_token_limit", "lots");
        Assert.Equal(new QueueBudget { LearnedJobTokens = 250_000 }, index.Jobs.ReadBudget());
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
