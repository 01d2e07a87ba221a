using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The Batch API's per-project limits, enforced by the fake as the service does (DESIGN.md, "The service's limits"):
/// jobs sized by tokens under a queue budget, refusals of a full queue that teach the budget without losing or
/// double-paying a chunk, a backlog drained with -Wait, the cost cap, the 100 unfinished jobs, and -WhatIf's rounds.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class BatchQueueLimitTests(ModuleFixture module, ITestOutputHelper output) : IDisposable
{
    /// <summary>The fake's enqueued-token cap in these tests (a real one is 130,000 and more; the rules are the same).</summary>
    private const long Cap = 6_000;

    private static readonly string[] Words = ["wolf", "lamp", "reed", "fern", "moss", "dune", "gale", "hail", "iris", "jade", "kelp", "lark", "mint", "opal", "pine", "rust"];

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    public void Dispose() => dir.Dispose();

    /// <summary>
    /// Imports <paramref name="documents"/> files of ten sections, each one chunk of four-letter words (about as many tokens
    /// in the module's estimate as in the fake's count), and returns the chunks' estimated tokens in all.
    /// </summary>
    private long ImportPending(PsSession ps, int documents)
    {
        var random = new Random(documents);
        for (var doc = 0; doc < documents; doc++)
        {
            var text = new StringBuilder($"# Note {doc}\n\n");
            for (var section = 0; section < 10; section++)
            {
                text.Append($"## Part {section}\n\n");
                text.AppendJoin(' ', Enumerable.Range(0, 60).Select(_ => Words[random.Next(Words.Length)]));
                text.Append("\n\n");
            }

            dir.Write($"kb/note-{doc:D3}.md", text.ToString());
        }

        var imported = ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async").AssertNoErrors().Output;
        Assert.Equal(documents * 10L, imported.Sum(r => Convert.ToInt64(r.Prop("Pending"))));
        return imported.Sum(r => Convert.ToInt64(r.Prop("EstimatedTokens")));
    }

    /// <summary>Every chunk is Ready and was in exactly one job that succeeded; no job was made twice, nothing counted a retry.</summary>
    private void AssertEveryChunkEmbeddedOnce(FakeGeminiServer server)
    {
        var succeeded = server.Batches.Where(b => b.State == "BATCH_STATE_SUCCEEDED").Select(b => b.Name).ToHashSet();
        var keys = server.BatchKeys.Where(j => succeeded.Contains(j.Key)).SelectMany(j => j.Value).ToList();
        var chunks = BatchTestKit.ChunkIds(Database).Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(chunks.Order(), keys.Order());
        Assert.Equal(server.Batches.Count, server.BatchCreateCount);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Ready' OR retry_count <> 0"));
        Invariants.AssertHold(Database);
    }

    [Fact]
    public async Task A_backlog_of_ten_times_the_cap_drains_with_Wait_and_the_queue_never_passes_the_cap()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.EnqueuedTokenLimit = Cap;
        gemini.Server.PollsUntilDone = 0; // a job ends at its first poll: one poll interval a round
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        var backlog = ImportPending(ps, documents: 100);
        Assert.True(backlog >= 10 * Cap, $"The backlog ({backlog} tokens) should be at least ten times the cap.");

        var forecast = ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 5400 -MaxJobTokens 2800 -Wait -WhatIf").AssertNoErrors().Single();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 5400 -MaxJobTokens 2800 -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys);
        output.WriteLine($"Drained {backlog:N0} estimated tokens under a cap of {Cap:N0} (budget 5,400): {result.Output.Count} jobs in {forecast.Prop("Rounds")} rounds, " +
                         $"highest queue {gemini.Server.HighestEnqueuedTokens:N0}, {gemini.Server.QueueFullRefusals} refusals, {clock.Elapsed.TotalSeconds:0.0} s.");

        result.AssertNoErrors();
        Assert.InRange(gemini.Server.HighestEnqueuedTokens, 1, Cap);
        Assert.Equal(0, gemini.Server.QueueFullRefusals);
        AssertEveryChunkEmbeddedOnce(gemini.Server);
        // It emits every job it touched, once, finished; -WhatIf foretold them, and the rounds.
        Assert.Equal(gemini.Server.Batches.Count, result.Output.Count);
        Assert.All(result.Output, j => Assert.Equal("Completed", j.Text("Status")));
        Assert.Equal(result.Output.Count, (int)forecast.Prop("Jobs")!);
        Assert.InRange((int)forecast.Prop("Rounds")!, (int)(backlog / 5400), (int)(backlog / 5400) + 3);
        Assert.Contains(result.Progress, p => p.StatusDescription.Contains("tokens in flight", StringComparison.Ordinal));
        Assert.Empty(gemini.Server.Files); // inputs and outputs deleted once stored
    }

    [Fact]
    public async Task With_the_cap_unknown_a_few_refusals_teach_the_budget_and_nothing_is_lost_or_paid_twice()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.EnqueuedTokenLimit = Cap;
        gemini.Server.PollsUntilDone = 0;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        var backlog = ImportPending(ps, documents: 100);

        // Jobs larger than the cap, as the default 500,000 tokens may be on a real project's lowest tier.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = ps.Run("Invoke-BatchFlush -Database index.db -MaxJobTokens 10000 -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys);
        output.WriteLine($"Drained {backlog:N0} estimated tokens under an unknown cap of {Cap:N0}: {result.Output.Count} jobs, " +
                         $"highest queue {gemini.Server.HighestEnqueuedTokens:N0}, {gemini.Server.QueueFullRefusals} refusals, {clock.Elapsed.TotalSeconds:0.0} s.");

        // Each refusal is one non-terminating error that names the tokens in flight; the drain goes on.
        Assert.Null(result.Terminating);
        Assert.NotEmpty(result.Errors);
        Assert.All(result.Errors, e =>
        {
            Assert.Equal("BatchQueueFull", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.QuotaExceeded, e.CategoryInfo.Category);
            Assert.Contains("estimated tokens are in flight", e.Exception.Message, StringComparison.Ordinal);
            Assert.NotNull(e.ErrorDetails?.RecommendedAction);
        });
        Assert.Equal(gemini.Server.QueueFullRefusals, result.Errors.Count);
        Assert.InRange(gemini.Server.QueueFullRefusals, 1, 6); // a few, not one per halving
        AssertEveryChunkEmbeddedOnce(gemini.Server);
        // Refused jobs were never created, and their uploads are gone too.
        Assert.Empty(gemini.Server.Files);
        var learned = Db.Scalar<string>(Database, "SELECT value FROM settings WHERE key = 'batch_queue_token_learned'");
        Assert.InRange(long.Parse(learned, System.Globalization.CultureInfo.InvariantCulture), 1, 2 * Cap);
    }

    [Fact]
    public async Task A_refusal_after_a_lost_create_reply_keeps_the_created_job_and_releases_only_the_refused_one()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.EnqueuedTokenLimit = Cap;
        gemini.Server.AutoComplete = false;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ImportPending(ps, documents: 12);

        // The first job is made, but its answer is lost: the flush cannot know it exists.
        gemini.Server.CrashAfterCreate = true;
        var lost = ps.Run("Invoke-BatchFlush -Database index.db -MaxJobTokens 4000 -BatchApiKey $BatchKey", keys);
        BatchTestKit.AssertErrors(lost, "BatchSubmitUncertain", ErrorCategory.ConnectionError, 1);
        gemini.Server.CrashAfterCreate = false;
        var first = Assert.Single(gemini.Server.Batches);

        // The next flush adopts it, then the service refuses the next job: the queue holds the adopted one.
        var refused = ps.Run("Invoke-BatchFlush -Database index.db -MaxJobTokens 4000 -BatchApiKey $BatchKey", keys);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("BatchQueueFull", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(first.Name, Assert.Single(refused.Output).Text("RemoteName"));
        Assert.Single(gemini.Server.Batches);
        var adopted = BatchTestKit.ChunkIds(Database, "embedding_status = 'Submitted'");
        Assert.Equal(first.RequestCount, adopted.Count);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND retry_count <> 0"));
        Assert.Equal(Db.Scalar<long>(Database, "SELECT json_extract(stats, '$.estimatedTokens') FROM batch_jobs WHERE status = 'Submitted'").ToString(System.Globalization.CultureInfo.InvariantCulture),
            Db.Scalar<string>(Database, "SELECT value FROM settings WHERE key = 'batch_queue_token_learned'"));

        // Once it finishes, the rest drains; every chunk went in exactly one job.
        gemini.Server.AutoComplete = true;
        gemini.Server.PollsUntilDone = 0;
        ps.Run("Invoke-BatchFlush -Database index.db -MaxJobTokens 4000 -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors();
        AssertEveryChunkEmbeddedOnce(gemini.Server);
    }

    [Fact]
    public async Task The_budget_given_is_recorded_for_later_flushes_and_0_removes_it_while_WhatIf_records_nothing()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ImportPending(ps, documents: 6);
        string? Recorded() => Db.Rows(Database, "SELECT value FROM settings WHERE key = 'batch_queue_token_limit'").Select(r => (string?)r[0]).SingleOrDefault();

        var forecast = ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 2000 -WhatIf").AssertNoErrors().Single();
        Assert.Null(Recorded());
        Assert.Equal(2000L, forecast.Prop("QueueTokenLimit"));
        Assert.True((long)forecast.Prop("HeldChunks")! > 0);
        Assert.Contains("Invoke-BatchFlush -Wait", forecast.Text("Note"), StringComparison.Ordinal);

        var flushed = ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 2000 -BatchApiKey $BatchKey", keys);
        Assert.Equal("2000", Recorded());
        var warning = Assert.Single(flushed.AssertNoErrors().Warnings);
        Assert.Contains("stay Pending", warning, StringComparison.Ordinal);
        Assert.Contains("queue budget is 2,000", warning, StringComparison.Ordinal);
        Assert.Equal(forecast.Prop("Chunks"), flushed.Output.Sum(j => (long)j.Prop("Requests")!));
        Assert.InRange(gemini.Server.EnqueuedTokens, 1, 2000);

        // A later flush keeps to the recorded budget: the queue is full, nothing more is sent.
        var later = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Empty(later.Output);
        Assert.Contains("stay Pending", Assert.Single(later.Warnings), StringComparison.Ordinal);

        ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 0 -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Null(Recorded());
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
    }

    [Fact]
    public async Task MaxCost_holds_back_what_would_pass_it_and_says_how_much()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        var backlog = ImportPending(ps, documents: 10);
        var cap = backlog * 0.075m / 1_000_000m / 2; // half the backlog at the batch price of gemini-embedding-001

        var forecast = ps.Run($"Invoke-BatchFlush -Database index.db -MaxJobTokens 1000 -MaxCost {cap} -WhatIf").AssertNoErrors().Single();
        var flushed = ps.Run($"Invoke-BatchFlush -Database index.db -MaxJobTokens 1000 -MaxCost {cap} -BatchApiKey $BatchKey", keys).AssertNoErrors();

        var spent = flushed.Output.Sum(j => (decimal)j.Prop("EstimatedCost")!);
        Assert.InRange(spent, cap * 0.8m, cap);
        Assert.Equal(forecast.Prop("Chunks"), flushed.Output.Sum(j => (long)j.Prop("Requests")!));
        var warning = Assert.Single(flushed.Warnings);
        Assert.Contains("-MaxCost", warning, StringComparison.Ordinal);
        Assert.Contains($"{Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"):N0} chunk(s)", warning, StringComparison.Ordinal);

        var none = ps.Run("Invoke-BatchFlush -Database index.db -MaxCost 0 -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Empty(none.Output);
        Assert.Contains("-MaxCost", Assert.Single(none.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flush_keeps_to_the_services_100_unfinished_jobs()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ImportPending(ps, documents: 11);

        var flushed = ps.Run("Invoke-BatchFlush -Database index.db -MaxBatchSize 1 -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Equal(100, flushed.Output.Count);
        Assert.Equal(0, gemini.Server.QueueFullRefusals);
        Assert.Contains("100 unfinished batch jobs", Assert.Single(flushed.Warnings), StringComparison.Ordinal);
        Assert.Equal(10L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
    }

    [Fact]
    public async Task Ctrl_C_during_a_drain_stops_it_with_the_index_consistent_and_running_it_again_resumes()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.EnqueuedTokenLimit = Cap;
        gemini.Server.AutoComplete = false; // the first round's jobs wait: the drain is in its countdown
        using var session = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ImportPending(session, documents: 20);

        using var runspace = BatchTestSupport.OpenRunspace(module, dir.Path);
        runspace.SessionStateProxy.SetVariable("BatchKey", keys["BatchKey"]);
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript("Invoke-BatchFlush -Database index.db -QueueTokenLimit 5400 -Wait -PollInterval 30 -BatchApiKey $BatchKey");
        using var waiting = new ManualResetEventSlim();
        ps.Streams.Progress.DataAdded += (_, e) =>
        {
            if (ps.Streams.Progress[e.Index].StatusDescription.Contains("next check in", StringComparison.Ordinal)) waiting.Set();
        };
        var invocation = ps.BeginInvoke();
        Assert.True(BatchTestSupport.WaitFor(() => waiting.IsSet || invocation.IsCompleted), "The drain never reported its wait");

        var stop = ps.BeginStop(null, null);
        Assert.True(stop.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(20)), "The drain did not stop");
        ps.EndStop(stop);
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Invariants.AssertHold(Database);
        var sent = gemini.Server.Batches.Count;
        Assert.InRange(sent, 1, 10);
        Assert.True(Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'") > 0);

        gemini.Server.AutoComplete = true;
        gemini.Server.PollsUntilDone = 0;
        session.Run("Invoke-BatchFlush -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors();
        AssertEveryChunkEmbeddedOnce(gemini.Server);
        Assert.InRange(gemini.Server.HighestEnqueuedTokens, 1, Cap);
    }

    [Fact]
    public async Task A_drain_past_its_Timeout_says_so_and_writes_the_jobs_it_touched()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ImportPending(ps, documents: 6);

        var result = ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 2000 -Wait -PollInterval 1 -Timeout 3 -BatchApiKey $BatchKey", keys);

        var error = BatchTestKit.AssertErrors(result, "BatchDrainTimeout", ErrorCategory.OperationTimeout, 1).Single();
        Assert.Contains("Invoke-BatchFlush -Wait again", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal(gemini.Server.Batches.Count, result.Output.Count);
        Assert.All(result.Output, j => Assert.Equal("Running", j.Text("Status")));
        Assert.Contains("stay Pending", Assert.Single(result.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_drain_whose_jobs_cannot_be_synced_ends_with_their_error_instead_of_waiting_for_ever()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ImportPending(ps, documents: 6);
        ps.Run("Invoke-BatchFlush -Database index.db -QueueTokenLimit 2000 -BatchApiKey $BatchKey", keys).AssertNoErrors();
        gemini.Server.ValidKeys = new HashSet<string> { GeminiFake.DefaultKey }; // the batch key is revoked

        var result = ps.Run("Invoke-BatchFlush -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys);

        Assert.Null(result.Terminating);
        Assert.NotEmpty(result.Errors);
        Assert.All(result.Errors, e => Assert.Equal("GeminiInvalidApiKey", e.FullyQualifiedErrorId.Split(',')[0]));
        Assert.Equal(gemini.Server.Batches.Count, result.Errors.Count); // one per job, not one per poll
        Invariants.AssertHold(Database);
    }
}
