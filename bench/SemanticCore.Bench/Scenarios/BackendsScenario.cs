using System.Diagnostics;
using System.Globalization;
using SemanticCore.Batches;
using SemanticCore.Bench.Backends;
using SemanticCore.Bench.Import;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Search;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Search;
using SemanticCore.Storage;
using SemanticCore.Storage.Postgres;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// SQLite and PostgreSQL side by side in one run, on the same generated data: storing a job's results
/// (<c>index.Jobs.WriteResults</c>), an Async import, several processes draining one index at once (Local provider), and
/// exact search at 100,000 and 1,000,000 × 768 (SQLite's vector cache and streamed file; PostgreSQL exact), with
/// PostgreSQL's HNSW latency, build time and recall@10 against exact. The server comes from
/// <c>$env:SEMANTICCORE_BENCH_POSTGRES</c>; without it the PostgreSQL side is skipped. Checks: the same results on both
/// engines (exact top 10, chunk counts, every chunk Ready once) and HNSW recall@10 above <see cref="RecallFloor"/>.
/// </summary>
internal sealed class BackendsScenario : IScenario
{
    private const int Top = 10;
    private const int MaxRetries = 3;
    private const int ResultsPerPage = 5_000;
    /// <summary>Scores closer than this may rank in either order between engines (float rounding of the sums).</summary>
    private const double NearTie = 1e-5;
    /// <summary>
    /// HNSW recall@10 against exact below this fails the run: the index or its search is broken (measured: 0.97 at 5,000,
    /// 0.78 at 100,000 with the module's ef_search of 40).
    /// </summary>
    private const double RecallFloor = 0.7;

    public string Name => "backends";
    public string Usage => "backends [--store-chunks 100000] [--files 2000] [--flush-chunks 20000] [--processes 4] [--search-sizes 100000,1000000] " +
                           "[--hnsw-max 100000] [--maintenance-work-mem 2GB] [--queries 20] [--runs 2] [--dimensions 768] [--seed 1729] " +
                           "[--quick: 2,000 results, 100 files, 1,000 chunks, search at 5,000]; PostgreSQL from $env:" + BenchServer.Variable;
    public IReadOnlyCollection<string> Options => ["store-chunks", "files", "flush-chunks", "processes", "search-sizes", "hnsw-max", "maintenance-work-mem", "queries", "runs", "dimensions", "seed"];

    /// <summary>One engine's measurement of a row: its timings and this process's memory (null when not measured here).</summary>
    private sealed record Side(Timings Timings, MemoryUse? Memory);

    /// <summary>One row of the side-by-side table; a null side was not measured (skipped, or not a thing that engine has).</summary>
    private sealed record Row(string Scenario, Side? Sqlite, Side? Postgres);

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var storeChunks = options.Int("store-chunks", 100_000, quickDefault: 2_000, min: 10);
        var files = options.Int("files", 2_000, quickDefault: 100);
        var flushChunks = options.Int("flush-chunks", 20_000, quickDefault: 1_000, min: 10);
        var processes = options.Int("processes", 4, max: 64);
        var searchSizes = (options.String("search-sizes") ?? (options.Quick ? "5000" : "100000,1000000")).Split(',')
            .Select(s => int.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= Top
                ? n : throw new UsageException($"--search-sizes takes sizes of at least {Top}, separated by commas, not '{s}'.")).ToArray();
        var hnswMax = options.Int("hnsw-max", 100_000, min: 0);
        var workMem = options.String("maintenance-work-mem") ?? "2GB";
        var queryCount = options.Int("queries", 20, quickDefault: 10);
        var runs = options.Int("runs", 2, quickDefault: 1);
        var dimensions = options.Int("dimensions", IndexSettings.DefaultDimensions, min: 16, max: 2000);
        var seed = options.Int("seed", 1729, min: 0);

        using var temp = new TempFolder(Name, options.Has("keep"));
        using var server = BenchServer.FromEnvironment();
        var rows = new List<Row>();
        var report = new ScenarioReport($"backends: SQLite and PostgreSQL side by side ({dimensions} dimensions)", new ReportTable(
            "scenario", "SQLite median ms", "PostgreSQL median ms", "PostgreSQL / SQLite", "SQLite peak MB", "PostgreSQL peak MB (client)"));
        report.Setup.Add(server is null
            ? $"- PostgreSQL side SKIPPED: $env:{BenchServer.Variable} is not set (bench/postgres.ps1 runs this scenario against a throwaway server)."
            : $"- PostgreSQL: {server.Versions()} from $env:{BenchServer.Variable}; shared_buffers {server.Show("shared_buffers")}, work_mem {server.Show("work_mem")}, " +
              $"max_parallel_workers_per_gather {server.Show("max_parallel_workers_per_gather")}; each index in a fresh schema, dropped after. Same machine as the bench.");

        var context = new Context(temp.Path, server, dimensions, seed, runs, log, report, cancellationToken);
        rows.Add(await StoreResultsAsync(context, storeChunks));
        rows.Add(await ImportAsync(context, files));
        rows.Add(await ConcurrentDrainAsync(context, flushChunks, processes));
        foreach (var size in searchSizes) rows.AddRange(await SearchAsync(context, size, queryCount, hnswMax, workMem));

        foreach (var row in rows) report.Table.Add(Cells(row, server is not null));
        report.Notes.Add("- PostgreSQL / SQLite: the PostgreSQL median over the SQLite median (below 1: PostgreSQL faster). Peak MB: this process's peak working set during the row " +
                         "(reset before it; for the concurrent row, the largest worker's); the PostgreSQL server's own memory is not in it (its shared_buffers are above).");
        return report;
    }

    /// <summary>What every part needs.</summary>
    private sealed record Context(string Folder, BenchServer? Server, int Dimensions, int Seed, int Runs, TextWriter Log, ScenarioReport Report, CancellationToken Cancellation)
    {
        public string SqlitePath(string name) => Path.Combine(Folder, name + ".db");

        /// <summary>A fresh database of the engine: an SQLite path, or a connection string naming a fresh schema.</summary>
        public string Fresh(bool postgres, string name)
        {
            if (postgres) return Server!.FreshIndex(name);
            var path = SqlitePath(name);
            IndexFile.Delete(path);
            return path;
        }

        public void Remove(string database)
        {
            if (PostgresLocation.IsPostgres(database)) Server!.Drop(database);
            else IndexFile.Delete(database);
        }

        /// <summary>The engines measured: SQLite, then PostgreSQL when a server is given.</summary>
        public bool[] Engines => Server is null ? [false] : [false, true];
    }

    private static string[] Cells(Row row, bool postgresMeasured)
    {
        var skipped = postgresMeasured ? "—" : "skipped";
        string Ms(Side? side, string missing) => side is null ? missing : Format.Ms(side.Timings.Median);
        string Mb(Side? side, string missing) => side?.Memory is { } m ? Format.Mb(m.PeakWorkingSetMb) : side is null ? missing : "—";
        var ratio = row.Sqlite is { } s && row.Postgres is { } p ? Format.Ratio(p.Timings.Median / s.Timings.Median) : "—";
        return [row.Scenario, Ms(row.Sqlite, "—"), Ms(row.Postgres, skipped), ratio, Mb(row.Sqlite, "—"), Mb(row.Postgres, skipped)];
    }

    private static string Engine(bool postgres) => postgres ? "PostgreSQL" : "SQLite";

    /// <summary>Chunks per embedding status, and the total.</summary>
    private static Dictionary<string, long> Statuses(SemanticIndex index) =>
        index.Chunks.Summarize(new ChunkFilter()).ToDictionary(s => s.Status, s => s.Chunks, StringComparer.Ordinal);

    // ---- storing a job's results ----

    private static async Task<Row> StoreResultsAsync(Context c, int chunks)
    {
        c.Log.WriteLine($"[backends] store: {Format.Count(chunks)} results × {c.Dimensions}");
        var pages = ResultPages(chunks, c.Dimensions, c.Seed);
        var calls = c.Engines.ToDictionary(e => e, _ => new TimedCalls());
        TimeSpan[] loads = [TimeSpan.Zero, TimeSpan.Zero];
        for (var run = 0; run < c.Runs; run++)
        {
            foreach (var postgres in c.Engines)
            {
                var database = c.Fresh(postgres, "store");
                loads[postgres ? 1 : 0] = TwinIndexLoader.Load(database, chunks, c.Dimensions, c.Seed, withVectors: false, TextWriter.Null);
                using (var index = SemanticIndex.Open(database, createIfMissing: false))
                {
                    const string jobId = "bench-store";
                    index.Jobs.CreateAndClaim(jobId, new ClaimLimits(chunks, long.MaxValue, null, null));
                    index.Jobs.MarkSubmitted(jobId, "batches/bench-store", null);
                    await calls[postgres].RunAsync(() =>
                    {
                        using var writer = index.Jobs.WriteResults(jobId, MaxRetries);
                        foreach (var page in pages) writer.Store(page);
                        return Task.CompletedTask;
                    });
                    var statuses = Statuses(index);
                    if (statuses.GetValueOrDefault(nameof(EmbeddingStatus.Ready)) != chunks)
                        c.Report.Failures.Add($"store, {Engine(postgres)}: {statuses.GetValueOrDefault(nameof(EmbeddingStatus.Ready))} of {chunks} chunks Ready after storing every result.");
                }

                c.Remove(database);
            }
        }

        c.Report.Setup.Add($"- store: {Format.Count(chunks)} chunks claimed into one Submitted job (loaded untimed: SQLite {Format.Seconds(loads[0])}, PostgreSQL {Format.Seconds(loads[1])}); " +
                           $"timed: `index.Jobs.WriteResults(job, {MaxRetries})` storing {Format.Count(chunks)} unit vectors in pages of up to {Format.Count(ResultsPerPage)} (one transaction each; " +
                           "PostgreSQL: binary COPY into a temporary table and set-based updates), on a fresh index per run, right after the claim (as a sync right after a flush: the PostgreSQL writer analyzes `chunks` first, timed); the parsing of the output is not in it (the apply scenario measures the whole sync).");
        return new Row($"Store {Format.Count(chunks)} × {c.Dimensions} batch results (WriteResults)", Measured(calls, false), Measured(calls, true));
    }

    private static Side? Measured(Dictionary<bool, TimedCalls> calls, bool postgres) =>
        calls.TryGetValue(postgres, out var call) ? new Side(call.Timings, call.Memory) : null;

    /// <summary>Every chunk's result as the sync hands it to the store: pages of unit vectors, chunk ids 1..n.</summary>
    private static List<ResultPage> ResultPages(int chunks, int dimensions, int seed)
    {
        var random = new Random(seed + 3);
        var generator = new LowRankVectors(dimensions, seed);
        var pages = new List<ResultPage>();
        for (var first = 1; first <= chunks; first += ResultsPerPage)
        {
            var vectors = new List<(long, float[], long)>();
            for (var id = first; id < Math.Min(chunks + 1, first + ResultsPerPage); id++)
            {
                var vector = new float[dimensions];
                generator.Next(random, vector);
                vectors.Add((id, vector, 20));
            }

            pages.Add(new ResultPage(vectors, [], []));
        }

        return pages;
    }

    // ---- import ----

    private static async Task<Row> ImportAsync(Context c, int fileCount)
    {
        c.Log.WriteLine($"[backends] import: {Format.Count(fileCount)} Markdown files");
        var corpus = new MarkdownCorpusGenerator(c.Seed).Write(Path.Combine(c.Folder, "corpus"), fileCount);
        var calls = c.Engines.ToDictionary(e => e, _ => new TimedCalls());
        var chunkCounts = new Dictionary<bool, long>();
        for (var run = 0; run < c.Runs; run++)
        {
            foreach (var postgres in c.Engines)
            {
                var database = c.Fresh(postgres, "import");
                using (var index = SemanticIndex.Open(database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local, null, c.Dimensions)))
                {
                    var added = 0;
                    await calls[postgres].RunAsync(() =>
                    {
                        // As Import-SemanticDocument -Mode Async does: files queued into shared transactions, results taken at each commit.
                        using var importer = new DocumentImporter(index);
                        foreach (var file in corpus.Files)
                        {
                            c.Cancellation.ThrowIfCancellationRequested();
                            importer.Queue(file);
                            if (importer.CommitDue) added += importer.Commit().Count(r => r.State == ImportStatus.Added);
                        }

                        added += importer.Commit().Count(r => r.State == ImportStatus.Added);
                        return Task.CompletedTask;
                    });
                    if (added != fileCount) c.Report.Failures.Add($"import, {Engine(postgres)}: {added} of {fileCount} files Added.");
                    chunkCounts[postgres] = index.Ranking.CountChunks();
                }

                c.Remove(database);
            }
        }

        if (chunkCounts.Values.Distinct().Count() > 1)
            c.Report.Failures.Add($"import: SQLite stored {chunkCounts[false]} chunks, PostgreSQL {chunkCounts[true]}.");
        c.Report.Setup.Add($"- import: {Format.Count(fileCount)} generated Markdown files ({Format.Bytes(corpus.Bytes)}, {Format.Count(chunkCounts[false])} chunks), `DocumentImporter` " +
                           "Queue/Commit as Import-SemanticDocument -Mode Async, into a fresh Local index per run.");
        return new Row($"Import {Format.Count(fileCount)} Markdown files ({Format.Bytes(corpus.Bytes)}), Async", Measured(calls, false), Measured(calls, true));
    }

    // ---- several processes draining one index ----

    private static async Task<Row> ConcurrentDrainAsync(Context c, int chunks, int processes)
    {
        var batch = Math.Max(10, chunks / (processes * 5));
        c.Log.WriteLine($"[backends] drain: {processes} processes, {Format.Count(chunks)} chunks in jobs of {Format.Count(batch)}");
        var samples = c.Engines.ToDictionary(e => e, _ => new List<double>());
        var peaks = c.Engines.ToDictionary(e => e, _ => 0.0);
        var jobs = c.Engines.ToDictionary(e => e, _ => 0L);
        for (var run = 0; run < c.Runs; run++)
        {
            foreach (var postgres in c.Engines)
            {
                var database = c.Fresh(postgres, "drain");
                TwinIndexLoader.Load(database, chunks, c.Dimensions, c.Seed, withVectors: false, TextWriter.Null);
                var start = Stopwatch.GetTimestamp();
                var workers = await Task.WhenAll(Enumerable.Range(0, processes).Select(_ => ChildProcess.RunAsync(
                    [FlushSyncWorkerCommand.Name, "--db", database, "--batch", batch.ToString(CultureInfo.InvariantCulture)], c.Cancellation)));
                samples[postgres].Add(Measure.Milliseconds(start));
                peaks[postgres] = Math.Max(peaks[postgres], workers.Max(w => w.PeakWorkingSetMb));
                foreach (var failed in workers.Where(w => w.ExitCode != 0))
                    c.Report.Failures.Add($"drain, {Engine(postgres)}: a worker exited with code {failed.ExitCode}: {failed.Output.Trim()}");

                using (var index = SemanticIndex.Open(database, createIfMissing: false))
                {
                    var statuses = Statuses(index);
                    var allJobs = index.Jobs.List(null).ToList();
                    jobs[postgres] = allJobs.Count;
                    if (statuses.GetValueOrDefault(nameof(EmbeddingStatus.Ready)) != chunks)
                        c.Report.Failures.Add($"drain, {Engine(postgres)}: {statuses.GetValueOrDefault(nameof(EmbeddingStatus.Ready))} of {chunks} chunks Ready.");
                    if (allJobs.Sum(j => j.Requests) != chunks)
                        c.Report.Failures.Add($"drain, {Engine(postgres)}: the jobs hold {allJobs.Sum(j => j.Requests)} requests for {chunks} chunks (a chunk claimed twice, or not at all).");
                }

                c.Remove(database);
            }
        }

        c.Report.Setup.Add($"- drain: {processes} processes (`dotnet SemanticCore.Bench.dll {FlushSyncWorkerCommand.Name}`) started at once on one index of {Format.Count(chunks)} Pending chunks, " +
                           $"each running `BatchManager.DrainAsync` (Invoke-BatchFlush -Wait) with the Local provider, jobs of at most {Format.Count(batch)} chunks, the index's own spool (a folder beside the SQLite file; a table of the PostgreSQL index); " +
                           $"timed from starting the processes until the last exits (process start included). Jobs made: SQLite {jobs[false]}" +
                           (c.Server is null ? "." : $", PostgreSQL {jobs.GetValueOrDefault(true)}."));
        Side? Side(bool postgres) => samples.TryGetValue(postgres, out var s) ? new Side(new Timings(s), new MemoryUse(peaks[postgres], 0)) : null;
        return new Row($"{processes} processes flushing and syncing one index ({Format.Count(chunks)} chunks, Local provider)", Side(false), Side(true));
    }

    // ---- search ----

    private static async Task<IReadOnlyList<Row>> SearchAsync(Context c, int size, int queryCount, int hnswMax, string workMem)
    {
        c.Log.WriteLine($"[backends] search: loading {Format.Count(size)} × {c.Dimensions} into SQLite");
        var sqlite = c.Fresh(false, $"search-{size}");
        var sqliteLoad = TwinIndexLoader.Load(sqlite, size, c.Dimensions, c.Seed, withVectors: true, c.Log);
        var random = new Random(c.Seed + 2);
        var generator = new LowRankVectors(c.Dimensions, c.Seed); // the stored vectors' basis: queries with neighbours among them
        var queries = Enumerable.Range(0, queryCount).Select(_ =>
        {
            var q = new float[c.Dimensions];
            generator.Next(random, q);
            return q;
        }).ToArray();
        var label = $"{Format.Count(size)} × {c.Dimensions}";
        var rows = new List<Row>();

        Side cached, streamed;
        double cacheLoadMs;
        List<long>[] sqliteTop;
        VectorCache.Evict();
        using (var index = SemanticIndex.Open(sqlite, createIfMissing: false))
        {
            var memory = MemoryScope.Start();
            var start = Stopwatch.GetTimestamp();
            index.Ranking.TopVectorHits(queries[0], new SearchFilter(), Top, keepInMemory: true, c.Cancellation);
            cacheLoadMs = Measure.Milliseconds(start);
            (cached, sqliteTop) = TimeQueries(c, index, queries, keepInMemory: true, memory);
            VectorCache.Evict();
            memory = MemoryScope.Start();
            index.Ranking.TopVectorHits(queries[0], new SearchFilter(), Top, keepInMemory: false, c.Cancellation);
            (streamed, var streamedTop) = TimeQueries(c, index, queries, keepInMemory: false, memory);
            for (var i = 0; i < queries.Length; i++)
                if (!sqliteTop[i].SequenceEqual(streamedTop[i])) c.Report.Failures.Add($"search {label}: query {i}: SQLite's cached and streamed top 10 differ.");
        }

        c.Remove(sqlite);
        var sizeNote = $"- search {label}: exact top {Top} through the ranking store (`index.Ranking.TopVectorHits`, what Search-SemanticIndex -Mode Semantic asks of the engine), " +
                       $"{queries.Length} query vectors drawn as the stored ones are (low-rank, see Backends/LowRankVectors.cs) × {c.Runs} runs after one untimed query; SQLite loaded in {Format.Seconds(sqliteLoad)}, its vector cache filled by the first query in {Format.Ms(cacheLoadMs)} ms";
        if (c.Server is null)
        {
            rows.Add(new Row($"Search {label}: exact, SQLite vector cache / PostgreSQL exact", cached, null));
            rows.Add(new Row($"Search {label}: exact, SQLite streamed file / PostgreSQL exact", streamed, null));
            c.Report.Setup.Add(sizeNote + ".");
            return rows;
        }

        c.Log.WriteLine($"[backends] search: loading {Format.Count(size)} × {c.Dimensions} into PostgreSQL");
        var postgres = c.Fresh(true, $"search_{size}");
        var postgresLoad = TwinIndexLoader.Load(postgres, size, c.Dimensions, c.Seed, withVectors: true, c.Log);
        using (var index = SemanticIndex.Open(postgres, createIfMissing: false))
        {
            var memory = MemoryScope.Start();
            index.Ranking.TopVectorHits(queries[0], new SearchFilter(), Top, keepInMemory: true, c.Cancellation);
            var (exact, exactTop) = TimeQueries(c, index, queries, keepInMemory: true, memory);
            rows.Add(new Row($"Search {label}: exact, SQLite vector cache / PostgreSQL exact", cached, exact));
            rows.Add(new Row($"Search {label}: exact, SQLite streamed file / PostgreSQL exact", streamed, exact));
            var same = 0;
            for (var i = 0; i < queries.Length; i++)
            {
                if (exactTop[i].SequenceEqual(sqliteTop[i])) same++;
                else SameUpToNearTies(c, label, i, exactTop[i], sqliteTop[i], index, queries[i]);
            }

            sizeNote += $"; PostgreSQL loaded (binary COPY) in {Format.Seconds(postgresLoad)}. PostgreSQL exact top 10 = SQLite's for {same} of {queries.Length} queries";
            if (size <= hnswMax)
            {
                c.Log.WriteLine($"[backends] search: building HNSW over {Format.Count(size)} (maintenance_work_mem {workMem})");
                var buildMs = BuildHnsw(postgres, index.Settings, workMem);
                memory = MemoryScope.Start();
                index.Ranking.TopVectorHits(queries[0], new SearchFilter(), Top, keepInMemory: true, c.Cancellation);
                var (hnsw, hnswTop) = TimeQueries(c, index, queries, keepInMemory: true, memory);
                rows.Add(new Row($"Search {label}: PostgreSQL HNSW (ef_search 40)", null, hnsw));
                var recall = Enumerable.Range(0, queries.Length).Average(i => hnswTop[i].Intersect(exactTop[i]).Count() / (double)Top);
                sizeNote += $"; HNSW (m 16, ef_construction 64, inner product) built in {Format.Seconds(TimeSpan.FromMilliseconds(buildMs))} with maintenance_work_mem {workMem}, " +
                            $"recall@10 against exact {Format.Fixed(recall, 3)}";
                if (recall < RecallFloor) c.Report.Failures.Add($"search {label}: HNSW recall@10 {Format.Fixed(recall, 3)} is below {Format.Fixed(RecallFloor, 2)}.");
            }
            else
            {
                sizeNote += $"; no HNSW at this size (above --hnsw-max {Format.Count(hnswMax)})";
            }
        }

        c.Remove(postgres);
        c.Report.Setup.Add(sizeNote + ".");
        await Task.CompletedTask;
        return rows;
    }

    /// <summary>Times every query <see cref="Context.Runs"/> times; returns the timings and each query's top ids (first run).</summary>
    private static (Side Side, List<long>[] Top) TimeQueries(Context c, SemanticIndex index, float[][] queries, bool keepInMemory, MemoryScope memory)
    {
        var top = new List<long>[queries.Length];
        var timings = Measure.Repeat(c.Runs, queries.Length, (run, i) =>
        {
            var ranking = index.Ranking.TopVectorHits(queries[i], new SearchFilter(), Top, keepInMemory, c.Cancellation);
            if (run == 0) top[i] = ranking.Hits.Select(h => h.ChunkId).ToList();
        });
        return (new Side(timings, memory.Stop()), top);
    }

    /// <summary>A top 10 that differs between the engines fails unless every differing rank is a near tie (the same score within <see cref="NearTie"/>).</summary>
    private static void SameUpToNearTies(Context c, string label, int query, List<long> postgresTop, List<long> sqliteTop, SemanticIndex postgres, float[] vector)
    {
        var scores = postgres.Ranking.TopVectorHits(vector, new SearchFilter(), Top * 2, keepInMemory: true, c.Cancellation).Hits.ToDictionary(h => h.ChunkId, h => h.Score);
        var tenth = scores[postgresTop[^1]];
        // Only SQLite's: each must score as PostgreSQL's 10th does, within the tolerance; the same ids in another order are near ties too.
        var nearTies = sqliteTop.Except(postgresTop).All(id => scores.TryGetValue(id, out var score) && Math.Abs(score - tenth) < NearTie);
        var message = $"search {label}: query {query}: PostgreSQL exact top 10 [{string.Join(',', postgresTop)}] differs from SQLite's [{string.Join(',', sqliteTop)}]";
        if (nearTies) c.Report.Warnings.Add(message + $"; the differing ranks score within {NearTie} (near ties).");
        else c.Report.Failures.Add(message + ".");
    }

    /// <summary>Builds the HNSW index as Update-SemanticSchema -VectorIndex Hnsw does, with the given maintenance_work_mem; returns the ms it took.</summary>
    private static double BuildHnsw(string database, IndexSettings settings, string workMem)
    {
        using var db = PostgresDatabase.Connect(database);
        using var connection = db.DataSource.OpenConnection();
        using (var set = new Npgsql.NpgsqlCommand($"SET maintenance_work_mem = '{workMem.Replace("'", "", StringComparison.Ordinal)}'", connection)) set.ExecuteNonQuery();
        var start = Stopwatch.GetTimestamp();
        PostgresVectorIndex.Build(connection, settings, db.Location.DisplayName);
        var ms = Measure.Milliseconds(start);
        using (var analyze = new Npgsql.NpgsqlCommand("ANALYZE chunk_vectors", connection)) analyze.ExecuteNonQuery();
        return ms;
    }
}
