using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Stop-BatchJob against the Gemini fake and the Local provider.</summary>
[Collection(ModuleCollection.Name)]
public sealed class StopBatchJobTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private PsSession Imported()
    {
        BatchTestKit.WriteCorpus(dir, "kb", documents: 2, sections: 5);
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Mode Async").AssertNoErrors();
        Db.Execute(Database, "UPDATE chunks SET retry_count = 1 WHERE id % 2 = 0");
        return ps;
    }

    [Fact]
    public async Task Stopping_a_running_job_cancels_it_remotely_and_puts_its_chunks_back_without_counting_a_retry()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = Imported();
        var keys = GeminiFake.KeyVariables();
        var retries = Db.Scalar<long>(Database, "SELECT SUM(retry_count) FROM chunks");
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys).AssertNoErrors().Single();

        var stopped = ps.Run("Get-BatchJob -Database index.db -Active | Stop-BatchJob -BatchApiKey $BatchKey -Confirm:$false", keys).AssertNoErrors().Single();

        Assert.Equal(job.Text("Id"), stopped.Text("Id"));
        Assert.Equal("Cancelled", stopped.Text("Status"));
        var remote = Assert.Single(gemini.Server.Batches);
        Assert.Equal("BATCH_STATE_CANCELLED", remote.State);
        Assert.Contains(remote.InputFileName, gemini.Server.DeletedFiles);
        Assert.Equal(10L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
        Assert.Equal(retries, Db.Scalar<long>(Database, "SELECT SUM(retry_count) FROM chunks"));
        Assert.Contains("Stop-BatchJob", Db.Scalar<string>(Database, "SELECT MIN(error_message) FROM chunks"));
        Invariants.AssertHold(Database);
    }

    /// <summary>
    /// A create whose answer was lost leaves the job Created, though the remote job exists. Stop-BatchJob finds it by its
    /// display name and must adopt it as recovery would: the job records its remote job and ends as a Submitted one does
    /// (Cancelled, or Completed with its results when it finished first), rather than stay Created or forget its remote job.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stopping_a_job_whose_create_answer_was_lost_adopts_its_remote_job_first(bool finishedFirst)
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = Imported();
        var keys = GeminiFake.KeyVariables();
        gemini.Server.CrashAfterCreate = true;
        var flush = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys);
        gemini.Server.CrashAfterCreate = false;
        Assert.Equal("BatchSubmitUncertain", flush.Errors.Single().FullyQualifiedErrorId.Split(',')[0]);
        var jobId = Db.Scalar<string>(Database, "SELECT id FROM batch_jobs");
        var remote = Assert.Single(gemini.Server.Batches);
        if (finishedFirst) gemini.Server.Complete(remote.Name);
        // Long enough ago that the job counts as abandoned: its lease and the grace after the uncertain create are over.
        Db.Execute(Database, "UPDATE batch_jobs SET updated_at = '2020-01-01T00:00:00.000Z', submitted_at = '2020-01-01T00:00:00.000Z'");

        var run = ps.Run($"Stop-BatchJob {jobId} -Database index.db -BatchApiKey $BatchKey -Confirm:$false", keys).AssertNoErrors();

        var stopped = run.Single();
        Assert.Equal(finishedFirst ? "Completed" : "Cancelled", stopped.Text("Status"));
        Assert.Equal(remote.Name, stopped.Text("RemoteName"));
        Assert.Equal(remote.Name, Db.Scalar<string>(Database, "SELECT remote_name FROM batch_jobs"));
        Assert.Equal(finishedFirst ? "BATCH_STATE_SUCCEEDED" : "BATCH_STATE_CANCELLED", Assert.Single(gemini.Server.Batches).State);
        Assert.Equal(finishedFirst ? 10L : 0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal(finishedFirst ? 0L : 10L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
        Assert.Contains(remote.InputFileName, gemini.Server.DeletedFiles);
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Invariants.AssertHold(Database);
    }

    [Fact]
    public async Task A_job_that_finished_before_the_stop_has_its_results_stored_with_a_warning()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = Imported();
        var keys = GeminiFake.KeyVariables();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys).AssertNoErrors().Single();
        gemini.Server.Complete(Assert.Single(gemini.Server.Batches).Name);

        var run = ps.Run($"Stop-BatchJob {job.Text("Id")} -Database index.db -BatchApiKey $BatchKey -Confirm:$false", keys).AssertNoErrors();

        Assert.Equal("Completed", run.Single().Text("Status"));
        Assert.Contains("finished before it could be stopped", Assert.Single(run.Warnings));
        Assert.Equal(10L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Invariants.AssertHold(Database);
    }

    [Fact]
    public async Task An_ended_job_is_an_error_for_that_job_and_WhatIf_changes_nothing()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        using var ps = Imported();
        var keys = GeminiFake.KeyVariables();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys).AssertNoErrors().Single();
        Db.Execute(Database, "PRAGMA wal_checkpoint(TRUNCATE)");
        var before = Db.FileState(Database);

        ps.Run($"Stop-BatchJob {job.Text("Id")} -Database index.db -BatchApiKey $BatchKey -WhatIf", keys).AssertNoErrors();
        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal("BATCH_STATE_PENDING", Assert.Single(gemini.Server.Batches).State);

        ps.Run($"Stop-BatchJob {job.Text("Id")} -Database index.db -BatchApiKey $BatchKey -Confirm:$false", keys).AssertNoErrors();
        var again = ps.Run($"'{job.Text("Id")}', 'no-such-job' | Stop-BatchJob -Database index.db -BatchApiKey $BatchKey -Confirm:$false", keys);

        Assert.Equal(["BatchJobNotActive", "BatchJobNotFound"], again.Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]));
    }

    [Fact]
    public async Task A_job_still_being_submitted_is_not_stopped_so_no_remote_job_is_left_unsynced()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = Imported();
        var keys = GeminiFake.KeyVariables();
        gemini.Server.FailNextRequests("asyncBatchEmbedContent", 1, 503); // the create's outcome is unknown: the job stays Created
        ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Force", keys);
        var jobId = Db.Scalar<string>(Database, "SELECT id FROM batch_jobs");

        var run = ps.Run($"Stop-BatchJob {jobId} -Database index.db -BatchApiKey $BatchKey -Confirm:$false", keys);

        Assert.Equal("BatchStopFailed", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("Created", Db.Scalar<string>(Database, "SELECT status FROM batch_jobs"));
        Assert.Equal(10L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'"));
    }

    [Fact]
    public void A_Local_job_is_stopped_offline_and_its_chunks_flush_again()
    {
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        ps.Run("Invoke-BatchFlush -Database index.db -Force").AssertNoErrors();

        var stopped = ps.Run("Get-BatchJob -Database index.db -Active | Stop-BatchJob -Confirm:$false").AssertNoErrors().Single();
        var next = ps.Run("Invoke-BatchFlush -Database index.db -Force | Sync-BatchJob").AssertNoErrors().Single();

        Assert.Equal("Cancelled", stopped.Text("Status"));
        Assert.Equal("Completed", next.Text("Status"));
        Assert.Equal(2L, next.Long("Succeeded"));
    }

    public void Dispose() => dir.Dispose();
}
