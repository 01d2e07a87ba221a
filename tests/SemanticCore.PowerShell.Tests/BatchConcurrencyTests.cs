using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using Xunit.Abstractions;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// Scheduled runs overlap: two Invoke-BatchFlush or two Sync-BatchJob in two processes on one index
/// (DESIGN.md, "Non-negotiables": a flush never submits a chunk twice; two syncs at once give the state of one).
/// Each process is the repository's console host, started together through a go file.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class BatchConcurrencyTests(ModuleFixture module, ITestOutputHelper output) : IDisposable
{
    private readonly TestDirectory dir = new();
    private readonly Dictionary<string, object?> keys = GeminiFake.KeyVariables();

    private string Database => dir.Combine("index.db");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Two_flushes_at_once_in_two_processes_submit_every_chunk_exactly_once(int round)
    {
        _ = round; // each round is a fresh race: a lost or doubled claim shows in some interleavings only
        const int chunks = 500;
        await using var gemini = await GeminiFake.StartAsync();
        WriteCorpus(dir, chunks / 10);
        using (var ps = module.NewSession(dir.Path)) Assert.Equal(chunks, ImportAsync(ps));

        var runs = new HostRace(dir.Path, gemini.Server.Endpoint)
            .RunTogether($"Invoke-BatchFlush -Database '{Database}' -Force -MaxBatchSize 50 | ForEach-Object {{ 'JOB ' + $_.Id + ' ' + $_.Requests }}");

        HostRace.AssertAllClean(runs);

        // Every chunk id is a key of exactly one uploaded input, once.
        var keyCounts = gemini.Server.UploadedFiles.Values.SelectMany(KeysOf).GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        var ids = Db.Rows(Database, "SELECT id FROM chunks").Select(r => (long)r[0]!).ToHashSet();
        Assert.Equal(chunks, ids.Count);
        Assert.Equal(ids, keyCounts.Keys.ToHashSet());
        Assert.All(keyCounts, k => Assert.True(k.Value == 1, $"Chunk {k.Key} was uploaded {k.Value} times"));

        // The jobs: as many as uploads and remote creates, their requests summing to the chunks, all Submitted.
        var jobs = Db.Rows(Database, "SELECT id, status, request_count, remote_name FROM batch_jobs");
        Assert.Equal(jobs.Count, gemini.Server.UploadedFiles.Count);
        Assert.Equal(jobs.Count, gemini.Server.BatchCreateCount);
        Assert.Equal((long)chunks, jobs.Sum(j => (long)j[2]!));
        Assert.All(jobs, j =>
        {
            Assert.Equal("Submitted", j[1]);
            Assert.InRange((long)j[2]!, 1L, 50L);
        });
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Submitted' OR batch_job_id IS NULL"));
        AssertEveryChunkInExactlyOneRemoteJob(gemini.Server, Database);

        // Each process reported exactly the jobs it submitted; together, all of them, none twice.
        var reportedBy = runs.Select(r => r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("JOB ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToList()).ToList();
        var reported = reportedBy.SelectMany(r => r).ToList();
        output.WriteLine($"Jobs submitted per process: {string.Join(", ", reportedBy.Select(r => r.Count))}"); // how the race went
        Assert.Equal(jobs.Select(j => (string)j[0]!).Order(), reported.Order());
    }

    /// <summary>What a job's output holds for a chunk, by the chunk's position in id order.</summary>
    private static LineOutcome OutcomeAt(int position) => (position % 12) switch
    {
        1 => LineOutcome.TooLong400,
        2 => LineOutcome.RateLimited429,
        3 => LineOutcome.Unavailable503,
        4 => LineOutcome.Missing,
        5 => LineOutcome.Duplicate,
        _ => LineOutcome.Success,
    };

    /// <summary>Chunks that already spent their retry budget (3 retries): a retriable outcome now fails them.</summary>
    private static bool SpentBudgetAt(int position) => position % 24 is 2 or 4;

    private sealed record ChunkState(string Status, long RetryCount, string? ErrorMessage, bool InJob);

    private static ChunkState ExpectedAfterOneSync(LineOutcome outcome, bool spentBudget, string text)
    {
        string Retry(string message) => spentBudget ? message + " (retry budget of 3 spent)" : message;
        var retries = spentBudget ? 4L : 1L;
        var retryStatus = spentBudget ? "Failed" : "Pending";
        return outcome switch
        {
            LineOutcome.Success or LineOutcome.Duplicate => new("Ready", 0, null, true),
            LineOutcome.TooLong400 => new("Failed", 0,
                $"400 INVALID_ARGUMENT: The input token count ({FakeVectors.TokenCount(text)}) exceeds the maximum number of tokens allowed (2048).", true),
            LineOutcome.RateLimited429 => new(retryStatus, retries, Retry("429 RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota)."), true),
            LineOutcome.Unavailable503 => new(retryStatus, retries, Retry("503 UNAVAILABLE: The service is currently unavailable."), true),
            LineOutcome.Missing => new(retryStatus, retries, Retry("Missing from the batch output"), true),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
        };
    }

    /// <summary>
    /// A finished job with a mix of per-line outcomes, synced by two processes at once. Whatever the
    /// interleaving, the index ends exactly as one sync leaves it: each chunk's status, retry count and
    /// message, the job's status and counters, one vector per Ready chunk; and neither run fails.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Two_syncs_at_once_in_two_processes_leave_the_state_one_sync_leaves(int round)
    {
        _ = round;
        const int chunks = 240;
        await using var gemini = await GeminiFake.StartAsync();
        WriteCorpus(dir, chunks / 10);
        string jobId;
        using (var ps = module.NewSession(dir.Path))
        {
            Assert.Equal(chunks, ImportAsync(ps));
            jobId = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single().Text("Id");
        }

        var rows = Db.Rows(Database, "SELECT id, json_extract(metadata, '$._vector_source') FROM chunks ORDER BY id");
        var position = rows.Select((r, i) => (Id: (long)r[0]!, Position: i)).ToDictionary(p => p.Id, p => p.Position);
        var text = rows.ToDictionary(r => (long)r[0]!, r => (string)r[1]!);
        foreach (var (id, at) in position.Where(p => SpentBudgetAt(p.Value)))
        {
            Db.Execute(Database, $"UPDATE chunks SET retry_count = 3 WHERE id = {id}");
        }

        gemini.Server.LineOutcomeFor = (key, _) => OutcomeAt(position[long.Parse(key)]);
        var remote = Assert.Single(gemini.Server.Batches);
        gemini.Server.Complete(remote.Name); // SUCCEEDED, its output built from the outcomes above

        var runs = new HostRace(dir.Path, gemini.Server.Endpoint).RunTogether($"Sync-BatchJob -Database '{Database}'");

        // The state one sync leaves, computed from the outcomes.
        var expected = position.ToDictionary(p => p.Key, p => ExpectedAfterOneSync(OutcomeAt(p.Value), SpentBudgetAt(p.Value), text[p.Key]));
        var actual = Db.Rows(Database, "SELECT id, embedding_status, retry_count, error_message, batch_job_id FROM chunks")
            .ToDictionary(r => (long)r[0]!, r => new ChunkState((string)r[1]!, (long)r[2]!, (string?)r[3], Equals(r[4], jobId)));
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (id, state) in expected)
        {
            Assert.True(state == actual[id], $"Chunk {id} ({OutcomeAt(position[id])}{(SpentBudgetAt(position[id]) ? ", budget spent" : "")}): expected {state}, found {actual[id]}");
        }

        var succeeded = expected.Values.LongCount(s => s.Status == "Ready");
        var failed = expected.Values.LongCount(s => s.Status == "Failed");
        var retried = expected.Values.LongCount(s => s.Status == "Pending");
        var duplicates = position.Values.LongCount(p => OutcomeAt(p) == LineOutcome.Duplicate);
        Assert.Equal(chunks, succeeded + failed + retried);
        Assert.True(succeeded > 0 && failed > 0 && retried > 0 && duplicates > 0);

        var job = Db.Rows(Database, $"""
            SELECT status, succeeded_count, failed_count, retried_count,
                   json_extract(stats, '$.duplicateKeys'), json_extract(stats, '$.unknownKeys'), json_extract(stats, '$.malformedLines'), request_count
            FROM batch_jobs WHERE id = '{jobId}'
            """).Single();
        Assert.Equal("CompletedWithErrors", job[0]);
        Assert.Equal(succeeded, job[1]);
        Assert.Equal(failed, job[2]);
        Assert.Equal(retried, job[3]);
        Assert.Equal((long)chunks, job[7]);
        Assert.Equal(succeeded, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));
        Assert.Equal(succeeded, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.embedding_status = 'Ready'"));
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM batch_jobs"));

        // The triage counts of the job are those of one sync too: the duplicated lines, no unknown keys.
        Assert.True(Equals(duplicates, job[4]) && Equals(0L, job[5]) && Equals(0L, job[6]),
            $"Job stats: duplicateKeys {job[4]} (expected {duplicates}), unknownKeys {job[5]} (expected 0), malformedLines {job[6]} (expected 0)");

        // Both runs end cleanly: the one that finds the job already done by the other is not an error.
        HostRace.AssertAllClean(runs);
    }

    /// <summary>
    /// The interleaving that the race above hits only sometimes, made certain: both syncs see the job
    /// SUCCEEDED; the first download is answered 503 with RetryInfo 3 s, so that sync waits while the
    /// other stores the results and deletes the remote files. The waiting sync then finds the output gone;
    /// the job is already finished in the index, so it must report the job, not an error.
    /// </summary>
    [Fact]
    public async Task A_sync_that_finds_the_job_finished_by_another_sync_meanwhile_reports_it_without_error()
    {
        const int chunks = 100;
        await using var gemini = await GeminiFake.StartAsync();
        WriteCorpus(dir, chunks / 10);
        string jobId;
        using (var ps = module.NewSession(dir.Path))
        {
            Assert.Equal(chunks, ImportAsync(ps));
            jobId = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single().Text("Id");
        }

        var remote = Assert.Single(gemini.Server.Batches);
        gemini.Server.Complete(remote.Name);
        gemini.Server.FailNextRequests(":download", 1, 503, retryDelay: "3s");

        var runs = new HostRace(dir.Path, gemini.Server.Endpoint)
            .RunTogether($"Sync-BatchJob -Database '{Database}' | ForEach-Object {{ 'SYNCED ' + $_.Id + ' ' + $_.Status }}");

        // The setup did what it meant to: two downloads (the 503 and the winner's), the output deleted once.
        var downloads = gemini.Server.Requests.Where(r => r.Path.EndsWith(":download", StringComparison.Ordinal)).ToList();
        Assert.True(downloads.Count >= 2, $"Expected both syncs to download; got {downloads.Count} download request(s)");
        Assert.Equal(1, gemini.Server.DeletedFiles.Count(f => f == gemini.Server.Batches.Single().ResponsesFileName));

        Assert.Equal((long)chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal((long)chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));
        Assert.Equal("Completed", Db.Scalar<string>(Database, $"SELECT status FROM batch_jobs WHERE id = '{jobId}'"));
        Assert.Equal((long)chunks, Db.Scalar<long>(Database, $"SELECT succeeded_count FROM batch_jobs WHERE id = '{jobId}'"));

        HostRace.AssertAllClean(runs);
        Assert.All(runs, r => Assert.Contains($"SYNCED {jobId} Completed", r.Stdout));
    }

    public void Dispose() => dir.Dispose();
}
