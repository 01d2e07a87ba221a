using SemanticCore.Batches;
using SemanticCore.Bench.BatchJobs;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Search;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Sync-BatchJob applying a finished job's results, the module's own code path
/// (<see cref="BatchManager.SyncAsync"/>): one job of N chunks flushed through a file-backed batch service, its
/// output generated as the service writes it (3 % per-line errors by default), then synced on a fresh copy of the
/// flushed index per run, from a shuffled and from a key-ordered output. Baseline, in the same run: the original
/// design (everything in memory, then one transaction). Checks that both orders give the same index, and the same
/// vectors and Ready chunks as the baseline.
/// </summary>
internal sealed class ApplyScenario : IScenario
{
    private const int MaxRetries = 3;
    private const int SecondSize = 20_000;
    private const int QuickSecondSize = 1_000;
    /// <summary>Per float, should the core's normalization move a last bit of an already unit-length vector.</summary>
    private const double Tolerance = 1e-6;

    public string Name => "apply";
    public string Usage => "apply [--chunks 100000 (also 20,000 unless --chunks is given)] [--dimensions 768] [--runs 3] [--error-rate 0.03] [--seed 1729] [--keep] [--quick: 5,000 and 1,000 chunks, 2 runs]";
    public IReadOnlyCollection<string> Options => ["chunks", "dimensions", "runs", "error-rate", "seed"];

    /// <summary>One size's rows and what was set up for them.</summary>
    private sealed record SizeResult(int Chunks, TimedCalls Shuffled, TimedCalls Ordered, TimedCalls Baseline, SyntheticIndex Index, TimeSpan FlushElapsed,
        long InputBytes, GeneratedOutput Output, Dictionary<string, long> BytesAfter, VectorComparison VersusBaseline, int Failures);

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var chunks = options.Int("chunks", 100_000, quickDefault: 5_000);
        int[] sizes = options.Has("chunks") ? [chunks] : [chunks, options.Quick ? QuickSecondSize : SecondSize];
        var dimensions = options.Int("dimensions", IndexSettings.DefaultDimensions, min: 128, max: 3072);
        var runs = options.Int("runs", 3, quickDefault: 2);
        var errorRate = options.Double("error-rate", 0.03, 0, 1);
        var seed = options.Int("seed", 1729, min: 0);

        using var temp = new TempFolder(Name, options.Has("keep"));
        var corpus = new SyntheticCorpus(seed);
        var checks = new List<string>();
        var results = new List<SizeResult>();
        foreach (var size in sizes)
        {
            results.Add(await RunSizeAsync(size, dimensions, runs, errorRate, seed, corpus, Path.Combine(temp.Path, size.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                checks, log, cancellationToken));
        }

        var rows = new List<TimingRow>();
        foreach (var r in results)
        {
            var baseline = r.Baseline.Timings.Median;
            rows.Add(r.Shuffled.Row($"Sync-BatchJob apply, shuffled output, {Format.Count(r.Chunks)} lines", baseline / r.Shuffled.Timings.Median));
            rows.Add(r.Ordered.Row($"Sync-BatchJob apply, output in key order, {Format.Count(r.Chunks)} lines", baseline / r.Ordered.Timings.Median));
            rows.Add(r.Baseline.Row($"Baseline: all lines in memory, then one transaction (shuffled), {Format.Count(r.Chunks)} lines", 1.0));
        }

        var report = ScenarioReport.ForTimings($"apply: Sync-BatchJob storing a finished job's results, {string.Join(" and ", sizes.Select(s => Format.Count(s)))} chunks × {dimensions} dimensions", rows);
        var first = results[0];
        report.Setup.Add($"- Per size: a Gemini index of N Pending chunks (100 a document, about 105 words each, `_vector_source` in the metadata; seed {seed}), " +
                         "flushed by `BatchManager.FlushAsync` into ONE job through a file-backed `IBatchService`; its output generated from the uploaded input " +
                         $"as the service writes it: {Format.Fixed(errorRate * 100, 1)} % per-line errors, half `400 INVALID_ARGUMENT` (fails the chunk), half `429 RESOURCE_EXHAUSTED` (retried), " +
                         "the rest unit-length float32 vectors printed shortest-round-trip.");
        foreach (var r in results)
        {
            report.Setup.Add($"- {Format.Count(r.Chunks)} chunks: index generated in {Format.Seconds(r.Index.Elapsed)} ({Format.Bytes(r.Index.FileBytes)}), flushed in {Format.Seconds(r.FlushElapsed)} " +
                             $"(input JSONL {Format.Bytes(r.InputBytes)}); output {Format.Bytes(r.Output.Bytes)} a file ({Format.Count(r.Output.Succeeded)} vectors, " +
                             $"{Format.Count(r.Output.InvalidArgument)} × 400, {Format.Count(r.Output.Exhausted)} × 429), written in {Format.Seconds(r.Output.Elapsed)} (setup, not a result).");
        }

        report.Setup.Add($"- Timed: `SyncAsync(jobId, maxRetries: {MaxRetries})` on an index already open, {runs} runs per row, each on a fresh copy of the flushed index " +
                         "(checkpointed, copied untimed); the output file is in the OS page cache. Rows run interleaved (shuffled, ordered, baseline, next run).");

        foreach (var r in results)
        {
            report.Notes.Add($"- {Format.Count(r.Chunks)} lines: per line {PerLine(r.Shuffled, r.Chunks)} shuffled, {PerLine(r.Ordered, r.Chunks)} in key order, {PerLine(r.Baseline, r.Chunks)} baseline; " +
                             $"allocated per run (GC.GetTotalAllocatedBytes) {PerRun(r.Shuffled)} shuffled, {PerRun(r.Ordered)} ordered, {PerRun(r.Baseline)} baseline; " +
                             $"index after the sync {Format.Bytes(r.BytesAfter["shuffled"])} shuffled, {Format.Bytes(r.BytesAfter["ordered"])} ordered, {Format.Bytes(r.BytesAfter["baseline"])} baseline.");
        }

        if (results.Count > 1)
        {
            var small = results[1];
            string Growth(Func<SizeResult, TimedCalls> row) =>
                Format.Fixed(row(first).Timings.Median / first.Chunks / (row(small).Timings.Median / small.Chunks), 2) + "×";
            report.Notes.Add($"- Cost per line at {Format.Count(first.Chunks)} vs {Format.Count(small.Chunks)} lines: shuffled {Growth(r => r.Shuffled)}, " +
                             $"ordered {Growth(r => r.Ordered)}, baseline {Growth(r => r.Baseline)} (1.00× = linear).");
        }

        report.Notes.Add("- Peak working set: the process's peak RSS during the timed call (reset before each call, max over runs; the process's RSS when the calls started: " +
                         $"{TimedCalls.StartRange(results.SelectMany(r => new[] { r.Shuffled, r.Ordered, r.Baseline }))}); managed growth: live managed heap after the call minus before it (full GCs, max over runs).");
        foreach (var r in results)
        {
            var v = r.VersusBaseline;
            if (r.Failures > 0)
            {
                report.Notes.Add($"- Correctness, {Format.Count(r.Chunks)}: {r.Failures} check(s) FAILED (below).");
                continue;
            }

            report.Notes.Add($"- Correctness, {Format.Count(r.Chunks)}: shuffled = ordered exactly (chunk statuses, messages, retry counts, vectors, job row); " +
                             $"vs the baseline: same {Format.Count(v.Identical + v.WithinTolerance + v.Different)} chunk ids with vectors and the same Ready chunks; " +
                             (v.WithinTolerance == 0 && v.Different == 0
                                 ? "every vector BLOB byte-identical to the baseline's float32 of the parsed values."
                                 : $"{Format.Count(v.Identical)} BLOBs byte-identical, {Format.Count(v.WithinTolerance)} within {Invariant(Tolerance)} per float after the core's normalization " +
                                   $"(max difference {Invariant(v.MaxDifference)}), {Format.Count(v.Different)} beyond it."));
        }

        report.Failures.AddRange(checks);
        return report;
    }

    private static async Task<SizeResult> RunSizeAsync(int chunks, int dimensions, int runs, double errorRate, int seed, SyntheticCorpus corpus, string folder,
        List<string> checks, TextWriter log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var failuresBefore = checks.Count;
        var template = Path.Combine(folder, "flushed.db");
        log.WriteLine($"[apply] {Format.Count(chunks)}: generating the Pending chunks in {folder}");
        var built = SyntheticIndexBuilder.Build(template, chunks, dimensions, seed, corpus, log, pendingForBatch: true);

        log.WriteLine($"[apply] {Format.Count(chunks)}: flushing them into one job");
        var service = new FileBatchService(Path.Combine(folder, "remote"));
        var flushStart = System.Diagnostics.Stopwatch.GetTimestamp();
        BatchJob job;
        string model;
        using (var index = SemanticIndex.Open(template, createIfMissing: false))
        {
            var flush = await new BatchManager(index, service).FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = chunks, MaxJobTokens = long.MaxValue }, null, cancellationToken);
            if (flush.Errors.Count > 0 || flush.Jobs.Count != 1 || flush.Jobs[0].Requests != chunks || flush.Jobs[0].State != BatchJobStatus.Submitted)
            {
                throw new InvalidOperationException($"The setup flush made {flush.Jobs.Count} job(s) ({string.Join(", ", flush.Jobs.Select(j => $"{j.Status}, {j.Requests} requests"))}), " +
                                                    $"errors: {string.Join("; ", flush.Errors.Select(e => e.Message))}; expected one Submitted job of {chunks}.");
            }

            job = flush.Jobs[0];
            model = index.Settings.Model;
        }

        var flushElapsed = System.Diagnostics.Stopwatch.GetElapsedTime(flushStart);
        IndexFile.Checkpoint(template);
        var input = service.UploadedPath!;

        log.WriteLine($"[apply] {Format.Count(chunks)}: writing the output JSONL (ordered and shuffled)");
        var output = BatchOutputGenerator.Write(input, Path.Combine(folder, "output-ordered.jsonl"), Path.Combine(folder, "output-shuffled.jsonl"), dimensions, errorRate, seed);

        var shuffled = new TimedCalls();
        var ordered = new TimedCalls();
        var baseline = new TimedCalls();
        var bytesAfter = new Dictionary<string, long>(StringComparer.Ordinal);
        string DatabaseFor(string variant, int run) => Path.Combine(folder, $"{variant}-{run}.db");

        for (var run = 0; run < runs; run++)
        {
            foreach (var (variant, row, file) in new[] { ("shuffled", shuffled, output.ShuffledPath), ("ordered", ordered, output.OrderedPath) })
            {
                log.WriteLine($"[apply] {Format.Count(chunks)}: run {run + 1}/{runs}, {variant}");
                var database = DatabaseFor(variant, run);
                IndexFile.Copy(template, database);
                service.ResultsPath = file;
                SyncResult result;
                using (var index = SemanticIndex.Open(database, createIfMissing: false))
                {
                    result = await row.RunAsync(() => new BatchManager(index, service).SyncAsync(job.Id, MaxRetries, null, cancellationToken));
                }

                CheckJob($"{Format.Count(chunks)} {variant} run {run + 1}", result, output, checks);
                Finish(database, run, variant, bytesAfter);
            }

            log.WriteLine($"[apply] {Format.Count(chunks)}: run {run + 1}/{runs}, baseline");
            var baselineDatabase = DatabaseFor("baseline", run);
            IndexFile.Copy(template, baselineDatabase);
            var stored = await baseline.RunAsync(() => Task.FromResult(InMemoryBaselineApplier.Apply(baselineDatabase, output.ShuffledPath, job.Id, model, dimensions)));
            if (stored.Vectors != output.Succeeded || stored.Errors != output.InvalidArgument + output.Exhausted)
                checks.Add($"{Format.Count(chunks)} baseline run {run + 1}: stored {stored.Vectors} vectors and {stored.Errors} errors, expected {output.Succeeded} and {output.InvalidArgument + output.Exhausted}.");
            Finish(baselineDatabase, run, "baseline", bytesAfter);
        }

        log.WriteLine($"[apply] {Format.Count(chunks)}: comparing the indexes");
        var versusBaseline = Compare(Format.Count(chunks), DatabaseFor("shuffled", 0), DatabaseFor("ordered", 0), DatabaseFor("baseline", 0), output, checks);
        foreach (var variant in new[] { "shuffled", "ordered", "baseline" }) IndexFile.Delete(DatabaseFor(variant, 0));
        return new SizeResult(chunks, shuffled, ordered, baseline, built, flushElapsed, new FileInfo(input).Length, output, bytesAfter, versusBaseline,
            checks.Count - failuresBefore);
    }

    /// <summary>Keeps run 1's index for the comparisons (closed and checkpointed) and deletes the others: each holds hundreds of MB of vectors.</summary>
    private static void Finish(string database, int run, string variant, Dictionary<string, long> bytesAfter)
    {
        if (run > 0)
        {
            IndexFile.Delete(database);
            return;
        }

        bytesAfter[variant] = IndexFile.Bytes(database);
        IndexFile.Checkpoint(database);
    }

    /// <summary>What the sync must report for the generated output: every line counted where it belongs.</summary>
    private static void CheckJob(string what, SyncResult result, GeneratedOutput output, List<string> checks)
    {
        var job = result.Job;
        var errors = output.InvalidArgument + output.Exhausted;
        var status = output.Succeeded == 0 ? BatchJobStatus.Failed : errors == 0 ? BatchJobStatus.Completed : BatchJobStatus.CompletedWithErrors;
        var problems = new List<string>();
        if (job.State != status) problems.Add($"status {job.Status}, expected {status}");
        if (job.Succeeded != output.Succeeded) problems.Add($"{job.Succeeded} succeeded, expected {output.Succeeded}");
        if (job.Failed != output.InvalidArgument) problems.Add($"{job.Failed} failed, expected {output.InvalidArgument}");
        if (job.Retried != output.Exhausted) problems.Add($"{job.Retried} retried, expected {output.Exhausted}");
        if (job.Tokens != output.Tokens) problems.Add($"{job.Tokens} tokens, expected {output.Tokens}");
        if (job.UnknownKeys + job.DuplicateKeys + job.MalformedLines != 0) problems.Add($"{job.UnknownKeys} unknown, {job.DuplicateKeys} duplicate keys, {job.MalformedLines} malformed lines");
        if (result.Warnings.Count > 0) problems.Add("warnings: " + string.Join("; ", result.Warnings));
        if (problems.Count > 0) checks.Add($"{what}: the synced job has {string.Join(", ", problems)}.");
    }

    /// <summary>Run 1's three indexes: shuffled = ordered exactly; the candidate's vectors and Ready chunks = the baseline's; statuses as generated.</summary>
    private static VectorComparison Compare(string size, string shuffled, string ordered, string baseline, GeneratedOutput output, List<string> checks)
    {
        checks.AddRange(IndexComparer.SameRows(shuffled, ordered,
            "SELECT id, embedding_status, error_message, retry_count, batch_job_id FROM chunks ORDER BY id", $"{size} shuffled vs ordered, chunks"));
        checks.AddRange(IndexComparer.SameRows(shuffled, ordered,
            "SELECT chunk_id, model, dimensions, vector FROM chunk_vectors ORDER BY chunk_id", $"{size} shuffled vs ordered, chunk_vectors"));
        checks.AddRange(IndexComparer.SameRows(shuffled, ordered, """
            SELECT id, remote_name, status, request_count, succeeded_count, failed_count, retried_count, token_count, stats,
                   input_file, output_file, error_message
            FROM batch_jobs ORDER BY id
            """, $"{size} shuffled vs ordered, batch_jobs"));

        VectorComparison? first = null;
        foreach (var (name, candidate) in new[] { ("shuffled", shuffled), ("ordered", ordered) })
        {
            var vectors = IndexComparer.Vectors(candidate, baseline, Tolerance);
            first ??= vectors;
            if (!vectors.SameSet || vectors.Different > 0)
            {
                checks.Add($"{size} {name} vs baseline: vectors of {vectors.OnlyInFirst} chunk(s) only in the candidate, {vectors.OnlyInSecond} only in the baseline, " +
                           $"{vectors.Different} differing by more than {Invariant(Tolerance)} (max {Invariant(vectors.MaxDifference)}).");
            }

            checks.AddRange(IndexComparer.SameRows(candidate, baseline, "SELECT id FROM chunks WHERE embedding_status = 'Ready' ORDER BY id", $"{size} {name} vs baseline, Ready chunks"));
        }

        var statuses = IndexFile.Counts(shuffled, "SELECT embedding_status || ' / ' || COALESCE(error_message, '') || ' / ' || retry_count, COUNT(*) FROM chunks GROUP BY 1");
        var expected = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["Ready /  / 0"] = output.Succeeded,
            [$"Failed / 400 INVALID_ARGUMENT: {BatchOutputGenerator.InvalidArgumentMessage} / 0"] = output.InvalidArgument,
            [$"Pending / 429 RESOURCE_EXHAUSTED: {BatchOutputGenerator.ExhaustedMessage} / 1"] = output.Exhausted,
        };
        foreach (var key in expected.Keys.Union(statuses.Keys).Where(k => expected.GetValueOrDefault(k) != statuses.GetValueOrDefault(k)))
        {
            checks.Add($"{size} shuffled: {statuses.GetValueOrDefault(key)} chunk(s) are '{key}' (status / message / retry count), expected {expected.GetValueOrDefault(key)}.");
        }

        return first!;
    }

    private static string Invariant(double value) => value.ToString("G3", System.Globalization.CultureInfo.InvariantCulture);

    private static string PerLine(TimedCalls row, int lines) => Format.Fixed(row.Timings.Median * 1000 / lines, 1) + " µs";

    private static string PerRun(TimedCalls row) => Format.Bytes((long)(row.Timings.AllocatedBytesPerSample ?? 0));
}
