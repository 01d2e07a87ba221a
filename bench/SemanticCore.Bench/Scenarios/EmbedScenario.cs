using System.Diagnostics;
using SemanticCore.Batches;
using SemanticCore.Bench.Import;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Onnx;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Embedding speed on this machine over the same real chunks (a generated Markdown corpus, read and chunked as the
/// importer does): the read + chunk bound with nothing embedded, the Local embedder, and each Onnx model's embedder,
/// each fed the chunks in groups of 256 as the flush of a Local or Onnx index feeds it. Then the memory of a long flush:
/// an Onnx index of <c>--embed-chunks</c> Pending chunks flushed through the real path (<see cref="BatchManager"/> over
/// <see cref="EmbeddingProviders.CreateBatchService"/>, which embeds a job as it creates it), its peak RSS taken at
/// 10 %, 50 % and 100 % of the chunks. Checks that every chunk got a vector and that the flush's memory stays flat.
/// </summary>
internal sealed class EmbedScenario : IScenario
{
    /// <summary>Texts handed to an embedder at a time: the group LocalBatchService embeds a job's lines in.</summary>
    private const int GroupSize = LocalBatchService.RequestsPerGroup;

    /// <summary>Texts embedded untimed before a row: JIT, and the first inference's allocations.</summary>
    private const int WarmUpTexts = 32;

    /// <summary>Memory a flush may gain from 10 % to 100 % whatever its size: the model's arena and the GC's heap settling.</summary>
    private const double FlatLeewayMb = 64;

    private const double Mb = 1024.0 * 1024.0;

    /// <summary>Shares of the long flush's chunks at which its peak RSS is taken.</summary>
    private static readonly double[] Marks = [0.1, 0.5, 1.0];

    private static readonly string[] Columns =
        ["scenario", "chunks", "seconds", "chunks/s", "ratio vs read + chunk", "word pieces a chunk", "chunks in windows", "peak working set MB", "managed growth MB"];

    public string Name => "embed";
    public string Usage => "embed [--files 100] [--embed-chunks 100000] [--seed 1729] [--keep] [--quick: 10 files, 300 chunks flushed, the default model alone]";
    public IReadOnlyCollection<string> Options => ["files", "embed-chunks", "seed"];

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var fileCount = options.Int("files", 100, quickDefault: 10);
        var flushChunks = options.Int("embed-chunks", 100_000, quickDefault: 300);
        var seed = options.Int("seed", 1729, min: 0);
        var models = options.Quick ? [OnnxModel.Default] : OnnxModel.All;
        var onnx = (OnnxProvider)EmbeddingProviders.Installed(EmbeddingProviderKind.Onnx);
        var checks = new List<string>();

        using var temp = new TempFolder(Name, options.Has("keep"));
        log.WriteLine($"[embed] generating {Format.Count(fileCount)} Markdown files in {temp.Path}");
        var corpus = new MarkdownCorpusGenerator(seed).Write(Path.Combine(temp.Path, "corpus"), fileCount);

        log.WriteLine("[embed] read + chunk");
        var chunking = new TimedCalls();
        var texts = await chunking.RunAsync(() => Task.FromResult(CorpusChunks.Of(corpus.Files).SelectMany(chunks => chunks).Select(d => d.VectorSource).ToList()));
        var baselineRate = texts.Count / Seconds(chunking);
        var table = new ReportTable(Columns);
        table.Add(Cells("Read + chunk (DocumentReader.Read + DocumentChunker.Chunk), nothing embedded", texts.Count, chunking, baselineRate, null));

        log.WriteLine($"[embed] Local: {Format.Count(texts.Count)} chunks");
        var local = new LocalEmbeddingProvider(IndexSettings.FromRequest(new IndexSettingsRequest(EmbeddingProviderKind.Local, null, IndexSettings.DefaultDimensions)));
        table.Add(Cells($"Local ({local.Settings.Model}, {local.Settings.Dimensions} dimensions)", texts.Count,
            await EmbedTimedAsync(local, texts, checks, cancellationToken), baselineRate, null));

        var loads = new List<string>();
        foreach (var model in models)
        {
            log.WriteLine($"[embed] Onnx {model.Name}: {Format.Count(texts.Count)} chunks");
            var loadStart = Stopwatch.GetTimestamp();
            var encoder = onnx.Encoder(model.Name);
            loads.Add($"{model.Name} {Format.Seconds(Stopwatch.GetElapsedTime(loadStart))}");
            var windows = texts.Select(encoder.Windows).ToList();
            var pieces = (windows.Average(w => w.Sum(ids => ids.Length - 2)), windows.Count(w => w.Count > 1));
            var embedder = EmbeddingProviders.CreateInteractive(IndexSettings.FromRequest(new IndexSettingsRequest(EmbeddingProviderKind.Onnx, model.Name)), null);
            table.Add(Cells($"Onnx {model.Name} ({model.Pooling} pooling, windows of {model.MaxTokens} word pieces)", texts.Count,
                await EmbedTimedAsync(embedder, texts, checks, cancellationToken), baselineRate, pieces));
        }

        var flush = await FlushAsync(temp.Path, flushChunks, texts.Count / (double)fileCount, seed, onnx, log, checks, cancellationToken);
        var flushRow = Cells($"Flush of an Onnx index ({OnnxModel.Default.Name}, the default): BatchManager.FlushAsync over EmbeddingProviders.CreateBatchService; peak at 10 / 50 / 100 %",
            (int)flush.Chunks, flush.Calls, baselineRate, null);
        flushRow[7] = string.Join(" / ", flush.PeaksMb.Select(Format.Mb));
        table.Add(flushRow);

        var report = new ScenarioReport($"embed: chunks a second on this machine ({Format.Count(texts.Count)} chunks), and a flush of {Format.Count(flush.Chunks)} Onnx chunks", table);
        report.Setup.Add($"- Chunks: {Format.Count(fileCount)} generated Markdown files ({Format.Bytes(corpus.Bytes)}, seed {seed}; the import scenario's corpus) read and chunked as the importer does: " +
                         $"{Format.Count(texts.Count)} chunks ({Format.Fixed(texts.Count / (double)fileCount, 1)} a file), each embedded as its vector source (context prefix and content). " +
                         "The prose is made-up words (Zipf-distributed), which WordPiece splits into more pieces than English.");
        report.Setup.Add($"- Timed per row, one run on the same chunks: the embedder's `EmbedDocumentsAsync` over groups of {GroupSize} chunks (as a flush of a Local or Onnx index hands them over; " +
                         $"the Onnx embedder runs up to {SentenceEncoder.TokensPerBatch} padded tokens an inference, on {Environment.ProcessorCount} threads), vectors dropped; {WarmUpTexts} chunks embedded untimed first. " +
                         $"Model loads (untimed): {string.Join(", ", loads)}.{(options.Quick ? " --quick: the default model alone." : "")}");
        report.Setup.Add($"- Flush: {Format.Count(flush.Chunks)} Pending chunks of a fresh Onnx index ({OnnxModel.Default.Name}), imported Async from {Format.Count(flush.Files)} more generated files (setup, {Format.Seconds(flush.ImportTime)}); " +
                         "timed: `new BatchManager(index, EmbeddingProviders.CreateBatchService(index, null)).FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = all })`, one job " +
                         $"that the local batch service embeds into the index's spool {GroupSize} lines at a time. Peak RSS read as the embedder handed over the chunk at 10 %, 50 % and 100 %.");
        report.Notes.Add($"- chunks/s = chunks / seconds; ratio vs read + chunk = the row's chunks/s / the read + chunk row's. Word pieces: the model's tokens a chunk, [CLS] and [SEP] left out; chunks in windows: " +
                         "those longer than the model reads at once, embedded in several windows whose vectors are averaged.");
        report.Notes.Add($"- Peak working set: the process's peak RSS during the row (reset before it; RSS when the rows started: {TimedCalls.StartRange([chunking, flush.Calls])}), the loaded models included; " +
                         "managed growth: live heap after minus before. The machine's cores are shared with other builds and tests while it runs: expect noise in the rates.");
        report.Notes.Add(checks.Count == 0
            ? $"- Correctness: every embedder returned one vector of its dimensions for each chunk; the flush made one Submitted job of {Format.Count(flush.Chunks)} chunks, every chunk embedded once, " +
              $"and its peak RSS grew {Format.Mb(flush.PeaksMb[^1] - flush.PeaksMb[0])} MB from 10 % to 100 % (allowed: {Format.Mb(FlatAllowanceMb(flush.Chunks))} MB)."
            : $"- Correctness: {checks.Count} check(s) FAILED (below).");
        report.Failures.AddRange(checks);
        return report;
    }

    /// <summary>What the long flush measured.</summary>
    private sealed record FlushFacts(long Chunks, int Files, TimeSpan ImportTime, TimedCalls Calls, double[] PeaksMb);

    /// <summary>
    /// Flushes a fresh Onnx index of at least <paramref name="target"/> Pending chunks (whole files, generated until their
    /// chunks reach it) and takes the peak RSS as the embedder passes each of <see cref="Marks"/>.
    /// </summary>
    private static async Task<FlushFacts> FlushAsync(string folder, int target, double chunksPerFile, int seed, OnnxProvider onnx, TextWriter log,
        List<string> checks, CancellationToken cancellationToken)
    {
        var files = new List<string>();
        long chunks = 0;
        for (var part = 1; chunks < target; part++)
        {
            var count = (int)Math.Ceiling((target - chunks) / chunksPerFile * 1.5) + 1;
            log.WriteLine($"[embed] flush: generating {Format.Count(count)} more Markdown files");
            var written = new MarkdownCorpusGenerator(seed + part).Write(Path.Combine(folder, $"flush-corpus-{part}"), count).Files;
            foreach (var (file, drafts) in written.Zip(CorpusChunks.Of(written)))
            {
                if (chunks >= target) break;
                files.Add(file);
                chunks += drafts.Count;
            }
        }

        var database = Path.Combine(folder, "flush.db");
        log.WriteLine($"[embed] flush: importing {Format.Count(files.Count)} files ({Format.Count(chunks)} chunks), Async");
        var importStart = Stopwatch.GetTimestamp();
        using (var index = SemanticIndex.Open(database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Onnx, OnnxModel.Default.Name)))
        using (var importer = new DocumentImporter(index))
        {
            foreach (var file in files)
            {
                importer.Queue(file);
                if (importer.CommitDue) importer.Commit();
            }

            importer.Commit();
        }

        var importTime = Stopwatch.GetElapsedTime(importStart);
        var pending = (long)IndexFile.Scalar(database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'")!;
        if (pending != chunks) checks.Add($"flush: the import left {Format.Count(pending)} chunks Pending; the files have {Format.Count(chunks)}.");

        var peaks = new double[Marks.Length];
        long embedded = 0;
        var next = 0;
        var flushStart = Stopwatch.GetTimestamp();
        void Count(int handedOver)
        {
            embedded += handedOver;
            for (; next < Marks.Length && embedded >= Marks[next] * pending; next++)
            {
                peaks[next] = MemoryScope.PeakWorkingSetBytes() / Mb;
                log.WriteLine($"[embed] flush: {Format.Fixed(Marks[next] * 100, 0)} % ({Format.Count(embedded)} chunks) after {Format.Seconds(Stopwatch.GetElapsedTime(flushStart))}, peak RSS {Format.Mb(peaks[next])} MB");
            }
        }

        log.WriteLine($"[embed] flush: {Format.Count(pending)} chunks through BatchManager.FlushAsync");
        var calls = new TimedCalls();
        FlushResult result;
        // The batch service makes its embedder through the installed provider: a counting one for this flush only.
        EmbeddingProviders.Install(new CountingProvider(onnx, Count));
        try
        {
            using var index = SemanticIndex.Open(database, createIfMissing: false);
            var manager = new BatchManager(index, EmbeddingProviders.CreateBatchService(index, null));
            result = await calls.RunAsync(() => manager.FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = pending, MaxJobTokens = long.MaxValue }, null, cancellationToken));
        }
        finally
        {
            EmbeddingProviders.Install(onnx);
        }

        FlushScenario.CheckJob("flush", database, (int)pending, result, checks);
        if (embedded != pending) checks.Add($"flush: the embedder handed over {Format.Count(embedded)} vectors for {Format.Count(pending)} chunks.");
        var growth = peaks[^1] - peaks[0];
        if (growth > FlatAllowanceMb(pending))
        {
            checks.Add($"flush: the peak RSS grew {Format.Mb(growth)} MB from 10 % to 100 % of {Format.Count(pending)} chunks ({string.Join(" / ", peaks.Select(Format.Mb))} MB), " +
                       $"more than the {Format.Mb(FlatAllowanceMb(pending))} MB allowed: the job is not embedded in flat memory.");
        }

        return new FlushFacts(pending, files.Count, importTime, calls, peaks);
    }

    /// <summary>
    /// What a flat flush may gain from 10 % to 100 % of its chunks: less than the vectors made meanwhile would take if they were
    /// kept (so a job held in memory fails), and never less than <see cref="FlatLeewayMb"/>.
    /// </summary>
    private static double FlatAllowanceMb(long chunks) =>
        Math.Max(FlatLeewayMb, (1 - Marks[0]) * chunks * OnnxModel.Default.Dimensions * sizeof(float) / Mb);

    /// <summary>Embeds <paramref name="texts"/> in groups of <see cref="GroupSize"/>, timed (after an untimed warm-up), checking each vector's count and size.</summary>
    private static async Task<TimedCalls> EmbedTimedAsync(IEmbeddingProvider embedder, List<string> texts, List<string> checks, CancellationToken cancellationToken)
    {
        await EmbedAllAsync(embedder, texts.Take(WarmUpTexts).ToList(), checks, cancellationToken);
        var calls = new TimedCalls();
        await calls.RunAsync(() => EmbedAllAsync(embedder, texts, checks, cancellationToken));
        return calls;
    }

    private static async Task EmbedAllAsync(IEmbeddingProvider embedder, List<string> texts, List<string> checks, CancellationToken cancellationToken)
    {
        long vectors = 0, wrongSize = 0;
        for (var first = 0; first < texts.Count; first += GroupSize)
        {
            await embedder.EmbedDocumentsAsync(texts.GetRange(first, Math.Min(GroupSize, texts.Count - first)), (_, embedded) =>
            {
                vectors += embedded.Count;
                wrongSize += embedded.Count(v => v.Length != embedder.Settings.Dimensions);
            }, cancellationToken);
        }

        if (vectors != texts.Count || wrongSize > 0)
            checks.Add($"{embedder}: {Format.Count(vectors)} vectors for {Format.Count(texts.Count)} chunks, {Format.Count(wrongSize)} not of {embedder.Settings.Dimensions} dimensions.");
    }

    private static double Seconds(TimedCalls calls) => calls.Timings.Median / 1000;

    private static string[] Cells(string scenario, int chunks, TimedCalls calls, double baselineRate, (double Mean, int Windowed)? pieces)
    {
        var rate = chunks / Seconds(calls);
        var ratio = rate / baselineRate;
        return
        [
            scenario,
            Format.Count(chunks),
            Format.Fixed(Seconds(calls), 2),
            Format.Fixed(rate, rate < 100 ? 1 : 0),
            Format.Fixed(ratio, ratio < 0.01 ? 4 : 2) + "x",
            pieces is { } p ? Format.Fixed(p.Mean, 1) : "—",
            pieces is { } w ? $"{Format.Count(w.Windowed)} ({Format.Fixed(100.0 * w.Windowed / chunks, 1)} %)" : "—",
            Format.Mb(calls.Memory.PeakWorkingSetMb),
            Format.Mb(calls.Memory.ManagedGrowthMb),
        ];
    }

    /// <summary>The installed provider, its embedders telling <paramref name="handedOver"/> how many vectors each call handed over.</summary>
    private sealed class CountingProvider(IInstalledProvider inner, Action<int> handedOver) : IInstalledProvider
    {
        public EmbeddingProviderKind Kind => inner.Kind;
        public string DefaultModel => inner.DefaultModel;
        public IReadOnlyList<string> ModelNames => inner.ModelNames;
        public int? DimensionsOf(string model) => inner.DimensionsOf(model);

        public IEmbeddingProvider Create(IndexSettings settings, IProgress<OperationProgress>? progress) =>
            new CountingEmbedder(inner.Create(settings, progress), handedOver);
    }

    private sealed class CountingEmbedder(IEmbeddingProvider inner, Action<int> handedOver) : IEmbeddingProvider
    {
        public IndexSettings Settings => inner.Settings;

        public Task EmbedDocumentsAsync(IReadOnlyList<string> texts, Action<int, IReadOnlyList<float[]>> embedded, CancellationToken cancellationToken) =>
            inner.EmbedDocumentsAsync(texts, (first, vectors) =>
            {
                embedded(first, vectors);
                handedOver(vectors.Count);
            }, cancellationToken);

        public Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken) => inner.EmbedQueryAsync(text, cancellationToken);
    }
}
