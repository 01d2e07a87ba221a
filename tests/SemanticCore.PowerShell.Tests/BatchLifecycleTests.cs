using System.Management.Automation;
using System.Text;
using System.Text.RegularExpressions;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The job and chunk lifecycles of DESIGN.md ("Lifecycles"), driven through the cmdlets against the
/// fake Batch API (and the Local provider's spool): remote endings, -MinSize / -Force / -MaxBatchSize,
/// -WhatIf estimates, the retry budget, odd output files, and -Wait with -Timeout.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed partial class BatchLifecycleTests(ModuleFixture module) : IDisposable
{
    private const int SyncProgressId = 0x5C30; // ProgressIds.Sync

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private PsSession ImportPending(int documents, int sections, string tag = "kb")
    {
        BatchTestKit.WriteCorpus(dir, tag, documents, sections, tag);
        var ps = module.NewSession(dir.Path);
        ps.Run($"Import-SemanticDocument -Path {tag}/*.md -Database index.db -Mode Async").AssertNoErrors();
        return ps;
    }

    private Dictionary<long, string> VectorSources() =>
        Db.Rows(Database, "SELECT id, json_extract(metadata, '$._vector_source') FROM chunks").ToDictionary(r => (long)r[0]!, r => (string)r[1]!);

    private static float[] Floats(byte[] blob)
    {
        var values = new float[blob.Length / 4];
        Buffer.BlockCopy(blob, 0, values, 0, blob.Length);
        return values;
    }

    private static float[] Normalized(float[] vector)
    {
        var norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        return vector.Select(v => (float)(v / norm)).ToArray();
    }

    // ------------------------------------------------------------------ 4. remote endings

    [Theory]
    [InlineData("Failed")]
    [InlineData("Cancelled")]
    [InlineData("Expired")]
    public async Task A_remote_job_that_ends_without_results_puts_its_chunks_back_counting_a_retry(string ending)
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = ImportPending(documents: 2, sections: 10);
        var keys = GeminiFake.KeyVariables();
        // A job that ends without results counts a retry for its chunks, so one that always fails is not resubmitted
        // forever: chunks that had used their whole budget (3) are Failed now; the others go back, one retry more.
        Db.Execute(Database, "UPDATE chunks SET retry_count = 3 WHERE id % 3 = 0");
        var retriesBefore = Db.Rows(Database, "SELECT id, retry_count FROM chunks").ToDictionary(r => (long)r[0]!, r => (long)r[1]!);
        Assert.Contains(retriesBefore.Values, v => v == 3);
        var spent = retriesBefore.Count(r => r.Value == 3);

        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        var jobId = job.Text("Id");
        var remote = Assert.Single(gemini.Server.Batches);
        const string FailureMessage = "The batch could not be processed: internal error 7731.";
        switch (ending)
        {
            case "Failed": gemini.Server.Fail(remote.Name, FailureMessage); break;
            case "Cancelled": gemini.Server.Cancel(remote.Name); break;
            default: gemini.Server.Expire(remote.Name); break;
        }

        var synced = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(jobId, synced.Text("Id"));
        Assert.Equal(ending, synced.Text("Status"));
        var reason = synced.Text("ErrorMessage");
        Assert.Contains(ending, reason, StringComparison.Ordinal);
        if (ending == "Failed") Assert.Contains(FailureMessage, reason, StringComparison.Ordinal);
        Assert.Equal(0L, synced.Long("Succeeded"));
        Assert.Equal(spent, synced.Long("Failed"));
        Assert.Equal(20L - spent, synced.Long("Retried"));
        Assert.Equal(ending, Db.Scalar<string>(Database, $"SELECT status FROM batch_jobs WHERE id = '{jobId}'"));

        var chunks = Db.Rows(Database, "SELECT id, embedding_status, batch_job_id, error_message, retry_count FROM chunks");
        Assert.Equal(20, chunks.Count);
        Assert.All(chunks, c =>
        {
            var budgetSpent = retriesBefore[(long)c[0]!] == 3;
            Assert.Equal(budgetSpent ? "Failed" : "Pending", c[1]);
            Assert.Equal(jobId, c[2]); // the job they were last sent in
            Assert.StartsWith(reason, (string)c[3]!, StringComparison.Ordinal);
            Assert.Equal(retriesBefore[(long)c[0]!] + 1, (long)c[4]!);
        });
        Assert.Contains(remote.InputFileName, gemini.Server.DeletedFiles);

        // The next flush submits the others again, in a new job; the ended job stays as it is.
        var again = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.NotEqual(jobId, again.Text("Id"));
        Assert.Equal(20L - spent, again.Long("Requests"));
        Assert.Equal(2, gemini.Server.BatchCreateCount);
        var secondInput = gemini.Server.Batches.Single(b => b.DisplayName == again.Text("Id")).InputFileName;
        Assert.Equal(retriesBefore.Where(r => r.Value < 3).Select(r => r.Key.ToString()).Order(), BatchTestKit.KeysOf(gemini.Server.UploadedFiles[secondInput]).Order());
        Assert.Equal(20L - spent, Db.Scalar<long>(Database, $"SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted' AND batch_job_id = '{again.Text("Id")}'"));
        Assert.Equal(ending, ps.Run($"Get-BatchJob -Database index.db -Id {jobId}").AssertNoErrors().Single().Text("Status"));
    }

    // ------------------------------------------------------------------ 5. -MinSize, -Force, -MaxBatchSize

    [Fact]
    public async Task Fewer_pending_chunks_than_MinSize_submit_nothing_with_a_warning_and_Force_submits_them()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 1, sections: 6);
        var keys = GeminiFake.KeyVariables();
        var before = Db.FileState(Database);

        foreach (var (script, minSize) in new[] { ("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", 10), ("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -MinSize 7", 7) })
        {
            var skipped = ps.Run(script, keys).AssertNoErrors();
            Assert.Empty(skipped.Output);
            var warning = Assert.Single(skipped.Warnings);
            Assert.Contains("6 chunk(s) pending", warning, StringComparison.Ordinal);
            Assert.Contains($"-MinSize {minSize}", warning, StringComparison.Ordinal);
            Assert.Contains("nothing was submitted", warning, StringComparison.Ordinal);
            Assert.Contains("-Force", warning, StringComparison.Ordinal);
        }

        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(before, Db.FileState(Database));

        var forced = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys).AssertNoErrors();
        Assert.Empty(forced.Warnings);
        var job = forced.Single();
        Assert.Equal(6L, job.Long("Requests"));
        Assert.Equal("Submitted", job.Text("Status"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Equal(6L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'"));

        // Exactly MinSize is enough.
        BatchTestKit.WriteCorpus(dir, "more", documents: 1, sections: 5, tag: "more");
        ps.Run("Import-SemanticDocument -Path more/*.md -Database index.db -Mode Async").AssertNoErrors();
        Assert.Equal(5L, ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -MinSize 5", keys).AssertNoErrors().Single().Long("Requests"));
    }

    [Fact]
    public async Task MaxBatchSize_splits_a_thousand_chunks_into_jobs_of_300_300_300_and_100_without_overlap()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 100, sections: 10);
        var keys = GeminiFake.KeyVariables();
        var all = BatchTestKit.ChunkIds(Database);
        Assert.Equal(1000, all.Count);

        var jobs = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -MaxBatchSize 300", keys).AssertNoErrors().Output;

        Assert.Equal([300L, 300L, 300L, 100L], jobs.Select(j => j.Long("Requests")));
        Assert.All(jobs, j => Assert.Equal("Submitted", j.Text("Status")));
        Assert.Equal(4, jobs.Select(j => j.Text("Id")).Distinct().Count());
        Assert.Equal(4, gemini.Server.BatchCreateCount);
        Assert.Equal(4, gemini.Server.UploadedFiles.Count);

        // Every chunk in exactly one uploaded file, and that file is its own job's input.
        var uploadedKeys = gemini.Server.UploadedFiles.Values.SelectMany(BatchTestKit.KeysOf).ToList();
        Assert.Equal(1000, uploadedKeys.Count);
        Assert.Equal(all.Select(id => id.ToString()).Order(), uploadedKeys.Order());
        foreach (var job in jobs)
        {
            var remote = gemini.Server.Batches.Single(b => b.DisplayName == job.Text("Id"));
            var inFile = BatchTestKit.KeysOf(gemini.Server.UploadedFiles[remote.InputFileName]).Select(long.Parse).Order();
            Assert.Equal(BatchTestKit.ChunkIds(Database, $"batch_job_id = '{job.Text("Id")}' AND embedding_status = 'Submitted'"), inFile);
            Assert.Equal(job.Long("Requests"), remote.RequestCount);
        }

        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Submitted' OR batch_job_id IS NULL"));
    }

    // ------------------------------------------------------------------ 6. -WhatIf

    [Fact]
    public async Task WhatIf_estimates_chunks_jobs_tokens_and_both_prices_without_a_key_a_write_or_a_request()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        using var ps = ImportPending(documents: 25, sections: 10);
        var before = Db.FileState(Database);

        var result = ps.Run("Invoke-BatchFlush -Database index.db -MaxBatchSize 100 -WhatIf").AssertNoErrors();

        var estimate = result.Single();
        Assert.Equal("SemanticCore.Model.BatchFlushEstimate", estimate.TypeName());
        Assert.Equal(250L, estimate.Long("Chunks"));
        Assert.Equal(3L, estimate.Long("Jobs"));
        var tokens = estimate.Long("EstimatedTokens");
        Assert.True(tokens > 0, "tokens are estimated");
        var batch = (decimal)estimate.Prop("BatchCost")!;
        var interactive = (decimal)estimate.Prop("InteractiveCost")!;
        // $0.15 interactive and $0.075 batch per 1M tokens (gemini-embedding-001), to the micro-dollar at least.
        Assert.True(Math.Abs(tokens * 0.15m / 1_000_000m - interactive) < 0.000001m, $"interactive cost {interactive} for {tokens} tokens");
        Assert.True(batch > 0);
        Assert.Equal(interactive / 2, batch);
        Assert.Equal(interactive - batch, (decimal)estimate.Prop("Savings")!);
        Assert.Equal("gemini-embedding-001", estimate.Text("Model"));
        Assert.Null(estimate.PropOrNull("Note"));
        Assert.Equal(Database, estimate.Text("Database"));

        Assert.Equal(before, Db.FileState(Database));
        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(250L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND batch_job_id IS NULL"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM batch_jobs"));

        // The estimate is what the real flush then does.
        var jobs = ps.Run("Invoke-BatchFlush -Database index.db -MaxBatchSize 100 -BatchApiKey $BatchKey", GeminiFake.KeyVariables()).AssertNoErrors().Output;
        Assert.Equal(3, jobs.Count);
        Assert.Equal(tokens, jobs.Sum(j => j.Long("EstimatedTokens")));
    }

    [Fact]
    public async Task WhatIf_batch_cost_is_exactly_half_the_interactive_cost_for_a_token_count_that_is_not_a_round_number()
    {
        await using var gemini = await GeminiFake.StartAsync();
        // 6 chunks, 249 estimated tokens: $0.00003735 interactive, $0.000018675 batch (not whole micro-dollars).
        using var ps = ImportPending(documents: 2, sections: 3);

        var estimate = ps.Run("Invoke-BatchFlush -Database index.db -WhatIf -Force").AssertNoErrors().Single();

        var tokens = estimate.Long("EstimatedTokens");
        Assert.Equal(6L, estimate.Long("Chunks"));
        Assert.True(tokens * 15 % 100 != 0, $"precondition: {tokens} tokens do not cost a whole number of micro-dollars");
        var batch = (decimal)estimate.Prop("BatchCost")!;
        var interactive = (decimal)estimate.Prop("InteractiveCost")!;
        Assert.Equal(interactive / 2, batch);
        Assert.Equal(interactive - batch, (decimal)estimate.Prop("Savings")!);
        Assert.Equal(batch, (decimal)estimate.Prop("Savings")!);
        Assert.Empty(gemini.Server.Requests);
    }

    [Fact]
    public async Task WhatIf_below_MinSize_estimates_nothing_and_says_why()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 1, sections: 4);
        var before = Db.FileState(Database);

        var estimate = ps.Run("Invoke-BatchFlush -Database index.db -WhatIf").AssertNoErrors().Single();

        Assert.Equal(0L, estimate.Long("Chunks"));
        Assert.Equal(0L, estimate.Long("Jobs"));
        Assert.Equal(0L, estimate.Long("EstimatedTokens"));
        Assert.Contains("fewer than -MinSize 10", estimate.Text("Note"), StringComparison.Ordinal);
        Assert.Equal(before, Db.FileState(Database));
        Assert.Empty(gemini.Server.Requests);
    }

    // ------------------------------------------------------------------ 7. retry budget

    [Fact]
    public async Task A_chunk_rate_limited_in_two_jobs_spends_a_retry_budget_of_one_and_ends_Failed()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        using var ps = ImportPending(documents: 1, sections: 10);
        var keys = GeminiFake.KeyVariables();
        var ids = BatchTestKit.ChunkIds(Database);
        long unlucky = ids[2], recovers = ids[5];

        // Job 1: both get a 429.
        gemini.Server.LineOutcomeFor = (key, _) => long.Parse(key) == unlucky || long.Parse(key) == recovers ? LineOutcome.RateLimited429 : LineOutcome.Success;
        ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();
        var first = ps.Run("Sync-BatchJob -Database index.db -MaxRetries 1 -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal("CompletedWithErrors", first.Text("Status"));
        Assert.Equal(10L, first.Long("Requests"));
        Assert.Equal(8L, first.Long("Succeeded"));
        Assert.Equal(2L, first.Long("Retried"));
        Assert.Equal(0L, first.Long("Failed"));
        foreach (var id in new[] { unlucky, recovers })
        {
            var row = Db.Rows(Database, $"SELECT embedding_status, retry_count, batch_job_id, error_message FROM chunks WHERE id = {id}").Single();
            Assert.Equal("Pending", row[0]);
            Assert.Equal(1L, row[1]);
            Assert.Equal(first.Text("Id"), row[2]);
            Assert.StartsWith("429 RESOURCE_EXHAUSTED: ", (string)row[3]!, StringComparison.Ordinal);
        }

        // Job 2 (with new chunks too): the unlucky one gets a 429 again, the other one succeeds.
        BatchTestKit.WriteCorpus(dir, "more", documents: 1, sections: 10, tag: "more");
        ps.Run("Import-SemanticDocument -Path more/*.md -Database index.db -Mode Async").AssertNoErrors();
        gemini.Server.LineOutcomeFor = (key, _) => long.Parse(key) == unlucky ? LineOutcome.RateLimited429 : LineOutcome.Success;
        var second = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal(12L, second.Long("Requests"));
        var synced = ps.Run($"Sync-BatchJob -Database index.db -Id {second.Text("Id")} -MaxRetries 1 -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal("CompletedWithErrors", synced.Text("Status"));
        Assert.Equal(11L, synced.Long("Succeeded"));
        Assert.Equal(1L, synced.Long("Failed"));
        Assert.Equal(0L, synced.Long("Retried"));

        var chunk = ps.Run($"Get-ChunkStatus -Database index.db -Id {unlucky}").AssertNoErrors().Single();
        Assert.Equal("Failed", chunk.Text("Status"));
        Assert.Equal(2L, chunk.Long("RetryCount"));
        Assert.StartsWith("429 RESOURCE_EXHAUSTED: ", chunk.Text("ErrorMessage"), StringComparison.Ordinal);
        Assert.Contains("retry budget of 1 spent", chunk.Text("ErrorMessage"), StringComparison.Ordinal);
        var other = ps.Run($"Get-ChunkStatus -Database index.db -Id {recovers}").AssertNoErrors().Single();
        Assert.Equal("Ready", other.Text("Status"));
        Assert.Equal(1L, other.Long("RetryCount"));

        Assert.Equal(19L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Failed'"));
        // Nothing is left for a third job.
        Assert.Empty(ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Output);
        Assert.Equal(2, gemini.Server.BatchCreateCount);
    }

    // ------------------------------------------------------------------ 8. odd output files

    [GeneratedRegex("^\\{\"key\":\"(?<key>[^\"]+)\"")]
    private static partial Regex LeadingKey();

    [Fact]
    public async Task Unknown_duplicate_malformed_shuffled_and_truncated_output_lines_are_counted_and_the_cut_chunk_is_retried()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = ImportPending(documents: 2, sections: 10);
        var keys = GeminiFake.KeyVariables();
        var ids = BatchTestKit.ChunkIds(Database);
        var duplicated = ids[4];

        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        var remote = Assert.Single(gemini.Server.Batches);
        gemini.Server.ExtraUnknownKeys = 3;
        gemini.Server.MalformedLines = 2;
        gemini.Server.TruncateLastLine = true;
        gemini.Server.ShuffleOutput = true;
        gemini.Server.LineOutcomeFor = (key, _) => long.Parse(key) == duplicated ? LineOutcome.Duplicate : LineOutcome.Success;
        gemini.Server.Complete(remote.Name);

        // Which chunk lost its line: the one whose line the fake cut in half (the last one, after the shuffle).
        var output = gemini.Server.OutputOf(remote.Name)!;
        Assert.False(output.EndsWith('\n'));
        var lastLine = output[(output.LastIndexOf('\n') + 1)..];
        var match = LeadingKey().Match(lastLine);
        Assert.True(match.Success, "the cut line still shows its key: " + lastLine[..Math.Min(60, lastLine.Length)]);
        var cut = long.Parse(match.Groups["key"].Value); // precondition: a real chunk (not an unknown key)...
        Assert.NotEqual(duplicated, cut);                 // ...and not the duplicated one
        Assert.Equal(2, Regex.Matches(output, $"\"key\":\"{duplicated}\"").Count);

        var synced = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal(job.Text("Id"), synced.Text("Id"));
        Assert.Equal("CompletedWithErrors", synced.Text("Status"));
        Assert.Equal(3L, synced.Long("UnknownKeys"));
        Assert.Equal(1L, synced.Long("DuplicateKeys"));
        Assert.Equal(3L, synced.Long("MalformedLines")); // the 2 garbage lines and the cut one
        Assert.Equal(19L, synced.Long("Succeeded"));
        Assert.Equal(1L, synced.Long("Retried"));
        Assert.Equal(0L, synced.Long("Failed"));

        var cutRow = Db.Rows(Database, $"SELECT embedding_status, retry_count, batch_job_id, error_message FROM chunks WHERE id = {cut}").Single();
        Assert.Equal("Pending", cutRow[0]);
        Assert.Equal(1L, cutRow[1]);
        Assert.Equal(job.Text("Id"), cutRow[2]);
        Assert.Equal("Missing from the batch output", cutRow[3]);
        var chunk = ps.Run($"Get-ChunkStatus -Database index.db -Id {cut}").AssertNoErrors().Single();
        Assert.Equal(1L, chunk.Long("RetryCount"));

        // Everything else is Ready, once, with the vector of its own text.
        var sources = VectorSources();
        var ready = Db.Rows(Database, "SELECT c.id, v.dimensions, v.vector FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id WHERE c.embedding_status = 'Ready'");
        Assert.Equal(ids.Where(id => id != cut).Order(), ready.Select(r => (long)r[0]!).Order());
        Assert.All(ready, r =>
        {
            Assert.Equal(768L, r[1]);
            var expected = Normalized(FakeVectors.VectorFor(sources[(long)r[0]!], 768));
            var actual = Floats((byte[])r[2]!);
            for (var i = 0; i < 768; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
        });
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors WHERE chunk_id = " + cut));
    }

    // ------------------------------------------------------------------ 10. Local provider

    [Fact]
    public async Task The_Local_provider_runs_the_whole_batch_lifecycle_offline_through_its_spool()
    {
        // The fake only listens, to prove that nothing goes to the network.
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        BatchTestKit.WriteCorpus(dir, "kb", documents: 3, sections: 5);
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        var spool = Database + ".batches";

        var job = ps.Run("Invoke-BatchFlush -Database index.db").AssertNoErrors().Single();
        Assert.Equal("Submitted", job.Text("Status"));
        Assert.Equal("Local", job.Text("Provider"));
        Assert.Equal(15L, job.Long("Requests"));
        Assert.False(string.IsNullOrEmpty(job.Text("RemoteName")));
        Assert.NotEmpty(Directory.GetFiles(spool));

        var synced = ps.Run("Sync-BatchJob -Database index.db").AssertNoErrors().Single();
        Assert.Equal(job.Text("Id"), synced.Text("Id"));
        Assert.Equal("Completed", synced.Text("Status"));
        Assert.Equal(15L, synced.Long("Succeeded"));
        Assert.Equal(0L, synced.Long("Failed") + synced.Long("Retried"));
        Assert.Equal(15L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready' AND error_message IS NULL"));
        Assert.Empty(Directory.Exists(spool) ? Directory.GetFiles(spool, "*", SearchOption.AllDirectories) : []);

        // The vectors are the Local provider's own: the same as an interactive (Sync) import of the same files.
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database sync.db -Provider Local -Mode Sync").AssertNoErrors();
        var reference = Db.Rows(dir.Combine("sync.db"), "SELECT json_extract(c.metadata, '$._vector_source'), v.vector, v.model, v.dimensions FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id")
            .ToDictionary(r => (string)r[0]!, r => r);
        var stored = Db.Rows(Database, "SELECT json_extract(c.metadata, '$._vector_source'), v.vector, v.model, v.dimensions FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id");
        Assert.Equal(15, stored.Count);
        Assert.All(stored, r =>
        {
            var expected = reference[(string)r[0]!];
            Assert.Equal("local-feature-hash-v2", r[2]);
            Assert.Equal(expected[2], r[2]);
            Assert.Equal(expected[3], r[3]);
            var (a, b) = (Floats((byte[])r[1]!), Floats((byte[])expected[1]!));
            Assert.Equal(a.Length, b.Length);
            for (var i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 1e-5f);
        });

        // A second sync changes nothing.
        var before = Db.FileState(Database);
        Assert.Empty(ps.Run("Sync-BatchJob -Database index.db").AssertNoErrors().Output);
        Assert.Equal("Completed", ps.Run($"Sync-BatchJob -Database index.db -Id {job.Text("Id")}").AssertNoErrors().Single().Text("Status"));
        Assert.Equal(before, Db.FileState(Database));
        Assert.Empty(gemini.Server.Requests);
    }

    // ------------------------------------------------------------------ 12. -Wait with -Timeout

    [Fact]
    public async Task Wait_with_a_Timeout_shorter_than_the_jobs_reports_each_unfinished_job_and_ends_its_progress()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = ImportPending(documents: 2, sections: 10);
        var keys = GeminiFake.KeyVariables();
        var jobs = ps.Run("Invoke-BatchFlush -Database index.db -MaxBatchSize 10 -BatchApiKey $BatchKey", keys).AssertNoErrors().Output;
        Assert.Equal(2, jobs.Count);
        var jobIds = jobs.Select(j => j.Text("Id")).Order().ToList();

        var result = ps.Run("Sync-BatchJob -Database index.db -Wait -PollInterval 1 -Timeout 2 -BatchApiKey $BatchKey", keys);

        var errors = BatchTestKit.AssertErrors(result, "BatchJobWaitTimeout", ErrorCategory.OperationTimeout, 2);
        Assert.Equal(jobIds, errors.Select(e => (string)e.TargetObject).Order());
        Assert.All(errors, e => Assert.Contains("after 2 s", e.Exception.Message, StringComparison.Ordinal));
        Assert.Equal(jobIds, result.Output.Select(j => j.Text("Id")).Order());
        Assert.All(result.Output, j => Assert.Equal("Running", j.Text("Status")));
        Assert.Equal(2L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM batch_jobs WHERE status = 'Running'"));
        Assert.Equal(20L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'"));

        // Progress: the command's own activity id throughout (its steps nested under it), and a Completed record at the end.
        var progress = result.Progress;
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.True(p.ActivityId is SyncProgressId or SyncProgressId + 1, $"activity id {p.ActivityId}"));
        Assert.All(progress.Where(p => p.ActivityId == SyncProgressId + 1), p => Assert.Equal(SyncProgressId, p.ParentActivityId));
        Assert.Contains(progress, p => p.ActivityId == SyncProgressId && p.Activity == "Waiting for batch jobs" && p.RecordType == ProgressRecordType.Processing);
        var last = progress[^1];
        Assert.Equal(SyncProgressId, last.ActivityId);
        Assert.Equal(ProgressRecordType.Completed, last.RecordType);
        var firstCompleted = progress.ToList().FindIndex(p => p.RecordType == ProgressRecordType.Completed);
        Assert.All(progress.Skip(firstCompleted), p => Assert.Equal(ProgressRecordType.Completed, p.RecordType));
    }

    [Fact]
    public async Task A_download_that_stalls_half_way_fails_within_the_timeout_and_the_next_sync_completes()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 1, sections: 4);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();
        gemini.Server.Complete(Assert.Single(gemini.Server.Batches).Name);
        gemini.Server.StallDownloads = true;

        PsResult stalled;
        using (BatchTestKit.Environment(("SEMANTICCORE_GEMINI_TIMEOUT", "2")))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            stalled = await Task.Run(() => ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys)).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        }

        var error = Assert.Single(stalled.Errors);
        Assert.Contains("no data arrived for 2 s", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal(4L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'"));

        gemini.Server.StallDownloads = false;
        Assert.Equal("Completed", ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single().Text("Status"));
    }

    [Fact]
    public async Task A_job_whose_chunks_were_all_removed_right_after_the_claim_is_dropped_without_sending_an_empty_input()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 1, sections: 4);
        var keys = GeminiFake.KeyVariables();
        // A re-import in another process removes every chunk the moment the flush has claimed it (found by the concurrency suite).
        Db.Execute(Database, """
            CREATE TRIGGER test_remove_on_claim AFTER UPDATE OF embedding_status ON chunks WHEN new.embedding_status = 'Submitted'
            BEGIN DELETE FROM chunks WHERE id = new.id; END
            """);

        var flushed = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Empty(flushed.Output);
        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM batch_jobs"));
        Invariants.AssertHold(Database);
    }

    [Fact]
    public async Task A_remote_job_cancelled_part_way_keeps_the_results_it_produced_and_leaves_no_file_at_the_service()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 1, sections: 4);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();
        gemini.Server.CancelPartway(Assert.Single(gemini.Server.Batches).Name, completedLines: 3); // cancelled in the web console, say

        var job = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal("Cancelled", job.Text("Status"));
        Assert.Equal(3L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'")); // paid for: kept
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND retry_count = 1"));
        Assert.Empty(gemini.Server.Files); // the input and the partial output
        Invariants.AssertHold(Database);
    }

    [Fact]
    public async Task Remote_files_whose_delete_failed_are_deleted_by_the_next_sync()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = ImportPending(documents: 1, sections: 4);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors();
        gemini.Server.Complete(Assert.Single(gemini.Server.Batches).Name);
        gemini.Server.FailNextRequests("/files/", count: 1, status: 403, after: 1); // the download passes, the first delete is refused

        var synced = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Equal("Completed", synced.Single().Text("Status"));
        Assert.Contains("could not delete its remote files", Assert.Single(synced.Warnings), StringComparison.Ordinal);
        Assert.Equal(2, gemini.Server.Files.Count); // the input and the output, still counting against the project's storage

        ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Empty(gemini.Server.Files);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM batch_jobs WHERE remote_files_left <> 0"));
    }

    [Fact]
    public async Task Wait_counts_down_each_second_and_says_what_each_job_is_doing()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = ImportPending(documents: 1, sections: 4);
        var keys = GeminiFake.KeyVariables();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        var result = ps.Run("Sync-BatchJob -Database index.db -Wait -PollInterval 3 -Timeout 4 -BatchApiKey $BatchKey", keys);

        var waiting = result.Progress.Where(p => p.Activity == "Waiting for batch jobs").Select(p => p.StatusDescription).ToList();
        foreach (var left in new[] { 3, 2, 1 })
        {
            Assert.Contains(waiting, s => s.EndsWith($"next check in {left} s", StringComparison.Ordinal));
        }

        Assert.All(waiting, s => Assert.StartsWith($"{job.Text("Id")[..8]} Running (4 chunks)", s, StringComparison.Ordinal));
    }

    public void Dispose() => dir.Dispose();
}
