using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// What the batch recovery, concurrency and cancellation tests share: a corpus of a known number of
/// chunks, readers of what the fake received and of the index, and the console host as a child process.
/// </summary>
internal static class BatchTestSupport
{
    /// <summary>The lease of a Created job (BatchManager.CreatedLease, 30 minutes).</summary>
    public static readonly TimeSpan CreatedLease = TimeSpan.FromMinutes(30);

    /// <summary>An upper bound for anything that should take seconds: only a guard against hangs, never a measurement.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    /// <summary><paramref name="documents"/> documents of 10 sections with one paragraph each: exactly 10 chunks per document.</summary>
    public static void WriteCorpus(TestDirectory dir, int documents, string folder = "kb") =>
        BatchTestKit.WriteCorpus(dir, folder, documents, sections: 10, tag: folder);

    /// <summary>Imports a corpus folder into a Gemini index as Pending chunks (no key, no remote call).</summary>
    public static long ImportAsync(PsSession ps, string folder = "kb", string database = "index.db")
    {
        var imported = ps.Run($"Import-SemanticDocument -Path {folder}/*.md -Database {database} -Mode Async").AssertNoErrors();
        return imported.Output.Sum(o => o.Long("Pending"));
    }

    /// <summary>Same as SQLite writes them (Timestamps.ToText): ISO 8601 UTC with milliseconds.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The ErrorId of a record (its FullyQualifiedErrorId without the ",Command" suffix).</summary>
    public static string ErrorId(this ErrorRecord error) => error.FullyQualifiedErrorId.Split(',')[0];

    /// <summary>The keys (chunk ids) of one uploaded JSONL input file, in file order.</summary>
    public static List<long> KeysOf(byte[] jsonl) =>
        BatchTestKit.KeysOf(jsonl).Select(key => long.Parse(key, CultureInfo.InvariantCulture)).ToList();

    /// <summary>For every chunk id sent in any remote job the fake holds: the names of those jobs (one per line sent).</summary>
    public static Dictionary<long, List<string>> RemoteJobsByChunk(FakeGeminiServer server)
    {
        var uploads = server.UploadedFiles;
        var byChunk = new Dictionary<long, List<string>>();
        foreach (var batch in server.Batches)
        {
            foreach (var key in KeysOf(uploads[batch.InputFileName]))
            {
                if (!byChunk.TryGetValue(key, out var jobs)) byChunk[key] = jobs = [];
                jobs.Add(batch.Name);
            }
        }

        return byChunk;
    }

    /// <summary>
    /// Every chunk of the index was sent in exactly one remote job, exactly once, and the index records that
    /// very job for it: status Submitted, batch_job_id = the local job whose remote job holds the chunk.
    /// </summary>
    public static void AssertEveryChunkInExactlyOneRemoteJob(FakeGeminiServer server, string database)
    {
        var byChunk = RemoteJobsByChunk(server);
        var chunks = Db.Rows(database, """
            SELECT c.id, c.embedding_status, c.batch_job_id, j.status, j.remote_name
            FROM chunks c LEFT JOIN batch_jobs j ON j.id = c.batch_job_id ORDER BY c.id
            """);
        Assert.NotEmpty(chunks);
        Assert.Equal(chunks.Select(r => (long)r[0]!).ToHashSet(), byChunk.Keys.ToHashSet());
        foreach (var row in chunks)
        {
            var id = (long)row[0]!;
            var remote = Assert.Single(byChunk[id]);
            Assert.Equal("Submitted", row[1]);
            Assert.NotNull(row[2]);
            Assert.Equal("Submitted", row[3]);
            Assert.Equal(remote, row[4]);
        }

        // The remote job of each local job is named by the local job id (its displayName).
        foreach (var batch in server.Batches.Where(b => chunks.Any(c => Equals(c[4], b.Name))))
        {
            Assert.Equal(batch.DisplayName, Db.Rows(database, $"SELECT id FROM batch_jobs WHERE remote_name = '{batch.Name}'").Single()[0]);
        }

        Invariants.AssertHold(database);
    }

    /// <summary>
    /// After a stopped or failed flush: a chunk may be claimed (batch_job_id set) only by a job that has a
    /// remote counterpart, or by a Created job whose lease has run out (so the next flush recovers it).
    /// </summary>
    public static void AssertNoChunkStranded(FakeGeminiServer server, string database)
    {
        var remoteNames = server.Batches.Select(b => b.Name).ToHashSet();
        var leaseCutoff = Timestamp(DateTimeOffset.UtcNow - CreatedLease);
        var claims = Db.Rows(database, """
            SELECT c.id, c.embedding_status, j.id, j.status, j.remote_name, j.updated_at
            FROM chunks c JOIN batch_jobs j ON j.id = c.batch_job_id
            WHERE c.embedding_status = 'Submitted'
            """);
        foreach (var claim in claims)
        {
            var hasRemote = claim[4] is string name && remoteNames.Contains(name);
            var recoverable = Equals(claim[3], "Created") && string.CompareOrdinal((string)claim[5]!, leaseCutoff) < 0;
            Assert.True(hasRemote || recoverable,
                $"Chunk {claim[0]} ({claim[1]}) is held by job {claim[2]} ({claim[3]}, remote {claim[4] ?? "none"}, updated {claim[5]}), " +
                "which has no remote job and is not a Created job with an expired lease: no flush or sync would ever release it.");
        }
    }

    /// <summary>A runspace with the module imported, for tests that need the PowerShell instance itself (BeginInvoke, Stop).</summary>
    public static Runspace OpenRunspace(ModuleFixture module, string workingDirectory)
    {
        var runspace = RunspaceFactory.CreateRunspace(module.SessionState);
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(workingDirectory);
        return runspace;
    }

    /// <summary>
    /// The seeds a suite runs: 1..<paramref name="ciSeeds"/>, or what SEMANTICCORE_SOAK_SEEDS says, a count (200: seeds
    /// 1..200) or a range (17-17: seed 17 alone, to rerun a failure).
    /// </summary>
    public static (int First, int Last) SoakSeeds(int ciSeeds)
    {
        var value = Environment.GetEnvironmentVariable("SEMANTICCORE_SOAK_SEEDS");
        if (string.IsNullOrWhiteSpace(value)) return (1, ciSeeds);
        var match = Regex.Match(value.Trim(), @"^(?:(\d+)-)?(\d+)$");
        Assert.True(match.Success, $"SEMANTICCORE_SOAK_SEEDS must be a count (200) or a range (17-17), not '{value}'.");
        var last = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return (match.Groups[1].Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 1, last);
    }

    /// <summary>Waits for a condition, polling; false when the hang guard ran out first.</summary>
    public static bool WaitFor(Func<bool> condition, TimeSpan? guard = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (guard ?? HangGuard)) return false;
            Thread.Sleep(20);
        }

        return true;
    }
}

/// <summary>
/// The repository's console host (SemanticCore.Host) as child processes, for two scheduled runs at once.
/// Each run first writes its ready file, then waits for a common go file, so that the commands under test
/// start together rather than whenever each engine happens to finish starting.
/// </summary>
internal sealed class HostRace(string workingDirectory, Uri geminiEndpoint)
{
    private static readonly string HostDll = Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "src", "SemanticCore.Host", "bin"), "SemanticCore.Host.dll", SearchOption.AllDirectories)
        .OrderByDescending(File.GetLastWriteTimeUtc).First();

    public sealed record Run(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="command"/> in each of <paramref name="count"/> host processes at once.</summary>
    public IReadOnlyList<Run> RunTogether(string command, int count = 2) => RunTogether(Enumerable.Repeat(command, count).ToList());

    /// <summary>Runs each command in its own host process, all at once.</summary>
    public IReadOnlyList<Run> RunTogether(IReadOnlyList<string> commands, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? guard = null)
    {
        var go = Path.Combine(workingDirectory, $"go-{Guid.NewGuid():N}");
        var processes = new List<(Process Process, Task<string> Stdout, Task<string> Stderr, string Ready)>();
        try
        {
            foreach (var command in commands)
            {
                var ready = Path.Combine(workingDirectory, $"ready-{Guid.NewGuid():N}");
                var script = $"[System.IO.File]::WriteAllText('{ready}', 'ready'); " +
                             $"while (-not [System.IO.File]::Exists('{go}')) {{ [System.Threading.Thread]::Sleep(2) }}\n" +
                             command;
                var start = new ProcessStartInfo("dotnet")
                {
                    WorkingDirectory = workingDirectory,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                start.ArgumentList.Add(HostDll);
                start.ArgumentList.Add("-Command");
                start.ArgumentList.Add(script);
                start.Environment.Remove("SEMANTICCORE_DATABASE");
                start.Environment.Remove("GEMINI_API_KEY");
                start.Environment.Remove("GOOGLE_API_KEY");
                start.Environment["SEMANTICCORE_GEMINI_ENDPOINT"] = geminiEndpoint.ToString();
                start.Environment["GEMINI_BATCH_API_KEY"] = GeminiFake.BatchKey;
                foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
                var process = Process.Start(start)!;
                processes.Add((process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync(), ready));
            }

            Assert.True(BatchTestSupport.WaitFor(() => processes.All(p => File.Exists(p.Ready) || p.Process.HasExited)),
                "The host processes did not start");
            File.WriteAllText(go, "go");

            var runs = new List<Run>();
            foreach (var (process, stdout, stderr, _) in processes)
            {
                Assert.True(process.WaitForExit(guard ?? BatchTestSupport.HangGuard), "A host process did not finish");
                runs.Add(new Run(process.ExitCode, stdout.Result, stderr.Result));
            }

            return runs;
        }
        finally
        {
            foreach (var (process, _, _, _) in processes)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.Dispose();
            }
        }
    }

    /// <summary>Every run exited 0 and wrote nothing to stderr (errors and warnings go there).</summary>
    public static void AssertAllClean(IReadOnlyList<Run> runs)
    {
        for (var i = 0; i < runs.Count; i++)
        {
            Assert.True(runs[i].ExitCode == 0 && string.IsNullOrWhiteSpace(runs[i].Stderr),
                $"Host run {i} exited {runs[i].ExitCode}.\nstderr:\n{runs[i].Stderr}\nstdout:\n{runs[i].Stdout}");
        }
    }
}
