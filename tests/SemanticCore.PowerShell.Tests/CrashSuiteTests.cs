using System.Diagnostics;
using System.Text.Json;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using SemanticCore.Tests.Postgres;
using Xunit.Abstractions;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The crash suite: a host process is killed (SIGKILL, nothing runs after it) at a named point of import,
/// flush, sync or stop, then the next scheduled run goes on. Whatever the point: nothing is lost, every chunk
/// ends Ready, no remote job is created twice, no chunk is paid for again beyond what a retry needs, nothing is
/// left at the service or in the temp folder, and the invariants hold. The points are requests the fake holds
/// (so the kill lands exactly there) or, inside local work, seeded delays. Set SEMANTICCORE_SOAK_SEEDS for
/// more seeds of the delay-based points. On PostgreSQL the process's server connections are killed too
/// (pg_terminate_backend) before the process, as when the network between a host and the server goes down.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class CrashSuiteTests(ModuleFixture module, ITestOutputHelper output) : IDisposable
{
    private const int Documents = 20; // 10 chunks each
    private const string MaxBatchSize = "120"; // two jobs per flush of the 200 chunks
    // Commands name the index as $db: the scripts set it to the test's index on either backend.
    private const string Flush = $"Invoke-BatchFlush -Database $db -Force -MaxBatchSize {MaxBatchSize}";

    private readonly TestDirectory dir = new();

    private TestIndex? index;

    /// <summary>The test's index: index.db in its folder unless a PostgreSQL test chose a server index.</summary>
    private TestIndex Index => index ??= TestIndex.For("Sqlite", dir);

    private string Database => Index.Database;

    private string TempFolder { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "semanticcore-crash-" + Guid.NewGuid().ToString("N"))).FullName;

    /// <summary>A point where a process dies: the command it runs, and the request it is killed at (method, path + query).</summary>
    public sealed record Point(string Name, string Command, Func<string, string, bool> At, bool AfterHandling = false, int Skip = 0, bool FlushFirst = false)
    {
        public override string ToString() => Name;
    }

    private static bool IsUploadStart(string method, string target) => method == "POST" && target.StartsWith("/upload/", StringComparison.Ordinal) && !target.Contains("upload_id", StringComparison.Ordinal);

    private static bool IsUploadChunk(string method, string target) => method == "POST" && target.Contains("upload_id", StringComparison.Ordinal);

    private static bool IsCreate(string method, string target) => method == "POST" && target.EndsWith(":asyncBatchEmbedContent", StringComparison.Ordinal);

    private static bool IsPoll(string method, string target) => method == "GET" && target.StartsWith("/v1beta/batches/", StringComparison.Ordinal);

    private static bool IsDownload(string method, string target) => method == "GET" && target.Contains(":download", StringComparison.Ordinal);

    private static bool IsFileDelete(string method, string target) => method == "DELETE" && target.StartsWith("/v1beta/files/", StringComparison.Ordinal);

    private static bool IsCancel(string method, string target) => method == "POST" && target.EndsWith(":cancel", StringComparison.Ordinal);

    private static readonly Point[] Points =
    [
        new("flush: starting the upload", Flush, IsUploadStart),
        new("flush: sending the upload", Flush, IsUploadChunk),
        new("flush: upload stored, reply not yet received", Flush, IsUploadChunk, AfterHandling: true),
        new("flush: create sent, not yet made", Flush, IsCreate),
        new("flush: job made, reply not yet received", Flush, IsCreate, AfterHandling: true),
        new("flush: second job made, reply not yet received", Flush, IsCreate, AfterHandling: true, Skip: 1),
        new("sync: polling", "Sync-BatchJob -Database $db", IsPoll, FlushFirst: true),
        new("sync: downloading the results", "Sync-BatchJob -Database $db", IsDownload, FlushFirst: true),
        new("sync: results stored, deleting the remote files", "Sync-BatchJob -Database $db", IsFileDelete, FlushFirst: true),
        new("stop: cancel made, reply not yet received", "Get-BatchJob -Database $db | Stop-BatchJob", IsCancel, AfterHandling: true, FlushFirst: true),
    ];

    public static TheoryData<string> PointNames => new(Points.Select(p => p.Name));

    public static TheoryData<int> Seeds
    {
        get
        {
            var (first, last) = SoakSeeds(ciSeeds: 3);
            return new(Enumerable.Range(first, last - first + 1));
        }
    }

    [Theory]
    [MemberData(nameof(PointNames))]
    public Task A_batch_command_killed_at_a_named_point_is_recovered_by_the_next_run(string pointName) => KilledAtNamedPoint(pointName);

    [PostgresTheory]
    [MemberData(nameof(PointNames))]
    public Task On_PostgreSQL_a_batch_command_and_its_connections_killed_at_a_named_point_are_recovered_by_the_next_run(string pointName)
    {
        index = TestIndex.For("Postgres", dir);
        return KilledAtNamedPoint(pointName);
    }

    private async Task KilledAtNamedPoint(string pointName)
    {
        var point = Points.Single(p => p.Name == pointName);
        await using var gemini = await StartFakeAsync();
        var chunks = ImportCorpus();
        if (point.FlushFirst) RunInSession(Flush);

        var hold = gemini.Server.Hold(point.At, point.AfterHandling, point.Skip);
        await KillWhenHeldAsync(point.Command, hold, gemini.Server.Endpoint);

        RecoverAndSettle(gemini.Server.Endpoint);
        AssertSettled(gemini.Server, chunks);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task A_sync_killed_while_storing_results_is_recovered_by_the_next_run(int seed) => SyncKilledWhileStoring(seed);

    [PostgresTheory]
    [MemberData(nameof(Seeds))]
    public Task On_PostgreSQL_a_sync_and_its_connections_killed_while_storing_results_are_recovered_by_the_next_run(int seed)
    {
        index = TestIndex.For("Postgres", dir);
        return SyncKilledWhileStoring(seed);
    }

    private async Task SyncKilledWhileStoring(int seed)
    {
        await using var gemini = await StartFakeAsync();
        var chunks = ImportCorpus();
        RunInSession(Flush);

        // The kill lands somewhere from the last download on: storing, counting, deleting, or after the end.
        var downloads = gemini.Server.Hold(IsDownload, afterHandling: true, skip: 1);
        var sync = StartHost("Sync-BatchJob -Database $db", gemini.Server.Endpoint);
        await WaitHeldAsync(downloads, sync);
        downloads.Release();
        Thread.Sleep(new Random(seed).Next(0, 400));
        Kill(sync);

        RecoverAndSettle(gemini.Server.Endpoint);
        AssertSettled(gemini.Server, chunks);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task An_import_killed_part_way_is_completed_by_the_next_import_as_if_it_had_run_once(int seed)
    {
        const int documents = 300;
        BatchTestKit.WriteCorpus(dir, "kb", documents, sections: 10, tag: "kb");
        var reference = dir.Combine("reference.db");
        using (var ps = module.NewSession(dir.Path)) ps.Run($"Import-SemanticDocument -Path kb/*.md -Database '{reference}' -Provider Local -Mode Async").AssertNoErrors();

        // Killed once a seeded number of documents is stored: with files committed, and mid-way through others.
        var killAt = new Random(seed).Next(1, documents * 3 / 4);
        var import = StartHost("Import-SemanticDocument -Path kb/*.md -Database index.db -Provider Local -Mode Async", endpoint: null);
        Assert.True(WaitFor(() => import.HasExited || StoredDocuments() >= killAt), "The import stored nothing");
        Assert.False(import.HasExited, "The import ended before the kill");
        Kill(import);
        output.WriteLine($"Killed with {StoredDocuments()} of {documents} documents stored");

        using (var rerun = StartHost("Import-SemanticDocument -Path kb/*.md -Database index.db -Provider Local -Mode Async | Out-Null; if ($Error.Count) { $Error; exit 1 }", endpoint: null))
        {
            var stdout = rerun.StandardOutput.ReadToEndAsync();
            Assert.True(rerun.WaitForExit(HangGuard), "The rerun did not finish");
            Assert.True(rerun.ExitCode == 0, await stdout);
        }

        Invariants.AssertHold(Database);
        Assert.Equal(Contents(reference), Contents(Database));
        AssertTempFolderEmpty();
    }

    [Fact]
    public async Task A_Sync_import_killed_after_the_service_embedded_a_group_pays_for_that_group_at_most_once_more()
    {
        await using var gemini = await StartFakeAsync();
        var chunks = BatchTestKit.WriteCorpus(dir, "kb", documents: 30, sections: 10, tag: "kb");
        const string import = "Import-SemanticDocument -Path kb/*.md -Database index.db -Provider Gemini -Mode Sync";
        var environment = HostEnvironment(gemini.Server.Endpoint, ("GEMINI_API_KEY", GeminiFake.DefaultKey));

        // The service embeds (and bills) the second request's texts; the process dies before it hears back.
        var embedded = gemini.Server.Hold(IsEmbed, afterHandling: true, skip: 1);
        var killed = HostProcess.Start(dir.Path, environment, "-Command", import);
        await WaitHeldAsync(embedded, killed);
        Kill(killed);
        var lost = TextsOf(gemini.Server.Requests.Last(r => IsEmbed(r.Method, r.Path)));

        using (var rerun = HostProcess.Start(dir.Path, environment, "-Command", import + " | Out-Null; if ($Error.Count) { $Error; exit 1 }"))
        {
            var stdout = rerun.StandardOutput.ReadToEndAsync();
            Assert.True(rerun.WaitForExit(HangGuard), "The rerun did not finish");
            Assert.True(rerun.ExitCode == 0, await stdout);
        }

        Invariants.AssertHold(Database);
        Assert.Equal((long)chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        var texts = gemini.Server.Requests.Where(r => IsEmbed(r.Method, r.Path)).Sum(TextsOf);
        output.WriteLine($"Texts embedded: {texts} for {chunks} chunks; the lost reply held {lost}");
        Assert.InRange(texts, chunks, chunks + lost);
        AssertTempFolderEmpty();
    }

    private static bool IsEmbed(string method, string target) => method == "POST" && target.EndsWith(":batchEmbedContents", StringComparison.Ordinal);

    private static int TextsOf(RecordedRequest request) =>
        JsonDocument.Parse(request.Body!).RootElement.GetProperty("requests").GetArrayLength();

    private async Task<GeminiFake> StartFakeAsync()
    {
        var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0; // the first poll sees the job done: recovery needs no waiting
        // Some chunks are refused once with 429, as a busy service does: their retries go through the next flush.
        var refusedOnce = new HashSet<string>();
        gemini.Server.LineOutcomeFor = (key, _) =>
        {
            lock (refusedOnce) return long.Parse(key) % 7 == 0 && refusedOnce.Add(key) ? LineOutcome.RateLimited429 : LineOutcome.Success;
        };
        return gemini;
    }

    private long ImportCorpus()
    {
        WriteCorpus(dir, Documents);
        using var ps = module.NewSession(dir.Path);
        return ImportAsync(ps, database: Index.Argument);
    }

    private void RunInSession(string command)
    {
        using var ps = module.NewSession(dir.Path);
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", GeminiFake.BatchKey));
        ps.Run(command, new Dictionary<string, object?> { ["db"] = Index.Database }).AssertNoErrors();
    }

    private Dictionary<string, string?> HostEnvironment(Uri? endpoint, params (string Name, string? Value)[] more)
    {
        var environment = new Dictionary<string, string?>
        {
            ["TMPDIR"] = TempFolder, // the spool and any other temp file land where the test can see them
            ["SEMANTICCORE_GEMINI_ENDPOINT"] = endpoint?.ToString(),
            ["GEMINI_BATCH_API_KEY"] = GeminiFake.BatchKey,
            ["GEMINI_API_KEY"] = null,
            ["GOOGLE_API_KEY"] = null,
        };
        foreach (var (name, value) in more) environment[name] = value;
        return environment;
    }

    private Process StartHost(string command, Uri? endpoint) => HostProcess.Start(dir.Path, HostEnvironment(endpoint), "-Command", $"$db = {Index.Argument}\n{command}");

    private async Task KillWhenHeldAsync(string command, HeldRequest hold, Uri endpoint)
    {
        var process = StartHost(command, endpoint);
        await WaitHeldAsync(hold, process);
        Kill(process);
    }

    private static async Task WaitHeldAsync(HeldRequest hold, Process process)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(hold.Arrived, exited, Task.Delay(HangGuard)) != hold.Arrived)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            Assert.Fail($"The process never reached the point (exit {(process.HasExited ? process.ExitCode : -1)}).\n{await stdout}\n{await stderr}");
        }
    }

    /// <summary>SIGKILL: no finally block, no disposal, no flush of anything runs in the process; on PostgreSQL its connections die first.</summary>
    private void Kill(Process process)
    {
        if (Index.IsPostgres) output.WriteLine($"Server connections killed: {Index.KillConnections()}");
        process.Kill(entireProcessTree: true);
        Assert.True(process.WaitForExit(HangGuard), "The killed process did not end");
        process.Dispose();
    }

    /// <summary>
    /// What the next scheduled runs do: flush and sync until nothing is left to send. Half an hour passes first,
    /// as between two runs, so the lease of a job whose creator died has run out.
    /// </summary>
    private void RecoverAndSettle(Uri endpoint)
    {
        Db.Execute(Database, $"UPDATE batch_jobs SET updated_at = '{Timestamp(DateTimeOffset.UtcNow - CreatedLease - TimeSpan.FromMinutes(1))}' WHERE status = 'Created'");
        var script = $$"""
            for ($round = 1; $round -le 6; $round++) {
                {{Flush}} | Out-Null
                Sync-BatchJob -Database $db | Out-Null
                $open = @(Get-ChunkStatus -Database $db | Where-Object Status -in 'Pending', 'Submitted').Count
                if ($open -eq 0) { break }
            }
            "ROUNDS $round"
            if ($Error.Count) { $Error | ForEach-Object { 'ERROR ' + $_.FullyQualifiedErrorId + ': ' + $_ }; exit 1 }
            """;
        using var process = StartHost(script, endpoint);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(HangGuard), "The recovery run did not finish");
        output.WriteLine(stdout.Result.Trim());
        Assert.True(process.ExitCode == 0, $"The recovery run failed:\n{stdout.Result}\n{stderr.Result}");
    }

    private void AssertSettled(FakeGeminiServer server, long chunks)
    {
        Invariants.AssertHold(Database);
        Assert.Equal(chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));

        // Each local job was created remotely at most once, and every remote job belongs to a local job.
        var jobs = Db.Rows(Database, "SELECT id, remote_name FROM batch_jobs").ToDictionary(r => (string)r[0]!, r => r[1] as string);
        foreach (var created in server.Batches.GroupBy(b => b.DisplayName!))
        {
            var batch = Assert.Single(created);
            Assert.True(jobs.TryGetValue(created.Key, out var remote), $"Remote job {batch.Name} ({created.Key}) is known to no local job");
            Assert.Equal(batch.Name, remote);
        }

        // A chunk is sent again only after an answer that did not store it (a 429, a cancelled job): never paid twice.
        var retries = Db.Rows(Database, "SELECT id, retry_count FROM chunks").ToDictionary(r => (long)r[0]!, r => (long)r[1]!);
        foreach (var (chunk, remoteJobs) in RemoteJobsByChunk(server))
        {
            Assert.True(remoteJobs.Count <= retries[chunk] + 1, $"Chunk {chunk} was sent in {remoteJobs.Count} jobs with {retries[chunk]} retries");
        }

        Assert.Empty(server.Files.Select(f => $"{f.Name} ({f.DisplayName}, {f.Source})"));
        AssertTempFolderEmpty();
        output.WriteLine($"Remote jobs: {server.Batches.Count}; local jobs: {jobs.Count}; creates: {server.BatchCreateCount}");
    }

    private long StoredDocuments()
    {
        try
        {
            return File.Exists(Database) ? Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents") : 0;
        }
        catch (System.Data.Common.DbException)
        {
            return 0; // the index is being created
        }
    }

    /// <summary>No spool (the documents' text) or spill file is left in the temp folder.</summary>
    private void AssertTempFolderEmpty() =>
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(TempFolder), f => Path.GetFileName(f).StartsWith("semanticcore", StringComparison.Ordinal));

    /// <summary>Every document with its hash and its chunks' text, in order: what an import stores.</summary>
    private static List<string> Contents(string database) =>
        Db.Rows(database, """
            SELECT d.source_path || '|' || d.content_hash || '|' || c.ordinal || '|' || c.embedding_status || '|' || c.content
            FROM documents d JOIN chunks c ON c.document_id = d.id ORDER BY d.source_path, c.ordinal
            """).Select(r => (string)r[0]!).ToList();

    public void Dispose()
    {
        dir.Dispose();
        Directory.Delete(TempFolder, recursive: true);
    }
}
