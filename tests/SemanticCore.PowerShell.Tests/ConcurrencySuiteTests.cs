using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using SemanticCore.Tests.Postgres;
using Xunit.Abstractions;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The concurrency suite: four host processes on one index for a bounded time — one rewriting and importing
/// documents, one flushing, one syncing, one searching and reading — as overlapping scheduled runs and an
/// admin's session would. No command may fail or wait out the lock; afterwards a final flush and sync leave
/// every chunk Ready with the text of the last import, each remote job created once, nothing left at the
/// service, and the invariants hold. On PostgreSQL the four processes are as four hosts sharing one server index.
/// SEMANTICCORE_SOAK_SECONDS runs it longer.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class ConcurrencySuiteTests(ModuleFixture module, ITestOutputHelper output) : IDisposable
{
    private const int Documents = 30; // 10 chunks each
    private const int Rewritten = 3; // documents the importer changes every round

    private readonly TestDirectory dir = new();
    private readonly Dictionary<string, object?> keys = GeminiFake.KeyVariables();

    private static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("SEMANTICCORE_SOAK_SECONDS"), out var seconds) && seconds > 0 ? seconds : 8;

    /// <summary>Repeats <paramref name="body"/> until the time is up, then reports the rounds and every error.</summary>
    private static string Loop(string name, string body) => $$"""
        $end = [DateTime]::UtcNow.AddSeconds({{Seconds}}); $round = 0
        while ([DateTime]::UtcNow -lt $end) {
            $round++
            {{body}}
        }
        "{{name}} $round"
        if ($Error.Count) { $Error | ForEach-Object { 'ERROR ' + $_.FullyQualifiedErrorId + ': ' + $_ }; exit 1 }
        """;

    [Theory]
    [InlineData("Sqlite")]
    [PostgresData]
    public async Task Four_processes_importing_flushing_syncing_and_searching_at_once_leave_a_consistent_index(string backend)
    {
        var index = TestIndex.For(backend, dir);
        var database = index.Database;
        var db = index.Argument;
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        var refusedOnce = new HashSet<string>();
        gemini.Server.LineOutcomeFor = (key, _) =>
        {
            lock (refusedOnce) return long.Parse(key) % 9 == 0 && refusedOnce.Add(key) ? LineOutcome.RateLimited429 : LineOutcome.Success;
        };
        WriteCorpus(dir, Documents);
        using (var ps = module.NewSession(dir.Path)) ImportAsync(ps, database: db);

        var rewrite = string.Join("\n", Enumerable.Range(0, Rewritten).Select(d =>
            $"Set-Content -LiteralPath 'kb/kb-{d:D3}.md' -Value \"# Changed runbook {d}`n`n## Step`n`nRound $($round): restart worker {d} on the new host.`n`n## Check`n`nRound $($round): read log {d}.\""));
        var commands = new[]
        {
            Loop("IMPORTS", rewrite + $"\nImport-SemanticDocument -Path kb/*.md -Database {db} -Mode Async | Out-Null"),
            Loop("FLUSHES", $"Invoke-BatchFlush -Database {db} -Force -MaxBatchSize 40 | Out-Null"),
            Loop("SYNCS", $"Sync-BatchJob -Database {db} | Out-Null"),
            Loop("SEARCHES", $"Search-SemanticIndex 'restart worker' -Database {db} -Top 5 | Out-Null; Get-ChunkStatus -Database {db} -Summary | Out-Null; Get-BatchJob -Database {db} | Out-Null"),
        };

        var runs = new HostRace(dir.Path, gemini.Server.Endpoint).RunTogether(commands,
            new Dictionary<string, string> { ["GEMINI_API_KEY"] = GeminiFake.DefaultKey }, HangGuard + TimeSpan.FromSeconds(Seconds));

        foreach (var run in runs) output.WriteLine(run.Stdout.Trim());
        HostRace.AssertAllClean(runs);
        Invariants.AssertHold(database);

        // What the next scheduled runs do: flush and sync until nothing is left to send.
        using (var ps = module.NewSession(dir.Path))
        {
            for (var round = 0; round < 6 && Db.Scalar<long>(database, "SELECT COUNT(*) FROM chunks WHERE embedding_status IN ('Pending', 'Submitted')") > 0; round++)
            {
                ps.Run($"Invoke-BatchFlush -Database {db} -Force -BatchApiKey $BatchKey | Out-Null; Sync-BatchJob -Database {db} -BatchApiKey $BatchKey | Out-Null", keys).AssertNoErrors();
            }
        }

        Invariants.AssertHold(database);
        Assert.Equal(0L, Db.Scalar<long>(database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Ready'"));
        Assert.Equal((long)Documents, Db.Scalar<long>(database, "SELECT COUNT(*) FROM documents"));
        // The rewritten documents hold the text of the importer's last round, and only that.
        var last = Db.Scalar<string>(database, "SELECT content FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source_path LIKE '%kb-000.md' ORDER BY c.ordinal LIMIT 1");
        Assert.Contains(File.ReadAllText(dir.Combine("kb", "kb-000.md")).Split('\n')[4].Trim(), last, StringComparison.Ordinal);
        Assert.All(gemini.Server.Batches.GroupBy(b => b.DisplayName), created => Assert.Single(created));
        // Jobs created = jobs at the service; every chunk was sent, and again only after an answer that stored nothing (a 429).
        Assert.Equal(gemini.Server.Batches.Select(b => b.Name).Order(), Db.Rows(database, "SELECT remote_name FROM batch_jobs WHERE remote_name IS NOT NULL").Select(r => (string)r[0]!).Order());
        var sentIn = RemoteJobsByChunk(gemini.Server);
        // By chunk id only on PostgreSQL: SQLite gives a new chunk the id of a deleted one (no AUTOINCREMENT).
        foreach (var row in index.IsPostgres ? Db.Rows(database, "SELECT id, retry_count FROM chunks") : [])
        {
            Assert.True(sentIn.TryGetValue((long)row[0]!, out var jobs) && jobs.Count <= (long)row[1]! + 1, $"Chunk {row[0]} was sent in {jobs?.Count ?? 0} jobs with {row[1]} retries");
        }

        output.WriteLine($"Remote jobs: {gemini.Server.Batches.Count}; chunks: {Db.Scalar<long>(database, "SELECT COUNT(*) FROM chunks")}");
    }

    public void Dispose() => dir.Dispose();
}
