using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The seeded network-fault suite (docs/reliability.md): for each seed, the whole life of a Gemini index is run
/// the way a scheduled runbook runs it — imports (Sync and Async), flushes, syncs, a stop, a removal during an
/// active job, a search — while the fake injects a seeded fault (<see cref="FaultPlan"/>) on any request of any
/// call path. A command may fail, with a documented ErrorId; the next run goes on. Then the faults stop and the
/// runbook runs until everything settles. The invariants hold after every command; at the end every chunk is
/// Ready, no remote job was created twice, nothing is left at the service that the index does not know, and no
/// chunk was paid for twice except where a lost answer forced a resend.
/// </summary>
/// <remarks>
/// Seeds 1..<see cref="CiSeeds"/> by default; <c>SEMANTICCORE_SOAK_SEEDS=200</c> runs seeds 1..200 and
/// <c>SEMANTICCORE_SOAK_SEEDS=17-17</c> one seed (to reproduce a failure, whose message names its seed):
/// <c>SEMANTICCORE_SOAK_SEEDS=200 dotnet test SemanticCore.PS.sln -c Release --no-build --filter "FullyQualifiedName~NetworkFault"</c>.
/// Time is compressed: between runs the suite ages the Created jobs' lease and uncertain-create stamps by 31
/// minutes, as the runbook's schedule would; nothing else is touched.
/// </remarks>
[Collection(ModuleCollection.Name)]
public sealed class NetworkFaultSuiteTests(ModuleFixture module, ITestOutputHelper output)
{
    private const int CiSeeds = 5;
    private const double FaultProbability = 0.15;
    private const double OutageChance = 0.25;
    private const int FaultyRounds = 5;
    private const int MaxSettleRounds = 6;
    private const int MaxRetries = 3;

    /// <summary>Call paths a runbook uses only now and then: more faults there, or a few seeds would never hit them.</summary>
    private static readonly Dictionary<PathKind, double> RarePaths = new()
    {
        [PathKind.Embed] = 0.4,
        [PathKind.BatchCreate] = 0.3,
        [PathKind.BatchCancel] = 0.6,
        [PathKind.BatchList] = 0.4,
        [PathKind.FileList] = 0.4,
        [PathKind.UploadChunk] = 0.3,
        [PathKind.UploadQuery] = 0.5,
        [PathKind.UploadStart] = 0.3,
        [PathKind.Download] = 0.3,
        [PathKind.FileDelete] = 0.25,
    };

    /// <summary>Every call path the runbook must have put under fault (the others, such as a file's GET, it never uses).</summary>
    private static readonly PathKind[] EveryCallPath =
    [
        PathKind.Embed, PathKind.UploadStart, PathKind.UploadChunk, PathKind.UploadQuery, PathKind.BatchCreate, PathKind.BatchGet,
        PathKind.BatchList, PathKind.BatchCancel, PathKind.Download, PathKind.FileDelete, PathKind.FileList,
    ];

    [Fact]
    public async Task Every_call_path_under_seeded_faults_settles_with_every_chunk_Ready_once_and_nothing_left_behind()
    {
        var (first, last) = SoakSeeds(CiSeeds);
        var total = new Totals();
        var clock = Stopwatch.StartNew();
        for (var seed = first; seed <= last; seed++)
        {
            var run = Stopwatch.StartNew();
            var outcome = await RunSeedAsync(seed, total);
            output.WriteLine($"seed {seed}: {outcome} ({run.Elapsed.TotalSeconds:0.0} s)");
        }

        output.WriteLine($"seeds {first}..{last}: {total.Commands} commands, {total.Faults} faults injected, {clock.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine("faults per call path: " + string.Join("; ", total.ByPath.OrderBy(p => p.Key).Select(p =>
            $"{p.Key} {p.Value.Values.Sum()} ({string.Join(", ", p.Value.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))})")));
        output.WriteLine("requests per call path while faults were on: " + string.Join(", ", total.Requests.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")));
        output.WriteLine("command errors: " + string.Join(", ", total.Errors.OrderBy(e => e.Key).Select(e => $"{e.Key} {e.Value}")));
        output.WriteLine($"removals during an active job: {total.RemovalsDuringActiveJob}; stops: {total.Stops}; resends forced by lost answers: {total.ExcusedResends}; " +
            $"files left that their job knows (deletion failed, a warning said so): {total.KnownFilesLeft}; " +
            $"chunks that counted a retry: {total.ChunksRetried}");

        // The suite must not silently miss a call path: each one the runbook uses received faults.
        var missed = EveryCallPath.Where(p => !total.ByPath.ContainsKey(p)).ToList();
        Assert.True(missed.Count == 0, $"No fault was injected on: {string.Join(", ", missed)} (seeds {first}..{last}).");
        Assert.Contains(total.ByPath.Values.SelectMany(k => k.Keys), k => k == FaultKind.LostReply);
        Assert.True(total.RemovalsDuringActiveJob > 0, "No document was removed while its chunks were in an active job.");
    }

    private sealed class Totals
    {
        public int Commands;
        public int Faults;
        public int RemovalsDuringActiveJob;
        public int Stops;
        public int ExcusedResends;
        public int KnownFilesLeft;
        public long ChunksRetried;
        public readonly Dictionary<PathKind, Dictionary<FaultKind, int>> ByPath = [];
        public readonly Dictionary<string, int> Errors = [];
        public readonly Dictionary<PathKind, int> Requests = [];
    }

    private async Task<string> RunSeedAsync(int seed, Totals total)
    {
        using var dir = new TestDirectory();
        await using var gemini = await GeminiFake.StartAsync();
        // Retries wait 50 ms, not 1 s: they are what is under test, and the seeds must be many.
        using var timeout = BatchTestKit.Environment(("SEMANTICCORE_GEMINI_TIMEOUT", "2"), ("SEMANTICCORE_GEMINI_RETRY_DELAY", "0.05"));
        var server = gemini.Server;
        var keys = GeminiFake.KeyVariables();
        var database = dir.Combine("index.db");
        BatchTestKit.WriteCorpus(dir, "kba", 4, 10, "kba");   // Async, round 1
        BatchTestKit.WriteCorpus(dir, "kbb", 2, 10, "kbb");   // Sync, round 1
        BatchTestKit.WriteCorpus(dir, "kbc", 2, 10, "kbc");   // Async, round 2
        BatchTestKit.WriteCorpus(dir, "kbd", 1, 10, "kbd");   // Sync, round 3
        using var ps = module.NewSession(dir.Path);

        var plan = new FaultPlan(seed, FaultProbability) { SlowAnswer = TimeSpan.FromMilliseconds(300), QuotaRetryDelay = "0.2s", OutageChance = OutageChance };
        foreach (var (path, chance) in RarePaths) plan.ProbabilityFor[path] = chance;
        server.Faults = plan;

        var texts = new Dictionary<long, string>();   // chunk id -> the text sent for it, kept across removals
        var removedDocuments = 0;
        var appended = 0;
        var commands = 0;
        var log = new StringBuilder();

        PsResult Run(string label, string script)
        {
            commands++;
            var result = ps.Run(script, keys);
            var errors = result.Errors.Concat(result.Terminating is null ? [] : [result.Terminating]).ToList();
            log.AppendLine($"{label}: {(errors.Count == 0 ? "ok" : string.Join(", ", errors.Select(e => e.ErrorId())))}");
            foreach (var error in errors)
            {
                var id = error.ErrorId();
                total.Errors[id] = total.Errors.GetValueOrDefault(id) + 1;
                if (!DocumentedErrorIds.Contains(id))
                    Fail(seed, label, log, $"an undocumented error {error.FullyQualifiedErrorId}: {error.Exception}");
            }

            try
            {
                Invariants.AssertHold(database);
            }
            catch (XunitException e)
            {
                Fail(seed, label, log, e.Message);
            }

            foreach (var row in Db.Rows(database, "SELECT id, json_extract(metadata, '$._vector_source') FROM chunks")) texts[(long)row[0]!] = (string)row[1]!;
            return result;
        }

        void Import(string folder, string mode) =>
            Run($"import {folder} {mode}", $"Import-SemanticDocument -Path {folder}/*.md -Database index.db -Mode {mode}" + (mode == "Sync" ? " -ApiKey $ApiKey" : ""));

        void FlushAndSync(int round)
        {
            Run($"flush {round}", "Invoke-BatchFlush -Database index.db -Force -MaxBatchSize 15 -BatchApiKey $BatchKey");
            Run($"sync {round}", $"Sync-BatchJob -Database index.db -MaxRetries {MaxRetries} -BatchApiKey $BatchKey");
        }

        // The runbook, with faults on every call path.
        for (var round = 1; round <= FaultyRounds; round++)
        {
            if (round == 1) Import("kba", "Async");
            if (round == 2) Import("kbc", "Async");
            // Sync imports are re-run each time: unchanged files write nothing, a file that failed is imported again,
            // and a file that grew a section embeds that chunk alone.
            if (round >= 2)
            {
                File.AppendAllText(dir.Combine("kbb", "kbb-000.md"), $"## Addendum {round}\n\nAfter round {round}, also rotate the kbb journal {round * 7919}.\n\n");
                appended++;
            }

            Import("kbb", "Sync");
            if (round >= 3) Import("kbd", "Sync");
            FlushAndSync(round);

            if (round == 2)
            {
                // A document whose chunks an active job holds (the removal is counted by the job when it is synced).
                var held = Db.Rows(database, """
                    SELECT d.source_path FROM documents d JOIN chunks c ON c.document_id = d.id
                    WHERE c.embedding_status = 'Submitted' ORDER BY d.id LIMIT 1
                    """).Select(r => (string)r[0]!).FirstOrDefault();
                if (held is not null)
                {
                    Run("remove during an active job", $"Remove-SemanticDocument -Path '{held}' -Database index.db -Confirm:$false");
                    removedDocuments++;
                }
            }

            if (round is 2 or 3 or 4)
            {
                // The newest active job: Submitted or Running, or Created after a create whose answer was lost.
                var active = Db.Rows(database, "SELECT id FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running') ORDER BY created_at DESC LIMIT 1")
                    .Select(r => (string)r[0]!).FirstOrDefault();
                if (active is not null)
                {
                    Run("stop", $"Stop-BatchJob -Id {active} -Database index.db -MaxRetries {MaxRetries} -Confirm:$false -BatchApiKey $BatchKey");
                    total.Stops++;
                }
            }

            if (round == 4) Run("search", "Search-SemanticIndex 'restart the queue worker' -Top 3 -Database index.db -ApiKey $ApiKey");
            Run($"sync {round} again", $"Sync-BatchJob -Database index.db -MaxRetries {MaxRetries} -BatchApiKey $BatchKey");
            AdvanceClock(database);
        }

        // The service heals; the runbook goes on until nothing is left to do.
        plan.Enabled = false;
        var settled = false;
        for (var round = 1; round <= MaxSettleRounds && !settled; round++)
        {
            Import("kbb", "Sync");
            Import("kbd", "Sync");
            FlushAndSync(100 + round);
            Run($"sync {100 + round} again", $"Sync-BatchJob -Database index.db -MaxRetries {MaxRetries} -BatchApiKey $BatchKey");
            AdvanceClock(database);
            settled = Db.Scalar<long>(database, "SELECT COUNT(*) FROM chunks WHERE embedding_status IN ('Pending', 'Submitted')") == 0
                      && Db.Scalar<long>(database, "SELECT COUNT(*) FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running')") == 0;
        }

        try
        {
            AssertSettled(server, database, texts, 90 - 10 * removedDocuments + appended, total);
        }
        catch (XunitException e)
        {
            var jobs = Db.Rows(database, "SELECT id, status, remote_name, input_file, error_message FROM batch_jobs ORDER BY created_at")
                .Select(r => string.Join(" | ", r.Select(v => v ?? "-")));
            var remote = server.Batches.Select(b => $"{b.Name} {b.DisplayName} {b.State} {b.InputFileName}");
            Fail(seed, "the end", log, e.Message + "\nfaults: " + plan.Describe() + "\nlocal jobs:\n" + string.Join("\n", jobs) +
                "\nremote jobs:\n" + string.Join("\n", remote) + "\nfaults in order:\n" + string.Join("\n", plan.Injected.Select(f => $"{f.Sequence} {f.Path} {f.Kind} {f.Method} {f.Target}")));
        }

        total.Commands += commands;
        total.Faults += plan.Injected.Count;
        total.RemovalsDuringActiveJob += removedDocuments;
        foreach (var (path, kinds) in plan.InjectedByPath())
        {
            if (!total.ByPath.TryGetValue(path, out var sum)) total.ByPath[path] = sum = [];
            foreach (var (kind, count) in kinds) sum[kind] = sum.GetValueOrDefault(kind) + count;
        }

        foreach (var (path, count) in plan.Requests) total.Requests[path] = total.Requests.GetValueOrDefault(path) + count;
        return $"{commands} commands, {plan.Injected.Count} faults ({plan.Describe()})";
    }

    private static void AssertSettled(FakeGeminiServer server, string database, Dictionary<long, string> texts, int expectedChunks, Totals total)
    {
        // Every chunk Ready: nothing here exhausts a retry budget (a job ends without results only when stopped, which
        // counts no retry), so a Failed chunk would be a chunk given up on because of the network.
        var notReady = Db.Rows(database, "SELECT id, embedding_status, error_message FROM chunks WHERE embedding_status <> 'Ready'");
        Assert.True(notReady.Count == 0, "Chunks not Ready after the faults stopped: " +
            string.Join("; ", notReady.Take(5).Select(r => $"{r[0]} {r[1]} {r[2]}")));
        Assert.Equal(expectedChunks, Db.Scalar<long>(database, "SELECT COUNT(*) FROM chunks"));
        Assert.Equal(0L, Db.Scalar<long>(database, "SELECT COUNT(*) FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running')"));

        // A retry is counted only when a sync finds a job ended without results (here: cancelled by a stop whose own
        // reading of the state failed); far from the budget.
        total.ChunksRetried += Db.Scalar<long>(database, "SELECT COUNT(*) FROM chunks WHERE retry_count > 0");

        // Each local job's remote job was created at most once, and each remote job is known by its local job.
        var jobs = Db.Rows(database, "SELECT id, remote_name, input_file, output_file FROM batch_jobs")
            .ToDictionary(r => (string)r[0]!, r => (Remote: (string?)r[1], Input: (string?)r[2], Output: (string?)r[3]));
        Assert.DoesNotContain(server.Requests, r => r.Method == "DELETE" && r.Path.StartsWith("/v1beta/batches/", StringComparison.Ordinal));
        foreach (var batches in server.Batches.GroupBy(b => b.DisplayName))
        {
            var batch = Assert.Single(batches);
            Assert.True(batch.DisplayName is not null && jobs.ContainsKey(batch.DisplayName), $"Remote job {batch.Name} ({batch.DisplayName}) has no local job.");
            Assert.True(jobs[batch.DisplayName!].Remote == batch.Name,
                $"Remote job {batch.Name} of local job {batch.DisplayName} is not recorded by it (it records {jobs[batch.DisplayName!].Remote ?? "none"}): nobody would sync it.");
        }

        // No file at the service that no local job knows.
        var known = jobs.Values.SelectMany(j => new[] { j.Input, j.Output }).Where(f => f is not null).ToHashSet();
        var orphans = server.Files.Where(f => !known.Contains(f.Name)).ToList();
        Assert.True(orphans.Count == 0, "Files left at the service that no local job knows: " +
            string.Join(", ", orphans.Select(f => $"{f.Name} ({f.DisplayName}, {f.Source})")));
        // Files a job knows but could not delete (a warning said so) stay until the service drops them after 48 hours.
        total.KnownFilesLeft += server.Files.Count;

        // Paid once: a chunk's text is embedded by at most one succeeded remote job or interactive call, plus one per
        // interactive answer that was lost after the service did the work (the client could not know it was done).
        var uploads = server.UploadedFiles;
        var paid = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var batch in server.Batches.Where(b => b.State == "BATCH_STATE_SUCCEEDED"))
        {
            foreach (var key in KeysOf(uploads[batch.InputFileName])) paid[texts[key]] = paid.GetValueOrDefault(texts[key]) + 1;
        }

        var lost = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var embedding in server.InteractiveEmbeddings)
        {
            paid[embedding.Text] = paid.GetValueOrDefault(embedding.Text) + 1;
            if (!embedding.Delivered) lost[embedding.Text] = lost.GetValueOrDefault(embedding.Text) + 1;
        }

        var twice = paid.Where(p => p.Value > 1 + lost.GetValueOrDefault(p.Key)).ToList();
        Assert.True(twice.Count == 0, "Chunks paid for more than once without a lost answer: " +
            string.Join("; ", twice.Take(5).Select(p => $"{p.Value}x '{p.Key[..Math.Min(40, p.Key.Length)]}'")));
        total.ExcusedResends += paid.Sum(p => Math.Max(0, p.Value - 1));

        // Every chunk still in the index was paid for (and stored) at least once.
        foreach (var row in Db.Rows(database, "SELECT id FROM chunks"))
        {
            Assert.True(paid.ContainsKey(texts[(long)row[0]!]), $"Chunk {row[0]} is Ready but was never embedded by the service.");
        }
    }

    /// <summary>31 minutes pass for the Created jobs: their lease and the grace after an uncertain create run out.</summary>
    private static void AdvanceClock(string database) =>
        Db.Execute(database, """
            UPDATE batch_jobs SET
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '-31 minutes'),
                submitted_at = CASE WHEN submitted_at IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', submitted_at, '-31 minutes') END
            WHERE status = 'Created'
            """);

    [DoesNotReturn]
    private static void Fail(int seed, string step, StringBuilder log, string message) =>
        throw new XunitException($"Seed {seed} (SEMANTICCORE_SOAK_SEEDS={seed}-{seed} reruns it), after '{step}': {message}\nCommands run:\n{log}");
}
