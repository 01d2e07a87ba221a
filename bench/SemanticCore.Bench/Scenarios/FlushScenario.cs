using FakeGemini;
using SemanticCore.Batches;
using SemanticCore.Bench.BatchJobs;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Search;
using SemanticCore.Gemini;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Invoke-BatchFlush's core path against a loopback fake of the Gemini API: N Pending chunks claimed into one job,
/// its JSONL written, uploaded (resumable, 8 MiB chunks) and the batch created, through the real
/// <see cref="GeminiBatchService"/> and <see cref="GeminiClient"/>. Each run on a fresh copy of the index and a fresh
/// fake. Checks that the job and every chunk end Submitted and that the upload holds one line per chunk.
/// A second row flushes to a file-backed service instead (no HTTP, no fake in the process): the core's own time and memory.
/// </summary>
internal sealed class FlushScenario : IScenario
{
    /// <summary>A made-up key that only the in-process fake accepts.</summary>
    private const string TestKey = "bench-fake-gemini-key-0123456789";
    private const int WarmUpChunks = 200;

    public string Name => "flush";
    public string Usage => "flush [--chunks 100000] [--runs 3] [--seed 1729] [--keep] [--quick: 5,000 chunks, 2 runs]";
    public IReadOnlyCollection<string> Options => ["chunks", "runs", "seed"];

    /// <summary>What one run uploaded and what the fake cost it.</summary>
    private sealed record RunFacts(long UploadBytes, double FakeHeldMb, IReadOnlyDictionary<string, (int Count, double Ms)> Requests);

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var chunks = options.Int("chunks", 100_000, quickDefault: 5_000);
        var runs = options.Int("runs", 3, quickDefault: 2);
        var seed = options.Int("seed", 1729, min: 0);
        const int dimensions = IndexSettings.DefaultDimensions;

        using var temp = new TempFolder(Name, options.Has("keep"));
        var template = Path.Combine(temp.Path, "pending.db");
        log.WriteLine($"[flush] generating {Format.Count(chunks)} Pending chunks in {temp.Path}");
        var built = SyntheticIndexBuilder.Build(template, chunks, dimensions, seed, new SyntheticCorpus(seed), log, pendingForBatch: true);

        var checks = new List<string>();
        // One untimed flush of a small index first: JIT, and the one-time statics of the client, Kestrel and the
        // fake, would otherwise count as the first run's time and as memory the flush kept.
        log.WriteLine($"[flush] warm-up: {WarmUpChunks} chunks");
        var warmUp = Path.Combine(temp.Path, "warm-up.db");
        SyntheticIndexBuilder.Build(warmUp, WarmUpChunks, dimensions, seed, new SyntheticCorpus(seed), TextWriter.Null, pendingForBatch: true);
        await RunOnceAsync(warmUp, WarmUpChunks, new TimedCalls(), "warm-up", checks, cancellationToken);
        IndexFile.Delete(warmUp);

        var row = new TimedCalls();
        var toFiles = new TimedCalls();
        var facts = new List<RunFacts>();
        for (var run = 0; run < runs; run++)
        {
            log.WriteLine($"[flush] run {run + 1}/{runs}: to the fake");
            var database = Path.Combine(temp.Path, $"run-{run}.db");
            IndexFile.Copy(template, database);
            facts.Add(await RunOnceAsync(database, chunks, row, $"run {run + 1}", checks, cancellationToken));

            log.WriteLine($"[flush] run {run + 1}/{runs}: to files");
            IndexFile.Copy(template, database);
            await RunToFilesAsync(database, chunks, Path.Combine(temp.Path, "remote"), toFiles, $"run {run + 1}, to files", checks, cancellationToken);
            IndexFile.Delete(database);
        }

        var report = ScenarioReport.ForTimings($"flush: Invoke-BatchFlush of {Format.Count(chunks)} Pending chunks to a loopback fake of the Gemini API",
        [
            row.Row($"FlushAsync: claim, write JSONL, upload, create one job ({Format.Count(chunks)} chunks)", null),
            toFiles.Row("Reference: the same FlushAsync to a file-backed service (upload = file copy; no HTTP, no fake)", null),
        ]);
        report.Setup.Add($"- Index: {Format.Count(chunks)} Pending chunks of a Gemini index ({dimensions} dimensions, 100 a document, about 105 words each, `_vector_source` in the metadata; seed {seed}), " +
                         $"generated in {Format.Seconds(built.Elapsed)} (setup), {Format.Bytes(built.FileBytes)}.");
        report.Setup.Add($"- Timed: `new BatchManager(index, new GeminiBatchService(new GeminiClient(...))).FlushAsync(new FlushOptions {{ MinSize = 1, Force = true, MaxBatchSize = {Format.Count(chunks)}, MaxJobTokens = long.MaxValue }})`, " +
                         $"{runs} runs, each on a fresh copy of the index (already open) and a fresh `FakeGemini.FakeGeminiServer` on 127.0.0.1 (started untimed), in this process; " +
                         "the reference row interleaved with them, each on its own fresh copy.");

        string Requests(string kind)
        {
            var ofKind = facts.Where(f => f.Requests.ContainsKey(kind)).Select(f => f.Requests[kind]).ToList();
            return ofKind.Count == 0 ? $"{kind} —" : $"{kind} {Format.Ms(ofKind.Average(r => r.Ms))} ms ({ofKind[0].Count} request{(ofKind[0].Count == 1 ? "" : "s")})";
        }

        var upload = facts[0].UploadBytes;
        report.Notes.Add($"- Uploaded JSONL: {Format.Bytes(upload)} ({Format.Fixed((double)upload / chunks, 0)} bytes a chunk).");
        report.Notes.Add($"- HTTP time, mean per run (request sent to response read, fake's work included): {Requests("upload start")}, {Requests("upload data")}, {Requests("create batch")}, {Requests("other")}; " +
                         "the rest of the median is the core's own work (claim, write the JSONL, read it back for the upload, record the job), which the reference row measures alone.");
        report.Notes.Add("- Memory: the fake runs in this process and keeps what it receives (the upload session's buffer, the stored file, the parsed input lines of the job), " +
                         $"so the first row's peak working set and managed growth include it (the reference row's are the core's alone): {Format.Mb(facts.Max(f => f.FakeHeldMb))} MB (max over runs) was freed once the fake and the HttpClient " +
                         $"were disposed after the run, leaving {Format.Mb(row.Memory.ManagedGrowthMb - facts.Max(f => f.FakeHeldMb))} MB of growth for the core. Peak: the process's peak RSS during the call (reset before each call, max over runs; RSS when the calls started: {TimedCalls.StartRange([row, toFiles])}); the runs follow one untimed " +
                         $"warm-up flush of {WarmUpChunks} chunks (JIT, one-time statics).");
        report.Notes.Add($"- Allocated per run (GC.GetTotalAllocatedBytes): {Format.Bytes((long)(row.Timings.AllocatedBytesPerSample ?? 0))} with the fake (its allocations included), " +
                         $"{Format.Bytes((long)(toFiles.Timings.AllocatedBytesPerSample ?? 0))} to files.");
        report.Notes.Add(checks.Count == 0
            ? $"- Correctness: every run made one Submitted job of {Format.Count(chunks)} requests with every chunk Submitted in it (both rows); one upload of {Format.Count(chunks)} lines and one remote batch (the fake)."
            : $"- Correctness: {checks.Count} check(s) FAILED (below).");
        report.Failures.AddRange(checks);
        return report;
    }

    private static async Task<RunFacts> RunOnceAsync(string database, int chunks, TimedCalls row, string what, List<string> checks, CancellationToken cancellationToken)
    {
        FakeGeminiServer? server = await FakeGeminiServer.StartAsync();
        HttpClient? http = null;
        long uploadBytes, heapWithFake;
        IReadOnlyDictionary<string, (int Count, double Ms)> requests;
        try
        {
            server.ValidKeys = new HashSet<string>(StringComparer.Ordinal) { TestKey };
            var timer = new RequestTimer();
            http = new HttpClient(timer);
            FlushResult result;
            using (var index = SemanticIndex.Open(database, createIfMissing: false))
            {
                var client = new GeminiClient(http, new ApiKey(TestKey), new GeminiOptions
                {
                    Endpoint = server.Endpoint,
                    Model = index.Settings.Model,
                    Dimensions = index.Settings.Dimensions,
                });
                var manager = new BatchManager(index, new GeminiBatchService(client, new UploadMimeTypeSetting(index)));
                result = await row.RunAsync(() => manager.FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = chunks, MaxJobTokens = long.MaxValue }, null, cancellationToken));
            }

            Check(what, database, chunks, result, server, checks);
            uploadBytes = server.UploadedFiles.Values.Sum(u => u.LongLength);
            requests = timer.ByKind;
            heapWithFake = GC.GetTotalMemory(forceFullCollection: true);
        }
        finally
        {
            if (server is not null) await server.DisposeAsync();
            http?.Dispose();
        }

        // A disposed fake still holds what it received until it is unreachable: let go of it before measuring.
        (server, http) = (null, null);
        await Task.Yield();
        var fakeHeld = (heapWithFake - GC.GetTotalMemory(forceFullCollection: true)) / (1024.0 * 1024.0);
        return new RunFacts(uploadBytes, fakeHeld, requests);
    }

    /// <summary>The flush to <see cref="FileBatchService"/>: what the core itself costs, without a server sharing the process.</summary>
    private static async Task RunToFilesAsync(string database, int chunks, string folder, TimedCalls row, string what, List<string> checks, CancellationToken cancellationToken)
    {
        var service = new FileBatchService(folder);
        FlushResult result;
        using (var index = SemanticIndex.Open(database, createIfMissing: false))
        {
            var manager = new BatchManager(index, service);
            result = await row.RunAsync(() => manager.FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = chunks, MaxJobTokens = long.MaxValue }, null, cancellationToken));
        }

        CheckJob(what, database, chunks, result, checks);
        File.Delete(service.UploadedPath!);
    }

    private static void Check(string what, string database, int chunks, FlushResult result, FakeGeminiServer server, List<string> checks)
    {
        if (!CheckJob(what, database, chunks, result, checks)) return;
        var job = result.Jobs[0];
        var uploads = server.UploadedFiles;
        var lines = uploads.Values.Sum(bytes => (long)bytes.AsSpan().Count((byte)'\n'));
        if (uploads.Count != 1 || lines != chunks) checks.Add($"{what}: {uploads.Count} upload(s) holding {lines} lines; expected one of {chunks}.");
        var batches = server.Batches;
        if (batches.Count != 1 || batches[0].RequestCount != chunks || batches[0].DisplayName != job.Id)
            checks.Add($"{what}: the fake holds {batches.Count} batch(es) ({string.Join(", ", batches.Select(b => $"{b.DisplayName}: {b.RequestCount} requests"))}); expected one of {chunks} named {job.Id}.");
    }

    /// <summary>One Submitted job of every chunk, every chunk Submitted in it; false when there is no single job to look further at.</summary>
    internal static bool CheckJob(string what, string database, int chunks, FlushResult result, List<string> checks)
    {
        if (result.Errors.Count > 0) checks.Add($"{what}: the flush reported {string.Join("; ", result.Errors.Select(e => e.Message))}");
        if (result.Jobs.Count != 1)
        {
            checks.Add($"{what}: the flush made {result.Jobs.Count} jobs, expected one.");
            return false;
        }

        var job = result.Jobs[0];
        if (job.State != BatchJobStatus.Submitted || job.Requests != chunks || job.RemoteName is null)
            checks.Add($"{what}: the job is {job.Status} with {job.Requests} requests and remote name {job.RemoteName ?? "none"}; expected Submitted, {chunks}, a batches/ name.");

        // The job id is a GUID: safe to write into the SQL text.
        var statuses = IndexFile.Counts(database, $"SELECT embedding_status || CASE WHEN batch_job_id = '{job.Id}' THEN ' in the job' ELSE ' elsewhere' END, COUNT(*) FROM chunks GROUP BY 1");
        if (statuses.Count != 1 || statuses.GetValueOrDefault("Submitted in the job") != chunks)
            checks.Add($"{what}: chunks are {string.Join(", ", statuses.Select(s => $"{s.Value} {s.Key}"))}; expected all {chunks} Submitted in the job.");
        return true;
    }
}
