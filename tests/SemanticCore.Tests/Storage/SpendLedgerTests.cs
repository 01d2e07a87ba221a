using SemanticCore.Batches;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Storage;

/// <summary>A batch job is billed exactly once, in the transaction that ends it, however many processes end it at once.</summary>
public sealed class SpendLedgerTests
{
    /// <summary>A Gemini index with one Submitted job of <paramref name="chunks"/> chunks, all of them reported as succeeded.</summary>
    private static (JobStoreBackend Store, string JobId) SubmittedJob(string backend, int chunks)
    {
        var store = JobStoreBackend.Create(backend, EmbeddingProviderKind.Gemini);
        store.AddPendingChunks(chunks);
        var jobId = Guid.NewGuid().ToString();
        store.Jobs.CreateAndClaim(jobId, new ClaimLimits(MaxChunks: 1_000, MaxJobTokens: long.MaxValue, QueueTokens: null, AffordableTokens: null));
        store.Jobs.RecordInput(jobId, "files/input", estimatedTokens: 1_000);
        store.Jobs.MarkSubmitted(jobId, "batches/1", "files/input");
        store.Execute("UPDATE batch_jobs SET succeeded_count = request_count, token_count = 4000 WHERE id = $id", ("$id", jobId));
        return (store, jobId);
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public async Task Two_processes_finishing_the_same_job_at_once_bill_it_once(string backend)
    {
        var (first, jobId) = SubmittedJob(backend, chunks: 20);
        using var _ = first;
        using var second = first.OpenAnother();
        using var start = new Barrier(2);
        var stats = new SyncStats(0, 0, 0, 1_000);

        bool Finish(JobStoreBackend host)
        {
            start.SignalAndWait();
            return host.Jobs.Finish(jobId, null, "files/output", stats);
        }

        var finished = await Task.WhenAll(Task.Run(() => Finish(first)), Task.Run(() => Finish(second)));
        var endedAgain = first.Jobs.EndWithoutResults(jobId, BatchJobStatus.Cancelled, "Stopped.");

        Assert.Equal(1, finished.Count(f => f));
        Assert.False(endedAgain);
        Assert.Equal(BatchJobStatus.Completed, first.Jobs.Find(jobId)!.State);
        var day = Assert.Single(first.Spend.Days(null, null));
        Assert.Equal(SpendKind.Batch, day.Kind);
        Assert.Equal(DateTime.UtcNow.Date, day.Date);
        Assert.Equal(DateTimeKind.Utc, day.Date.Kind);
        Assert.Equal(1, day.Calls);
        Assert.Equal(4000, day.Tokens);
        Assert.Equal(0.0003m, day.Cost);
        Assert.Equal(0.0006m, day.InteractiveCost);
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void A_job_without_reported_tokens_that_ends_part_way_bills_its_estimate_for_the_chunks_that_got_a_vector(string backend)
    {
        var (store, jobId) = SubmittedJob(backend, chunks: 10);
        using var _ = store;
        var requests = store.Jobs.Find(jobId)!.Requests;
        store.Execute("UPDATE batch_jobs SET succeeded_count = $half, token_count = 0 WHERE id = $id", ("$half", (int)(requests / 2)), ("$id", jobId));

        Assert.True(store.Jobs.EndWithoutResults(jobId, BatchJobStatus.Cancelled, "The remote job ended Cancelled.", maxRetries: 3));

        var day = Assert.Single(store.Spend.Days(null, null));
        Assert.Equal((1_000 * (requests / 2) + requests - 1) / requests, day.Tokens);
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void Interactive_calls_and_queries_are_read_back_per_day_and_kind_within_the_bounds(string backend)
    {
        using var store = JobStoreBackend.Create(backend, EmbeddingProviderKind.Gemini);
        var settings = IndexSettings.FromRequest(new IndexSettingsRequest(EmbeddingProviderKind.Gemini));
        store.Spend.RecordCall(SpendKind.Query, settings, 10);
        store.Spend.RecordCall(SpendKind.Interactive, settings, 1_000);
        store.Spend.RecordCall(SpendKind.Interactive, settings, 2_000);

        var days = store.Spend.Days(DateTime.UtcNow.AddHours(-1), null).ToList();

        Assert.Equal([(SpendKind.Interactive, 2L, 3_000L), (SpendKind.Query, 1L, 10L)], days.Select(d => (d.Kind, d.Calls, d.Tokens)));
        Assert.Empty(store.Spend.Days(null, DateTime.UtcNow.AddHours(-1)));
    }
}
