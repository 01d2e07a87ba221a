using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Search;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Search;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Search latency on a generated index (default 100,000 chunks × 768 dimensions): Keyword, Semantic and Hybrid
/// top-10 through <see cref="IndexSearch"/>, warm (vector cache) and without the cache, against a scalar baseline
/// measured in the same run, plus the first query of a new process. Checks that every semantic path returns
/// the same top-10 as the baseline.
/// </summary>
internal sealed class SearchScenario : IScenario
{
    private const int Top = 10;
    /// <summary>Scores closer than this may rank in either order between SIMD and scalar sums (float rounding).</summary>
    private const double NearTie = 1e-5;

    public string Name => "search";
    public string Usage => "search [--chunks 100000] [--dimensions 768] [--queries 30] [--runs 5] [--seed 1729] [--keep] [--quick: 5,000 chunks, 10 queries, 2 runs]";
    public IReadOnlyCollection<string> Options => ["chunks", "dimensions", "queries", "runs", "seed"];

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var chunks = options.Int("chunks", 100_000, quickDefault: 5_000, min: Top);
        var dimensions = options.Int("dimensions", IndexSettings.DefaultDimensions, min: 16, max: 8192);
        var queryCount = options.Int("queries", 30, quickDefault: 10);
        var runs = options.Int("runs", 5, quickDefault: 2);
        var seed = options.Int("seed", 1729, min: 0);

        using var temp = new TempFolder(Name, options.Has("keep"));
        var corpus = new SyntheticCorpus(seed);
        log.WriteLine($"[search] generating {Format.Count(chunks)} chunks × {dimensions} dimensions in {temp.Path}");
        var built = SyntheticIndexBuilder.Build(Path.Combine(temp.Path, "search.db"), chunks, dimensions, seed, corpus, log);
        var queries = corpus.Queries(queryCount, seed + 1);
        var n = queries.Count;
        var check = new Checks(chunks);

        VectorCache.Evict();
        TimingRow keyword, semanticWarm, hybridWarm, semanticNoCache, baselineRow;
        double firstCachedMs;
        long cacheAfterSemantic, cacheAfterHybrid, keywordHits = 0;
        using (var index = SemanticIndex.Open(built.Path, createIfMissing: false))
        {
            var embedder = new LocalEmbeddingProvider(index.Settings);
            Task<SearchOutcome> Search(string query, SearchMode mode, bool useCache) => IndexSearch.SearchAsync(index,
                new SearchRequest { Query = query, Top = Top, Mode = mode, UseCache = useCache }, () => embedder, cancellationToken);

            // Every row: one untimed warm-up query (JIT, first reads), then runs × queries timed ones.
            log.WriteLine("[search] keyword");
            var memory = MemoryScope.Start();
            await Search(queries[0], SearchMode.Keyword, useCache: true);
            var keywordTimes = await Measure.RepeatAsync(runs, n, async (run, i) =>
            {
                var outcome = await Search(queries[i], SearchMode.Keyword, useCache: true);
                if (run == 0) keywordHits += outcome.Hits.Count;
            });
            keyword = new TimingRow("Keyword top-10 (BM25, FTS5)", keywordTimes, null, memory.Stop());

            log.WriteLine("[search] baseline (scalar, no cache)");
            var baselineTop = new List<(long Id, float Score)>[n];
            memory = MemoryScope.Start();
            using (var baseline = new ScalarBaseline(built.Path))
            {
                baseline.Search(embedder.Embed(queries[0]), Top);
                var times = Measure.Repeat(runs, n, (run, i) =>
                {
                    var top = baseline.Search(embedder.Embed(queries[i]), Top);
                    if (run == 0) baselineTop[i] = top;
                });
                baselineRow = new TimingRow("Baseline: scalar semantic top-10 (no cache, no SIMD)", times, 1.0, memory.Stop());
            }

            var baselineMedian = baselineRow.Timings.Median;

            log.WriteLine("[search] semantic, UseCache=false");
            var noCacheHits = new IReadOnlyList<SearchHit>[n];
            memory = MemoryScope.Start();
            await Search(queries[0], SearchMode.Semantic, useCache: false);
            var noCacheTimes = await Measure.RepeatAsync(runs, n, async (run, i) =>
            {
                var outcome = await Search(queries[i], SearchMode.Semantic, useCache: false);
                check.Statistics("Semantic UseCache=false", queries[i], outcome, fromCache: false);
                if (run == 0) noCacheHits[i] = outcome.Hits;
            });
            semanticNoCache = new TimingRow("Semantic top-10, UseCache=false (reads every BLOB, SIMD)", noCacheTimes, baselineMedian / noCacheTimes.Median, memory.Stop());

            log.WriteLine("[search] semantic, warm");
            VectorCache.Evict();
            var warmHits = new IReadOnlyList<SearchHit>[n];
            memory = MemoryScope.Start();
            var first = System.Diagnostics.Stopwatch.GetTimestamp();
            var firstOutcome = await Search(queries[0], SearchMode.Semantic, useCache: true); // loads the cache
            firstCachedMs = Measure.Milliseconds(first);
            check.Statistics("Semantic warm-up", queries[0], firstOutcome, fromCache: false);
            var warmTimes = await Measure.RepeatAsync(runs, n, async (run, i) =>
            {
                var outcome = await Search(queries[i], SearchMode.Semantic, useCache: true);
                check.Statistics("Semantic warm", queries[i], outcome, fromCache: true);
                if (run == 0) warmHits[i] = outcome.Hits;
            });
            semanticWarm = new TimingRow("Semantic top-10, warm (vector cache)", warmTimes, baselineMedian / warmTimes.Median, memory.Stop());
            cacheAfterSemantic = VectorCache.Bytes;

            log.WriteLine("[search] hybrid, warm");
            memory = MemoryScope.Start();
            await Search(queries[0], SearchMode.Hybrid, useCache: true);
            var hybridTimes = await Measure.RepeatAsync(runs, n, async (_, i) =>
            {
                var outcome = await Search(queries[i], SearchMode.Hybrid, useCache: true);
                check.Statistics("Hybrid warm", queries[i], outcome, fromCache: true);
            });
            hybridWarm = new TimingRow("Hybrid top-10, warm (vector cache)", hybridTimes, baselineMedian / hybridTimes.Median, memory.Stop());
            cacheAfterHybrid = VectorCache.Bytes;

            for (var i = 0; i < n; i++) check.SameTopTen(queries[i], baselineTop[i], noCacheHits[i], warmHits[i]);
        }

        VectorCache.Evict();

        log.WriteLine($"[search] cold first query: {runs} child processes");
        await ColdProcessRunner.RunAsync(built.Path, queries[0], nameof(SearchMode.Hybrid), cancellationToken); // untimed: warms the OS file cache
        var cold = new List<ColdRun>();
        for (var run = 0; run < runs; run++)
        {
            var result = await ColdProcessRunner.RunAsync(built.Path, queries[run % n], nameof(SearchMode.Hybrid), cancellationToken);
            check.Cold(queries[run % n], result);
            cold.Add(result);
        }

        var childMemory = new MemoryUse(cold.Max(c => c.PeakWorkingSetMb), cold.Max(c => c.ManagedMb));
        var coldInProcess = new Timings(cold.Select(c => c.InProcessMs));
        var coldWall = new Timings(cold.Select(c => c.WallMs));

        var report = ScenarioReport.ForTimings($"search: {Format.Count(chunks)} chunks × {dimensions} dimensions, top {Top}",
        [
            keyword,
            semanticWarm,
            hybridWarm,
            semanticNoCache,
            baselineRow,
            new TimingRow("Cold first query, new process, Hybrid: in-process (open + load vectors + embed + score)", coldInProcess,
                baselineRow.Timings.Median / coldInProcess.Median, childMemory),
            new TimingRow("Cold first query, new process, Hybrid: wall (process start to exit)", coldWall, null, childMemory),
        ]);

        report.Setup.Add($"- Index: {Format.Count(built.Chunks)} Ready chunks in {Format.Count(built.Documents)} documents, " +
                         $"{Format.Fixed((double)built.Words / built.Chunks, 1)} words a chunk on average ({SyntheticCorpus.VocabularySize:N0}-word vocabulary, Zipf s = {Format.Fixed(SyntheticCorpus.ZipfExponent, 1)}), " +
                         $"random unit vectors of {dimensions} dimensions; seed {seed}.");
        report.Setup.Add($"- Generated in {Format.Seconds(built.Elapsed)} (setup, not a result); file {Format.Bytes(built.FileBytes)}.");
        report.Setup.Add($"- {n} queries of 3–6 words × {runs} runs = {n * runs} timed queries per in-process row (median and min over all); " +
                         "each row after one untimed warm-up query.");
        report.Setup.Add($"- Cold rows: {runs} child processes `dotnet SemanticCore.Bench.dll cold-query --db <file> --query <q> --mode Hybrid`, " +
                         "one query each, after one untimed child; the file is in the OS page cache (a cold process, not a cold disk).");

        report.Notes.Add($"- Vector cache (VectorCache.Bytes): {Format.Bytes(cacheAfterSemantic)} after the warm Semantic row, {Format.Bytes(cacheAfterHybrid)} after the warm Hybrid row.");
        report.Notes.Add($"- First cached query of the process (loads {Format.Count(built.Chunks)} vectors into the cache, then scores): {Format.Ms(firstCachedMs)} ms.");
        report.Notes.Add($"- Allocated per query (GC.GetTotalAllocatedBytes): baseline {PerQuery(baselineRow)}, Semantic UseCache=false {PerQuery(semanticNoCache)}, " +
                         $"Semantic warm {PerQuery(semanticWarm)}, Hybrid warm {PerQuery(hybridWarm)}, Keyword {PerQuery(keyword)}.");
        report.Notes.Add(MemoryScope.PeakIsPerScenario
            ? "- Peak working set: the process's peak RSS during that row (VmHWM, reset at the start of each row); the warm Semantic row includes loading the cache. " +
              "Cold rows: the child's peak (max over runs); their managed growth is the child's live heap after its query."
            : "- Peak working set: the process's peak since it started (could not be reset per row). Cold rows: the child's peak (max over runs).");
        report.Notes.Add($"- Keyword hits: {Format.Fixed((double)keywordHits / n, 1)} a query on average; cold children: {Format.Fixed(cold.Average(c => c.Hits), 1)} hits, vectors loaded fresh in each.");
        report.Notes.Add(check.Summary(n));
        report.Failures.AddRange(check.Failures);
        report.Warnings.AddRange(check.Warnings);
        return report;
    }

    private static string PerQuery(TimingRow row) => row.Timings.AllocatedBytesPerSample is not { } bytes ? "—"
        : bytes >= 1024 * 1024 ? Format.Fixed(bytes / (1024 * 1024), 1) + " MB"
        : Format.Fixed(bytes / 1024, 1) + " KB";

    /// <summary>Correctness checks, gathered as the scenario runs: each failed one is a FAIL line (exit code 1).</summary>
    private sealed class Checks(long chunks)
    {
        private int exactBaselineMatches;
        private int warmMatches;

        public List<string> Failures { get; } = [];
        public List<string> Warnings { get; } = [];

        public void Statistics(string row, string query, SearchOutcome outcome, bool fromCache)
        {
            if (outcome.Statistics.VectorsScored != chunks)
                Fail($"{row} \"{query}\": scored {outcome.Statistics.VectorsScored?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} vectors, expected {chunks}.");
            if (outcome.Statistics.FromCache != fromCache)
                Fail($"{row} \"{query}\": FromCache is {outcome.Statistics.FromCache}, expected {fromCache}.");
            if (outcome.Hits.Count != Math.Min(Top, chunks))
                Fail($"{row} \"{query}\": {outcome.Hits.Count} hits, expected {Math.Min(Top, chunks)}.");
        }

        public void Cold(string query, ColdRun run)
        {
            if (run.VectorsScored != chunks) Fail($"Cold query \"{query}\": scored {run.VectorsScored} vectors, expected {chunks}.");
            if (run.FromCache) Fail($"Cold query \"{query}\": the child found its vectors already cached.");
            if (run.Hits != Math.Min(Top, chunks)) Fail($"Cold query \"{query}\": {run.Hits} hits, expected {Math.Min(Top, chunks)}.");
        }

        /// <summary>
        /// The warm cached and the UseCache=false top-10 must be identical (same SIMD arithmetic on the same floats);
        /// the baseline's too, except that two scores within <see cref="NearTie"/> may swap (scalar vs SIMD rounding).
        /// </summary>
        public void SameTopTen(string query, List<(long Id, float Score)> baseline, IReadOnlyList<SearchHit> noCache, IReadOnlyList<SearchHit> warm)
        {
            var noCacheIds = noCache.Select(h => h.ChunkId).ToList();
            var warmIds = warm.Select(h => h.ChunkId).ToList();
            var baselineIds = baseline.Select(b => b.Id).ToList();
            if (warmIds.SequenceEqual(noCacheIds)) warmMatches++;
            else Fail($"query \"{query}\": warm cached Semantic top-10 [{string.Join(',', warmIds)}] differs from UseCache=false [{string.Join(',', noCacheIds)}].");

            if (baselineIds.SequenceEqual(noCacheIds))
            {
                exactBaselineMatches++;
                return;
            }

            var nearTies = baseline.Count == noCache.Count && baseline.Zip(noCache).All(p => Math.Abs(p.First.Score - p.Second.Score) < NearTie);
            var message = $"query \"{query}\": baseline top-10 [{string.Join(',', baselineIds)}] differs from the core's [{string.Join(',', noCacheIds)}]";
            if (nearTies) Warnings.Add(message + $"; every rank's score agrees within {NearTie} (a near-tie ordered differently by scalar and SIMD sums).");
            else Fail(message + ".");
        }

        public string Summary(int queries) =>
            $"- Correctness: warm cached Semantic top-10 = UseCache=false top-10 for {warmMatches} of {queries} queries; " +
            $"= the baseline's top-10 (same ids, same order) for {exactBaselineMatches} of {queries} queries" +
            (Failures.Count > 0 ? $"; {Failures.Count} check(s) FAILED (below)." : ".");

        private void Fail(string message)
        {
            // One line per distinct problem; a systematic error would otherwise repeat for every query and run.
            if (Failures.Count < 50) Failures.Add(message);
        }
    }
}
