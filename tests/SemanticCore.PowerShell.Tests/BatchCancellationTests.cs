using System.Management.Automation;
using System.Management.Automation.Runspaces;
using SemanticCore.PowerShell.Tests.Infrastructure;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// Ctrl+C (PowerShell.Stop, which calls StopProcessing on the running cmdlet) in the middle of a sync's
/// wait or of a flush's remote calls: the command stops promptly, nothing is lost, nothing is stranded,
/// and the next run picks up where it left off.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class BatchCancellationTests(ModuleFixture module) : IDisposable
{
    private const int Chunks = 30;

    /// <summary>Longer than any stop may take, shorter than the waits the stop must cut short.</summary>
    private static readonly TimeSpan StopGuard = TimeSpan.FromSeconds(20);

    private readonly TestDirectory dir = new();
    private readonly Dictionary<string, object?> keys = GeminiFake.KeyVariables();

    private string Database => dir.Combine("index.db");

    private List<object?[]> Jobs() =>
        Db.Rows(Database, "SELECT id, status, remote_name, error_message, updated_at FROM batch_jobs ORDER BY created_at, id");

    private List<object?[]> ChunkRows() =>
        Db.Rows(Database, "SELECT id, embedding_status, batch_job_id, retry_count, error_message FROM chunks ORDER BY id");

    /// <summary>Starts a script on its own PowerShell instance, with $BatchKey set.</summary>
    private System.Management.Automation.PowerShell Begin(Runspace runspace, string script, out IAsyncResult invocation,
        Action<System.Management.Automation.PowerShell>? beforeStart = null)
    {
        runspace.SessionStateProxy.SetVariable("BatchKey", keys["BatchKey"]);
        var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript(script);
        beforeStart?.Invoke(ps);
        invocation = ps.BeginInvoke();
        return ps;
    }

    /// <summary>Stops the invocation like Ctrl+C and checks that it ended as Stopped (within the guard, only against a hang).</summary>
    private static void StopAndAssertStopped(System.Management.Automation.PowerShell ps, IAsyncResult invocation)
    {
        var stop = ps.BeginStop(null, null);
        Assert.True(stop.AsyncWaitHandle.WaitOne(StopGuard), $"The command did not stop within {StopGuard.TotalSeconds} s");
        ps.EndStop(stop);
        Assert.True(invocation.AsyncWaitHandle.WaitOne(StopGuard), "The invocation did not end after the stop");
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(invocation));
    }

    [Fact]
    public async Task Ctrl_C_during_Sync_BatchJob_Wait_stops_at_once_and_leaves_the_job_for_the_next_sync()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        gemini.Server.PollsUntilRunning = 1_000; // the remote job stays PENDING: nothing to record locally
        WriteCorpus(dir, Chunks / 10);
        using var session = module.NewSession(dir.Path);
        Assert.Equal(Chunks, ImportAsync(session));
        var jobId = session.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single().Text("Id");
        var remote = Assert.Single(gemini.Server.Batches);
        var jobsBefore = Jobs();
        var chunksBefore = ChunkRows();

        using var runspace = OpenRunspace(module, dir.Path);
        using var waiting = new ManualResetEventSlim();
        using var ps = Begin(runspace, "Sync-BatchJob -Database index.db -Wait -PollInterval 30 -BatchApiKey $BatchKey", out var invocation,
            p => p.Streams.Progress.DataAdded += (_, e) =>
            {
                if (p.Streams.Progress[e.Index].Activity == "Waiting for batch jobs") waiting.Set();
            });

        // In its 30-second wait, after the first GET of the job.
        Assert.True(WaitFor(() => waiting.IsSet || invocation.IsCompleted), "Sync-BatchJob -Wait never reported its wait");
        Assert.Equal(PSInvocationState.Running, ps.InvocationStateInfo.State);
        Assert.Equal(1, gemini.Server.Requests.Count(r => r.Method == "GET" && r.Path == "/v1beta/" + remote.Name));

        StopAndAssertStopped(ps, invocation);

        Assert.Empty(ps.Streams.Error);
        Assert.Equal(jobsBefore.Select(r => string.Join("|", r)), Jobs().Select(r => string.Join("|", r)));
        Assert.Equal(chunksBefore.Select(r => string.Join("|", r)), ChunkRows().Select(r => string.Join("|", r)));
        Assert.Equal("Submitted", jobsBefore.Single()[1]);
        Assert.All(chunksBefore, c => Assert.Equal("Submitted", c[1]));

        // The runspace is usable again, and a later sync finishes the job normally.
        gemini.Server.Complete(remote.Name);
        var synced = session.Run("Sync-BatchJob -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal(jobId, synced.Text("Id"));
        Assert.Equal("Completed", synced.Text("Status"));
        Assert.Equal((long)Chunks, synced.Long("Succeeded"));
        Assert.Equal((long)Chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal((long)Chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));

        // The stopped runspace runs commands again too.
        runspace.SessionStateProxy.SetVariable("BatchKey", keys["BatchKey"]);
        using var again = System.Management.Automation.PowerShell.Create();
        again.Runspace = runspace;
        Assert.Equal("Completed", again.AddScript($"(Get-BatchJob -Database index.db -Id {jobId}).Status.ToString()").Invoke().Single().BaseObject);
    }

    [Fact]
    public async Task Ctrl_C_during_a_slow_upload_releases_the_claim_and_the_next_flush_submits_every_chunk_once()
    {
        await using var gemini = await GeminiFake.StartAsync();
        WriteCorpus(dir, Chunks / 10);
        using var session = module.NewSession(dir.Path);
        Assert.Equal(Chunks, ImportAsync(session));
        gemini.Server.ResponseDelay = TimeSpan.FromSeconds(40); // every request hangs far longer than the stop guard

        using var runspace = OpenRunspace(module, dir.Path);
        using var ps = Begin(runspace, "Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", out var invocation);
        Assert.True(WaitFor(() => gemini.Server.Requests.Any(r => r.Path == "/upload/v1beta/files") || invocation.IsCompleted),
            "The flush never started its upload");
        Assert.False(invocation.IsCompleted, "The flush ended before it could be stopped");
        Assert.Equal("Created", Assert.Single(Jobs())[1]); // claimed before any remote call

        StopAndAssertStopped(ps, invocation);

        Assert.Empty(gemini.Server.UploadedFiles);
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        AssertNoChunkStranded(gemini.Server, Database);
        // No remote job can exist before the upload: the job ends at once and its chunks are Pending again.
        var job = Assert.Single(Jobs());
        Assert.Equal("Failed", job[1]);
        Assert.StartsWith("Uploading the batch input failed", (string)job[3]!);
        Assert.All(ChunkRows(), c =>
        {
            Assert.Equal("Pending", c[1]);
            Assert.Equal(job[0], c[2]); // the job they were last sent in
            Assert.Equal(0L, c[3]);
        });

        gemini.Server.ResponseDelay = TimeSpan.Zero;
        // Whether or not the stopped create reached the service, once the grace for late listings has passed
        // the next flush adopts the job or releases and resubmits its chunks: one remote job either way.
        Db.Execute(Database, $"UPDATE batch_jobs SET submitted_at = '2020-01-01T00:00:00.000Z' WHERE id = '{job[0]}'");
        var flushed = session.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal("Submitted", flushed.Text("Status"));
        Assert.Equal((long)Chunks, flushed.Long("Requests"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
    }

    [Fact]
    public async Task Ctrl_C_during_a_slow_create_keeps_the_claim_for_recovery_and_the_next_flush_submits_every_chunk_once()
    {
        await using var gemini = await GeminiFake.StartAsync();
        WriteCorpus(dir, Chunks / 10);
        using var session = module.NewSession(dir.Path);
        Assert.Equal(Chunks, ImportAsync(session));
        gemini.Server.ResponseDelay = TimeSpan.FromSeconds(2); // the upload (2 requests) gets through; the stop lands in the create's delay

        using var runspace = OpenRunspace(module, dir.Path);
        using var ps = Begin(runspace, "Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", out var invocation);
        Assert.True(WaitFor(() => gemini.Server.Requests.Any(r => r.Path.EndsWith(":asyncBatchEmbedContent", StringComparison.Ordinal)) || invocation.IsCompleted),
            "The flush never sent its create");
        Assert.False(invocation.IsCompleted, "The flush ended before it could be stopped");

        StopAndAssertStopped(ps, invocation);

        AssertNoChunkStranded(gemini.Server, Database);
        // The create may have reached the service: the claim stays, with its lease expired for the next flush to resolve.
        var job = Assert.Single(Jobs());
        Assert.Equal("Created", job[1]);
        Assert.All(ChunkRows(), c =>
        {
            Assert.Equal("Submitted", c[1]);
            Assert.Equal(job[0], c[2]);
        });

        gemini.Server.ResponseDelay = TimeSpan.Zero;
        // Whether or not the stopped create reached the service, once the grace for late listings has passed
        // the next flush adopts the job or releases and resubmits its chunks: one remote job either way.
        Db.Execute(Database, $"UPDATE batch_jobs SET submitted_at = '2020-01-01T00:00:00.000Z' WHERE id = '{job[0]}'");
        var flushed = session.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal("Submitted", flushed.Text("Status"));
        Assert.Equal((long)Chunks, flushed.Long("Requests"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);
    }

    public void Dispose() => dir.Dispose();
}
