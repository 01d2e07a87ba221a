using SemanticCore.Batches;
using SemanticCore.Chunking;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Storage;

/// <summary>
/// The batch job store's contract as every backend must keep it, read back through the store alone: a page of results
/// stored twice changes the job once, the queue budget is kept in the index's setting values, and two processes racing
/// for the same claim or the same page give one outcome.
/// </summary>
public sealed class BatchJobStoreTests
{
    private const int Dimensions = 16;
    private const long NeverHeld = 99_999_999;

    private static readonly ClaimLimits Unlimited = new(MaxChunks: 1_000, MaxJobTokens: long.MaxValue, QueueTokens: null, AffordableTokens: null);

    /// <summary>An index with one Submitted job that has claimed <paramref name="chunks"/> chunks; returns the job and its chunk ids.</summary>
    private static (string JobId, List<long> Chunks) ClaimedJob(JobStoreBackend store, int chunks)
    {
        store.AddPendingChunks(chunks);
        var jobId = Guid.NewGuid().ToString();
        store.Jobs.CreateAndClaim(jobId, Unlimited);
        store.Jobs.MarkSubmitted(jobId, "batches/1", "files/input");
        return (jobId, store.Jobs.JobTexts(jobId).Select(c => c.Id).ToList());
    }

    private static JobStoreBackend NewIndex(string backend) => JobStoreBackend.Create(backend, EmbeddingProviderKind.Local, Dimensions);

    private static float[] Vector(long chunkId) => Enumerable.Range(0, Dimensions).Select(i => (float)(chunkId + i)).ToArray();

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void A_page_stored_twice_changes_the_job_once_and_counts_as_unknown_only_chunks_it_never_held(string backend)
    {
        using var store = NewIndex(backend);
        var (jobId, chunks) = ClaimedJob(store, chunks: 4);
        Assert.Equal(4, chunks.Count);
        var page = new ResultPage(
            [(chunks[0], Vector(chunks[0]), 7), (NeverHeld, Vector(NeverHeld), 9)],
            [(chunks[1], "400 INVALID_ARGUMENT: too long")],
            [(chunks[2], "429 RESOURCE_EXHAUSTED: later")]);

        long first, second;
        using (var writer = store.Jobs.WriteResults(jobId, maxRetries: 3))
        {
            first = writer.Store(page);
            second = writer.Store(page);
            writer.RetryRest(ResultApplier.MissingMessage);
        }

        Assert.Equal(1, first);
        Assert.Equal(1, second);
        var job = store.Jobs.Find(jobId)!;
        Assert.Equal((1L, 1L, 2L, 7L), (job.Succeeded, job.Failed, job.Retried, job.Tokens));
        Assert.Empty(store.Jobs.JobTexts(jobId)); // nothing of the job is Submitted any more
        Assert.Equal([chunks[2], chunks[3]], store.Jobs.PendingTexts().Select(c => c.Id));
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void A_retry_past_the_budget_fails_the_chunk_for_good(string backend)
    {
        using var store = NewIndex(backend);
        var (jobId, chunks) = ClaimedJob(store, chunks: 2);

        using (var writer = store.Jobs.WriteResults(jobId, maxRetries: 0))
        {
            Assert.Equal(0, writer.Store(new ResultPage([], [], [(chunks[0], "503 UNAVAILABLE: busy")])));
        }

        var job = store.Jobs.Find(jobId)!;
        Assert.Equal((1L, 0L), (job.Failed, job.Retried));
        Assert.Equal([chunks[1]], store.Jobs.JobTexts(jobId).Select(c => c.Id));
        Assert.Empty(store.Jobs.PendingTexts());
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void The_queue_budget_is_kept_in_the_setting_values_and_a_value_edited_into_nonsense_counts_as_none(string backend)
    {
        using var store = NewIndex(backend);

        var recorded = store.Jobs.UpdateBudget(budget => budget with { Limit = 600_000, LearnedJobTokens = 250_000 });
        Assert.Null(store.Jobs.UpdateBudget(_ => null));

        Assert.Equal(recorded, store.Jobs.ReadBudget());
        Assert.Equal("600000", store.Values.Get("batch_queue_token_limit"));
        store.Values.Set("batch_queue_token_limit", "lots");
        Assert.Equal(new QueueBudget { LearnedJobTokens = 250_000 }, store.Jobs.ReadBudget());
        store.Values.Set("batch_queue_token_limit", null);
        Assert.Null(store.Values.Get("batch_queue_token_limit"));
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void A_job_lives_from_its_claim_to_its_end_and_keeps_what_each_step_recorded(string backend)
    {
        using var store = NewIndex(backend);
        store.AddPendingChunks(3);
        var jobId = Guid.NewGuid().ToString();
        Assert.Equal(3, store.Jobs.CreateAndClaim(jobId, Unlimited).Chunks);
        store.Jobs.RecordInput(jobId, "files/input", estimatedTokens: 120);
        Assert.True(store.Jobs.RenewLease(jobId));
        store.Jobs.ExpireLease(jobId, "The create's outcome is unknown.");
        var (staleId, attemptedAt) = Assert.Single(store.Jobs.StaleCreatedJobs(TimeSpan.FromMinutes(5)));
        Assert.Equal(jobId, staleId);
        Assert.NotNull(attemptedAt);

        store.Jobs.MarkSubmitted(jobId, "batches/7", null);
        store.Jobs.MarkSubmitted(jobId, "batches/other", null); // only from Created: adopting twice is harmless
        store.Jobs.MarkRunning(jobId);
        Assert.False(store.Jobs.RenewLease(jobId));
        Assert.Equal((1, 120L), store.Jobs.Unfinished());
        Assert.Equal(3, store.Jobs.CountSubmitted());

        Assert.True(store.Jobs.EndWithoutResults(jobId, BatchJobStatus.Failed, "The remote job failed.", maxRetries: 3));
        Assert.False(store.Jobs.EndWithoutResults(jobId, BatchJobStatus.Cancelled, "Stopped."));

        var job = store.Jobs.Find(jobId)!;
        Assert.Equal((BatchJobStatus.Failed, "batches/7", "files/input", 120L, 3L), (job.State, job.RemoteName, job.InputFile, job.EstimatedTokens, job.Retried));
        Assert.Equal(DateTimeKind.Utc, job.CreatedAt.Kind);
        Assert.NotNull(job.CompletedAt);
        Assert.Equal(3, store.Jobs.CountClaimable());
        Assert.Equal([(jobId, "files/input", (string?)null)], store.Jobs.JobsWithRemoteFilesLeft());
        store.Jobs.MarkRemoteFilesDeleted(jobId);
        Assert.Empty(store.Jobs.JobsWithRemoteFilesLeft());
        Assert.Equal([jobId], store.Jobs.List([BatchJobStatus.Failed]).Select(j => j.Id));
        Assert.Empty(store.Jobs.List([BatchJobStatus.Completed, BatchJobStatus.Running]));
        Assert.Null(store.Jobs.Find("no-such-job"));
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void Two_hosts_claiming_at_once_never_share_a_chunk_nor_together_pass_the_queue_budget(string backend)
    {
        using var store = NewIndex(backend);
        var pending = store.AddPendingChunks(40);
        // Room for the first 30 chunks in the queue: one host may take 25, and the other only what is left.
        var room = store.Jobs.PendingTexts().Take(30).Sum(c => (long)TokenEstimator.Estimate(c.Text));
        var limits = new ClaimLimits(MaxChunks: 25, MaxJobTokens: long.MaxValue, QueueTokens: room, AffordableTokens: null);
        using var other = store.OpenAnother();
        using var start = new Barrier(2);

        (string Job, long Chunks) Claim(JobStoreBackend host)
        {
            var jobId = Guid.NewGuid().ToString();
            start.SignalAndWait();
            return (jobId, host.Jobs.CreateAndClaim(jobId, limits).Chunks);
        }

        var claims = new[] { Task.Run(() => Claim(store)), Task.Run(() => Claim(other)) }.Select(t => t.Result).ToList();

        Assert.Equal(30, claims.Sum(c => c.Chunks));
        Assert.Contains(claims, c => c.Chunks == 25);
        var held = claims.SelectMany(c => store.Jobs.JobTexts(c.Job).Select(t => t.Id)).ToList();
        Assert.Equal(held.Count, held.Distinct().Count());
        Assert.Equal(pending.Take(30), held.Order());
        Assert.Equal(10, store.Jobs.CountClaimable());
    }

    [Theory, InlineData(JobStoreBackend.Sqlite), PostgresBackend]
    public void Two_hosts_storing_the_same_page_at_once_change_each_chunk_once(string backend)
    {
        using var store = NewIndex(backend);
        var (jobId, chunks) = ClaimedJob(store, chunks: 30);
        var page = new ResultPage([.. chunks.Take(20).Select(id => (id, Vector(id), 3L))], [.. chunks.Skip(20).Take(5).Select(id => (id, "400 INVALID_ARGUMENT"))],
            [.. chunks.Skip(25).Select(id => (id, "429 RESOURCE_EXHAUSTED"))]);
        using var other = store.OpenAnother();
        using var start = new Barrier(2);

        long Store(JobStoreBackend host)
        {
            using var writer = host.Jobs.WriteResults(jobId, maxRetries: 3);
            start.SignalAndWait();
            return writer.Store(page);
        }

        var unknown = new[] { Task.Run(() => Store(store)), Task.Run(() => Store(other)) }.Select(t => t.Result);

        Assert.All(unknown, u => Assert.Equal(0, u));
        var job = store.Jobs.Find(jobId)!;
        Assert.Equal((20L, 5L, 5L, 60L), (job.Succeeded, job.Failed, job.Retried, job.Tokens));
        Assert.Equal(chunks.Skip(25), store.Jobs.PendingTexts().Select(c => c.Id));
    }
}
