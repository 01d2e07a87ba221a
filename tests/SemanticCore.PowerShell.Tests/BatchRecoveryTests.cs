using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// A flush that loses the answer of its remote create, dies before recording it, or is refused: the
/// chunks are never submitted twice, never lost, and never stuck (DESIGN.md, "Lifecycles").
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class BatchRecoveryTests(ModuleFixture module) : IDisposable
{
    private const int Chunks = 30;

    private readonly TestDirectory dir = new();
    private readonly Dictionary<string, object?> keys = GeminiFake.KeyVariables();

    private string Database => dir.Combine("index.db");

    private PsSession NewIndex()
    {
        WriteCorpus(dir, Chunks / 10);
        var ps = module.NewSession(dir.Path);
        Assert.Equal(Chunks, ImportAsync(ps));
        return ps;
    }

    private List<object?[]> Jobs() =>
        Db.Rows(Database, "SELECT id, status, remote_name, input_file, error_message, updated_at, request_count FROM batch_jobs ORDER BY created_at, id");

    private List<object?[]> ChunkClaims() =>
        Db.Rows(Database, "SELECT id, embedding_status, batch_job_id, retry_count, error_message FROM chunks ORDER BY id");

    /// <summary>A flush whose create reached the service but whose answer was lost: the job stays Created, its chunks claimed.</summary>
    private string FlushWithLostCreateAnswer(GeminiFake gemini, PsSession ps)
    {
        gemini.Server.CrashAfterCreate = true;
        var flush = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);
        gemini.Server.CrashAfterCreate = false;

        Assert.Null(flush.Terminating);
        Assert.Empty(flush.Output);
        var error = Assert.Single(flush.Errors);
        Assert.Equal("BatchSubmitUncertain", error.ErrorId());
        Assert.Equal(ErrorCategoryOf("ConnectionError"), error.CategoryInfo.Category);

        var job = Assert.Single(Jobs());
        var jobId = (string)job[0]!;
        Assert.Equal("Created", job[1]);
        Assert.Null(job[2]);
        Assert.Contains("may or may not have succeeded", (string)job[4]!);
        Assert.Equal((long)Chunks, job[6]);
        Assert.All(ChunkClaims(), c =>
        {
            Assert.Equal("Submitted", c[1]);
            Assert.Equal(jobId, c[2]);
        });

        // The service did make the job, named by the local job id.
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Equal(jobId, Assert.Single(gemini.Server.Batches).DisplayName);
        return jobId;
    }

    private static System.Management.Automation.ErrorCategory ErrorCategoryOf(string name) =>
        Enum.Parse<System.Management.Automation.ErrorCategory>(name);

    [Theory]
    [InlineData(408, "<html><body>408 Request Timeout</body></html>")]
    [InlineData(403, "<!DOCTYPE html><html><body>Blocked by the corporate proxy</body></html>")]
    public async Task A_408_or_a_proxys_4xx_after_the_create_is_uncertain_and_the_job_is_adopted_not_created_twice(int status, string body)
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        gemini.Server.AnswerAfterCreate = (status, body);
        var flush = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);
        gemini.Server.AnswerAfterCreate = null;

        var error = Assert.Single(flush.Errors);
        Assert.Equal("BatchSubmitUncertain", error.ErrorId());
        Assert.DoesNotContain("<html", error.Exception.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("HTML page", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal("Created", Assert.Single(Jobs())[1]);

        var adopted = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal("Submitted", adopted.Text("Status"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_adopted_by_the_next_flush_and_never_created_twice()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        var jobId = FlushWithLostCreateAnswer(gemini, ps);
        var remote = Assert.Single(gemini.Server.Batches);

        var adopted = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(jobId, adopted.Text("Id"));
        Assert.Equal("Submitted", adopted.Text("Status"));
        Assert.Equal(remote.Name, adopted.Text("RemoteName"));
        Assert.Equal((long)Chunks, adopted.Long("Requests"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Single(gemini.Server.UploadedFiles);
        var job = Assert.Single(Jobs());
        Assert.Equal("Submitted", job[1]);
        Assert.Equal(remote.Name, job[2]);
        Assert.Equal(remote.InputFileName, job[3]);
        Assert.Null(job[4]); // the uncertainty is resolved
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);

        var synced = ps.Run("Sync-BatchJob -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(jobId, synced.Text("Id"));
        Assert.Equal("Completed", synced.Text("Status"));
        Assert.Equal((long)Chunks, synced.Long("Succeeded"));
        Assert.Equal(0L, synced.Long("Failed"));
        Assert.Equal(0L, synced.Long("Retried"));
        Assert.Equal((long)Chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready' AND error_message IS NULL"));
        Assert.Equal((long)Chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Contains(remote.InputFileName, gemini.Server.DeletedFiles);
    }

    [Fact]
    public async Task A_create_whose_answer_was_lost_is_adopted_by_Sync_BatchJob_and_completed()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        var jobId = FlushWithLostCreateAnswer(gemini, ps);
        var remote = Assert.Single(gemini.Server.Batches);

        var synced = ps.Run("Sync-BatchJob -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(jobId, synced.Text("Id"));
        Assert.Equal(remote.Name, synced.Text("RemoteName"));
        Assert.Equal("Completed", synced.Text("Status"));
        Assert.Equal((long)Chunks, synced.Long("Succeeded"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.All(ChunkClaims(), c =>
        {
            Assert.Equal("Ready", c[1]);
            Assert.Equal(jobId, c[2]);
        });
        Assert.Equal((long)Chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));

        // Nothing is left to submit: a flush afterwards creates nothing.
        var after = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Empty(after.Output);
        Assert.Equal(1, gemini.Server.BatchCreateCount);
    }

    /// <summary>
    /// A process killed between the remote create and the local update leaves a Created job with a live
    /// lease (its updated_at as the dead flush last wrote it). Until the lease runs out another flush must
    /// assume the creator is still at work: neither adopt nor release the job, nor create it again.
    /// </summary>
    [Fact]
    public async Task A_created_job_within_its_lease_is_left_alone_and_adopted_once_the_lease_runs_out()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        var jobId = FlushWithLostCreateAnswer(gemini, ps);
        var remote = Assert.Single(gemini.Server.Batches);
        var alive = Timestamp(DateTimeOffset.UtcNow);
        Db.Execute(Database, $"UPDATE batch_jobs SET updated_at = '{alive}' WHERE id = '{jobId}'");
        var chunksBefore = ChunkClaims();
        var listsBefore = gemini.Server.Requests.Count(r => r.Method == "GET" && r.Path == "/v1beta/batches");

        var flush = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();
        var sync = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Empty(flush.Output);
        var seen = sync.Single(); // reported as it is: still Created, nothing remote known
        Assert.Equal(jobId, seen.Text("Id"));
        Assert.Equal("Created", seen.Text("Status"));
        var job = Assert.Single(Jobs());
        Assert.Equal("Created", job[1]);
        Assert.Null(job[2]);
        Assert.Equal(alive, job[5]);
        Assert.Equal(chunksBefore.Select(r => string.Join("|", r)), ChunkClaims().Select(r => string.Join("|", r)));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Equal(listsBefore, gemini.Server.Requests.Count(r => r.Method == "GET" && r.Path == "/v1beta/batches"));

        // The lease runs out (31 minutes without a sign of life): the next flush adopts the remote job.
        Db.Execute(Database, $"UPDATE batch_jobs SET updated_at = '{Timestamp(DateTimeOffset.UtcNow - CreatedLease - TimeSpan.FromMinutes(1))}' WHERE id = '{jobId}'");
        // A flush killed between writing its input and the upload would have left its spool behind.
        var spool = Path.Combine(Path.GetTempPath(), $"semanticcore-{jobId}.jsonl");
        File.WriteAllText(spool, "{\"key\":\"1\"}");
        var adopted = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(jobId, adopted.Text("Id"));
        Assert.Equal("Submitted", adopted.Text("Status"));
        Assert.Equal(remote.Name, adopted.Text("RemoteName"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
        Assert.False(File.Exists(spool), "recovery removes a killed flush's input spool");
    }

    /// <summary>A 5xx on create proves nothing; when the lease is out and no remote job has the id, the chunks are released and sent again.</summary>
    [Fact]
    public async Task An_uncertain_create_that_made_no_job_is_released_after_the_grace_period_and_submitted_once()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        gemini.Server.FailNextRequests("asyncBatchEmbedContent", 1, 503);

        var first = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        Assert.Equal("BatchSubmitUncertain", Assert.Single(first.Errors).ErrorId());
        Assert.Empty(first.Output);
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        var stale = Assert.Single(Jobs());
        var staleId = (string)stale[0]!;
        var staleInput = (string)stale[3]!;
        Assert.Equal("Created", stale[1]);
        Assert.All(ChunkClaims(), c => Assert.Equal(staleId, c[2]));

        // Within the grace period a job the service does not list may still appear: nothing is released or sent.
        var early = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Empty(early.Output);
        Assert.Equal("Created", Assert.Single(Jobs())[1]);
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        Assert.All(ChunkClaims(), c => Assert.Equal(staleId, c[2]));

        // As if the flush had been killed before it recorded the uploaded file's name: only its display name (the job id) knows it.
        Db.Execute(Database, $"UPDATE batch_jobs SET submitted_at = '2020-01-01T00:00:00.000Z', input_file = NULL WHERE id = '{staleId}'");
        var second = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();

        var submitted = second.Single();
        Assert.NotEqual(staleId, submitted.Text("Id"));
        Assert.Equal("Submitted", submitted.Text("Status"));
        Assert.Equal((long)Chunks, submitted.Long("Requests"));
        var jobs = Jobs();
        Assert.Equal(2, jobs.Count);
        Assert.Equal("Failed", jobs.Single(j => Equals(j[0], staleId))[1]);
        Assert.StartsWith("Never submitted", (string)jobs.Single(j => Equals(j[0], staleId))[4]!);
        Assert.Contains(staleInput, gemini.Server.DeletedFiles);
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
        Assert.All(ChunkClaims(), c => Assert.Equal(0L, c[3])); // a release is not a retry
    }

    /// <summary>A 4xx on create proves the job was not made: the job fails at once, its chunks are Pending again, its upload is deleted.</summary>
    [Fact]
    public async Task A_create_the_service_refused_fails_the_job_releases_its_chunks_and_the_next_flush_sends_them_again()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        gemini.Server.FailNextRequests("asyncBatchEmbedContent", 1, 400);

        var refused = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        Assert.Null(refused.Terminating);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("GeminiBadRequest", error.ErrorId());
        Assert.Contains("Creating the remote batch job failed", error.Exception.Message);
        Assert.Empty(refused.Output);
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        Assert.Equal(1, gemini.Server.Requests.Count(r => r.Path.EndsWith(":asyncBatchEmbedContent", StringComparison.Ordinal)));

        var failed = Assert.Single(Jobs());
        var failedId = (string)failed[0]!;
        var input = Assert.IsType<string>(failed[3]);
        Assert.Equal("Failed", failed[1]);
        Assert.Null(failed[2]);
        Assert.StartsWith("Creating the remote batch job failed: ", (string)failed[4]!);
        Assert.EndsWith("Its chunks are Pending again.", (string)failed[4]!);
        Assert.All(ChunkClaims(), c =>
        {
            Assert.Equal("Pending", c[1]);
            Assert.Equal(failedId, c[2]); // the job they were last sent in
            Assert.Equal(0L, c[3]);
            Assert.Equal(failed[4], c[4]);
        });
        Assert.Equal(input, Assert.Single(gemini.Server.UploadedFiles).Key);
        Assert.Contains(input, gemini.Server.DeletedFiles);
        Assert.DoesNotContain(gemini.Server.Files, f => f.Name == input);

        var again = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.NotEqual(failedId, again.Text("Id"));
        Assert.Equal("Submitted", again.Text("Status"));
        Assert.Equal((long)Chunks, again.Long("Requests"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Equal("Failed", Db.Scalar<string>(Database, $"SELECT status FROM batch_jobs WHERE id = '{failedId}'"));
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
    }

    /// <summary>A refusal that persists (the key's project may not use batch jobs...) ends the flush; it does not upload and create over and over.</summary>
    [Fact]
    public async Task A_create_refused_every_time_is_tried_once_per_flush()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = NewIndex();
        gemini.Server.FailNextRequests("asyncBatchEmbedContent", 50, 400);

        var refused = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        Assert.Equal(1, gemini.Server.Requests.Count(r => r.Path.EndsWith(":asyncBatchEmbedContent", StringComparison.Ordinal)));
        Assert.Single(gemini.Server.UploadedFiles);
        Assert.Equal("GeminiBadRequest", Assert.Single(refused.Errors).ErrorId());
        Assert.Equal("Failed", Assert.Single(Jobs())[1]);
        Assert.All(ChunkClaims(), c => Assert.Equal("Pending", c[1]));
    }

    /// <summary>
    /// The answer to the upload's last piece is lost after the service made the file, and the query that would
    /// confirm it fails too: a file named by the job id may exist. The chunks are released only after recovery has
    /// deleted it (a failed deletion leaves the job for the next run), so no upload is left that no job knows.
    /// </summary>
    [Fact]
    public async Task An_upload_whose_last_answer_is_lost_leaves_no_file_behind_and_its_chunks_are_submitted_once()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var fastRetries = BatchTestKit.Environment(("SEMANTICCORE_GEMINI_RETRY_DELAY", "0"));
        using var ps = NewIndex();
        gemini.Server.LoseUploadReplies = 1;                                       // the finalize is stored, its answer lost
        gemini.Server.FailNextRequests("upload_id", 5, 503, after: 2);             // the resent finalize is refused, every query fails

        var first = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        Assert.Equal("GeminiUnavailable", Assert.Single(first.Errors).ErrorId());
        Assert.Contains("uploading the batch input failed; the next flush or sync releases its chunks", first.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Contains("The upload is already finalized", first.Errors[0].Exception.Message, StringComparison.Ordinal); // the service's own answer, kept
        Assert.Equal("Created", Assert.Single(Jobs())[1]);                         // claimed until recovery has looked for the file
        Assert.Empty(first.Output);
        var jobId = (string)Assert.Single(Jobs())[0]!;
        var upload = Assert.Single(gemini.Server.Files);
        Assert.Equal(jobId, upload.DisplayName);                                   // made, though the flush never heard of it
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        Invariants.AssertHold(Database);
        AssertNoChunkStranded(gemini.Server, Database);

        // The next run cannot list the files: the job is left as it is, its chunks claimed, nothing created.
        gemini.Server.FailNextRequests("files?pageSize", 5, 503);
        var blocked = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        var blockedError = Assert.Single(blocked.Errors);
        Assert.Equal("GeminiUnavailable", blockedError.ErrorId());
        Assert.Contains("left for the next flush or sync", blockedError.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(blocked.Output);
        Assert.Equal("Created", Assert.Single(Jobs())[1]);
        Assert.All(ChunkClaims(), c => Assert.Equal(jobId, c[2]));
        Assert.Equal(upload.Name, Assert.Single(gemini.Server.Files).Name);
        Invariants.AssertHold(Database);

        var submitted = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.NotEqual(jobId, submitted.Text("Id"));
        Assert.Equal((long)Chunks, submitted.Long("Requests"));
        var ended = Jobs().Single(j => Equals(j[0], jobId));
        Assert.Equal("Failed", ended[1]);
        Assert.StartsWith("Never submitted", (string)ended[4]!);
        Assert.Contains(upload.Name, gemini.Server.DeletedFiles);
        Assert.DoesNotContain(gemini.Server.Files, f => f.DisplayName == jobId);
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
        Assert.All(ChunkClaims(), c => Assert.Equal(0L, c[3]));                    // no retry counted: the service never had them
    }

    public void Dispose() => dir.Dispose();
}
