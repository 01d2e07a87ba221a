using Markdig;
using SemanticCore.Bench.Import;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Import-SemanticDocument's core path in Async mode (<see cref="DocumentImporter.Queue"/> and <see cref="DocumentImporter.Commit"/>:
/// chunks left Pending, many files a transaction) over a generated Markdown corpus: a cold import into a fresh index, an unchanged re-import and a
/// re-import after 1 % of the files had one paragraph edited. Baseline, in the same run: reading every file and
/// parsing it with Markdig, nothing else; and, to split the import's cost, reading and chunking every file as the
/// importer does, without storing anything. Checks every file's ImportStatus in each pass.
/// </summary>
internal sealed class ImportScenario : IScenario
{
    private const double EditedShare = 0.01;

    public string Name => "import";
    public string Usage => "import [--files 10000] [--runs 3] [--seed 1729] [--keep] [--quick: 300 files, 2 runs]";
    public IReadOnlyCollection<string> Options => ["files", "runs", "seed"];

    private static readonly string[] Columns =
        ["scenario", "median ms", "min ms", "MB/s", "ratio vs baseline", "vs cold import", "peak working set MB", "managed growth MB"];

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var fileCount = options.Int("files", 10_000, quickDefault: 300);
        var runs = options.Int("runs", 3, quickDefault: 2);
        var seed = options.Int("seed", 1729, min: 0);

        using var temp = new TempFolder(Name, options.Has("keep"));
        log.WriteLine($"[import] generating {Format.Count(fileCount)} Markdown files in {temp.Path}");
        var generator = new MarkdownCorpusGenerator(seed);
        var corpus = generator.Write(Path.Combine(temp.Path, "corpus"), fileCount);
        var files = corpus.Files;
        var settings = new IndexSettingsRequest(EmbeddingProviderKind.Local, null, IndexSettings.DefaultDimensions);
        var pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

        var baseline = new TimedCalls();
        var chunking = new TimedCalls();
        var cold = new TimedCalls();
        var unchanged = new TimedCalls();
        var edited = new TimedCalls();
        var checks = new List<string>();
        long chunks = 0, pending = 0, databaseBytes = 0, markdownBlocks = 0, drafts = 0, editAdded = 0, editRemoved = 0;
        var editedCount = 0;

        for (var run = 0; run < runs; run++)
        {
            log.WriteLine($"[import] run {run + 1}/{runs}: baseline (read + Markdig parse)");
            markdownBlocks = await baseline.RunAsync(() => Task.FromResult(ParseAll(files, pipeline)));
            log.WriteLine($"[import] run {run + 1}/{runs}: read + chunk only");
            drafts = await chunking.RunAsync(() => Task.FromResult(ChunkAll(files)));

            var database = Path.Combine(temp.Path, $"index-{run}.db");
            IndexFile.Delete(database);
            log.WriteLine($"[import] run {run + 1}/{runs}: cold import");
            var statuses = await ImportAllAsync(database, settings, files, cold, cancellationToken);
            Expect(statuses, _ => ImportStatus.Added, $"run {run + 1}, cold import", checks);
            if (run == 0)
            {
                IndexFile.Checkpoint(database);
                databaseBytes = IndexFile.Bytes(database);
                chunks = (long)IndexFile.Scalar(database, "SELECT COUNT(*) FROM chunks")!;
                pending = (long)IndexFile.Scalar(database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'")!;
                if (pending != chunks) checks.Add($"cold import: {pending} of {chunks} chunks are Pending; an Async import leaves them all Pending.");
            }

            log.WriteLine($"[import] run {run + 1}/{runs}: unchanged re-import");
            statuses = await ImportAllAsync(database, settings, files, unchanged, cancellationToken);
            Expect(statuses, _ => ImportStatus.Unchanged, $"run {run + 1}, unchanged re-import", checks);

            log.WriteLine($"[import] run {run + 1}/{runs}: re-import after editing {Format.Fixed(EditedShare * 100, 0)} % of the files");
            var changed = ParagraphEditor.Edit(files, EditedShare, seed + 1, generator);
            try
            {
                (long Added, long Removed) change = (0, 0);
                statuses = await ImportAllAsync(database, settings, files, edited, cancellationToken, result => change = (change.Added + result.Added, change.Removed + result.Removed));
                var editedIndexes = changed.Select(e => e.Index).ToHashSet();
                Expect(statuses, i => editedIndexes.Contains(i) ? ImportStatus.Updated : ImportStatus.Unchanged, $"run {run + 1}, re-import after the edit", checks);
                (editedCount, editAdded, editRemoved) = (changed.Count, change.Added, change.Removed);
            }
            finally
            {
                ParagraphEditor.Restore(changed);
            }

            IndexFile.Delete(database);
        }

        var corpusMb = corpus.Bytes / (1024.0 * 1024.0);
        var coldMedian = cold.Timings.Median;
        var baselineMedian = baseline.Timings.Median;
        string[] Cells(TimedCalls calls, string name, bool versusCold)
        {
            var cells = calls.Row(name, baselineMedian / calls.Timings.Median).Cells().ToList();
            cells.Insert(3, Format.Fixed(corpusMb / (calls.Timings.Median / 1000), 1));
            cells.Insert(5, versusCold ? Format.Ratio(coldMedian / calls.Timings.Median) : "—");
            return [.. cells];
        }

        var table = new ReportTable(Columns);
        table.Add(Cells(baseline, "Baseline: File.ReadAllText + Markdig parse (YAML front matter, pipe tables), nothing stored", versusCold: false));
        table.Add(Cells(chunking, "Read + chunk only (DocumentReader.Read + DocumentChunker.Chunk, as the importer calls them), nothing stored", versusCold: true));
        table.Add(Cells(cold, "Cold import into a fresh index, Async (no embedder)", versusCold: true));
        table.Add(Cells(unchanged, "Unchanged re-import (every file Unchanged)", versusCold: true));
        table.Add(Cells(edited, $"Re-import after editing one paragraph in {Format.Fixed(EditedShare * 100, 0)} % of the files", versusCold: true));

        var report = new ScenarioReport($"import: Import-SemanticDocument core path over {Format.Count(fileCount)} Markdown files ({Format.Bytes(corpus.Bytes)})", table);
        report.Setup.Add($"- Corpus: {Format.Count(files.Count)} generated Markdown files, {Format.Bytes(corpus.Bytes)} in all, {Format.Fixed(corpus.Bytes / 1024.0 / files.Count, 1)} KB on average " +
                         $"({Format.Fixed(corpus.MinBytes / 1024.0, 1)}–{Format.Fixed(corpus.MaxBytes / 1024.0, 1)} KB): front matter, H1, 3–10 H2/H3 sections of paragraphs with links and inline code, lists, " +
                         $"fenced bash/powershell/sql/json, pipe tables, quotes, images; seed {seed}; written in {Format.Seconds(corpus.Elapsed)} (setup). The files are in the OS page cache.");
        report.Setup.Add($"- Timed per pass: `new DocumentImporter(index)` then `Queue(path)` for every file in turn, `Commit()` whenever `CommitDue` and at the end, on an index opened untimed " +
                         "(`SemanticIndex.Open(path, true, new IndexSettingsRequest(Local, null, 768))`); the cold import on a new file each run, the re-imports on that run's index. " +
                         $"{runs} runs, passes interleaved (baseline, read + chunk, cold, unchanged, edited); the edited files are restored after each run.");
        report.Notes.Add($"- Index after the cold import: {Format.Count(chunks)} chunks ({Format.Fixed((double)chunks / files.Count, 1)} a file; the chunk-only row made {Format.Count(drafts)}), all Pending; {Format.Bytes(databaseBytes)} " +
                         $"({Format.Fixed((double)databaseBytes / corpus.Bytes, 2)}× the corpus). Markdig found {Format.Count(markdownBlocks)} top-level blocks.");
        report.Notes.Add($"- The edit: {editedCount} files, one paragraph each; the re-import replaced {Format.Count(editAdded)} chunks (added) and removed {Format.Count(editRemoved)}.");
        report.Notes.Add($"- Per file: baseline {PerFile(baseline, files.Count)}, read + chunk {PerFile(chunking, files.Count)}, cold {PerFile(cold, files.Count)}, unchanged {PerFile(unchanged, files.Count)}, edited {PerFile(edited, files.Count)}; " +
                         $"allocated per pass (GC.GetTotalAllocatedBytes) baseline {PerPass(baseline)}, read + chunk {PerPass(chunking)}, cold {PerPass(cold)}, unchanged {PerPass(unchanged)}, edited {PerPass(edited)}.");
        report.Notes.Add("- ratio vs baseline = baseline median / row median (below 1: slower than only parsing); vs cold import = cold median / row median. " +
                         $"Peak working set: the process's peak RSS during the pass (reset before each, max over runs; RSS when the passes started: {TimedCalls.StartRange([baseline, chunking, cold, unchanged, edited])}); managed growth: live heap after minus before (max over runs).");
        report.Notes.Add(checks.Count == 0
            ? $"- Correctness: every file Added by the cold import, Unchanged on the re-import, and exactly the {editedCount} edited files Updated after the edit, in every run."
            : $"- Correctness: {checks.Count} check(s) FAILED (below).");
        report.Failures.AddRange(checks);
        return report;
    }

    private static long ParseAll(IReadOnlyList<string> files, MarkdownPipeline pipeline)
    {
        long blocks = 0;
        foreach (var file in files) blocks += Markdown.Parse(File.ReadAllText(file), pipeline).Count;
        return blocks;
    }

    /// <summary>The importer's work before it touches the index: read (and hash) the file, then chunk it.</summary>
    private static long ChunkAll(IReadOnlyList<string> files) => CorpusChunks.Of(files).Sum(chunks => (long)chunks.Count);

    /// <summary>One Import-SemanticDocument pass over every file: the index is opened (untimed), the imports timed.</summary>
    private static async Task<ImportStatus[]> ImportAllAsync(string database, IndexSettingsRequest settings, IReadOnlyList<string> files, TimedCalls row,
        CancellationToken cancellationToken, Action<ImportResult>? observe = null)
    {
        var statuses = new ImportStatus[files.Count];
        using var index = SemanticIndex.Open(database, createIfMissing: true, settings);
        await row.RunAsync(async () =>
        {
            // As Import-SemanticDocument -Mode Async does: files queued into shared transactions, results taken at each commit.
            using var importer = new DocumentImporter(index);
            var done = 0;
            void Take(IReadOnlyList<ImportResult> results)
            {
                foreach (var result in results)
                {
                    statuses[done++] = result.State;
                    observe?.Invoke(result);
                }
            }

            for (var i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                importer.Queue(files[i]);
                if (importer.CommitDue) Take(importer.Commit());
            }

            Take(importer.Commit());
            await Task.CompletedTask;
        });
        return statuses;
    }

    private static void Expect(ImportStatus[] statuses, Func<int, ImportStatus> expected, string what, List<string> checks)
    {
        var wrong = Enumerable.Range(0, statuses.Length).Where(i => statuses[i] != expected(i)).ToList();
        if (wrong.Count == 0) return;
        checks.Add($"{what}: {wrong.Count} file(s) not as expected, e.g. " +
                   string.Join(", ", wrong.Take(5).Select(i => $"file {i} {statuses[i]} (expected {expected(i)})")) + ".");
    }

    private static string PerFile(TimedCalls row, int files) => Format.Fixed(row.Timings.Median * 1000 / files, 0) + " µs";

    private static string PerPass(TimedCalls row) => Format.Bytes((long)(row.Timings.AllocatedBytesPerSample ?? 0));
}
