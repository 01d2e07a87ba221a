using System.Diagnostics;
using System.Text.Json;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Onnx;
using SemanticCore.Search;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Search quality on the labelled set in bench/data/search-quality: every corpus file imported into a fresh Local
/// index and a fresh index per Onnx model (embedded now, so every chunk is Ready), every query run with Top = 10 in
/// Keyword, Semantic and Hybrid over the Local index and in Semantic and Hybrid over each Onnx one. A hit is relevant
/// when its document's file name is the query's <c>document</c> and its section path ends with the query's
/// <c>section</c> heading. Says which Onnx model ranks better and how many queries the default model finds that
/// Keyword does not. Fails when a Hybrid's MRR@10 is below Keyword's ("Hybrid must not rank below Keyword"), when the
/// default Onnx model's Semantic recall@5 does not exceed Local Semantic's, when it finds fewer queries Keyword misses
/// than Keyword finds that it misses, and when its Hybrid ranks below Local Hybrid.
/// </summary>
internal sealed class QualityScenario : IScenario
{
    private const int Top = 10;
    private const int RecallDepth = 5;
    private const string SectionSeparator = " > ";

    public string Name => "quality";
    public string Usage => "quality [--data <folder holding corpus/*.md and queries.json; default bench/data/search-quality>] [--keep]";
    public IReadOnlyCollection<string> Options => ["data"];

    /// <summary>One labelled question of queries.json.</summary>
    private sealed record LabelledQuery(string Query, string Document, string Section);

    private sealed record Outcome(LabelledQuery Query, int? Rank, SearchHit? TopHit);

    /// <summary>One row of the table: a search mode over one index, and that index's import.</summary>
    private sealed record Row(string Label, SearchMode Mode, List<Outcome> Outcomes, Timings Timings, TimeSpan ImportTime, int Chunks)
    {
        public double RecallAt5 => Outcomes.Count(o => o.Rank <= RecallDepth) / (double)Outcomes.Count;
        public double MrrAt10 => Outcomes.Sum(o => o.Rank is { } r and <= Top ? 1.0 / r : 0) / Outcomes.Count;
        public double FoundAt10 => Outcomes.Count(o => o.Rank is not null) / (double)Outcomes.Count;
    }

    public async Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var data = options.String("data") is { } given ? Path.GetFullPath(given) : RepositoryPaths.SearchQualityData;
        var corpusFolder = Path.Combine(data, "corpus");
        var queriesFile = Path.Combine(data, "queries.json");
        var files = Directory.Exists(corpusFolder) ? Directory.GetFiles(corpusFolder, "*.md").Order(StringComparer.Ordinal).ToList() : [];
        if (files.Count == 0 || !File.Exists(queriesFile))
        {
            var missing = new ScenarioReport("quality", new ReportTable("mode"));
            missing.Failures.Add($"The search-quality data is missing: expected Markdown files in '{corpusFolder}' and '{queriesFile}'.");
            return missing;
        }

        var queries = JsonSerializer.Deserialize<List<LabelledQuery>>(await File.ReadAllTextAsync(queriesFile, cancellationToken),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true }) ?? [];
        var labelProblems = CheckLabels(queries, files);
        queries = queries.Where(q => !string.IsNullOrWhiteSpace(q.Query) && !string.IsNullOrWhiteSpace(q.Document) && !string.IsNullOrWhiteSpace(q.Section)).ToList();
        if (queries.Count == 0)
        {
            var empty = new ScenarioReport("quality", new ReportTable("mode"));
            empty.Failures.Add($"'{queriesFile}' holds no complete {{ query, document, section }} entries.");
            return empty;
        }

        using var temp = new TempFolder(Name, options.Has("keep"));
        var rows = new List<Row>();
        log.WriteLine($"[quality] Local index: importing {files.Count} documents from {corpusFolder}");
        rows.AddRange(await SearchIndexAsync(Path.Combine(temp.Path, "local.db"), new IndexSettingsRequest(EmbeddingProviderKind.Local, null, IndexSettings.DefaultDimensions),
            files, queries, [(SearchMode.Keyword, "Keyword"), (SearchMode.Semantic, "Local Semantic"), (SearchMode.Hybrid, "Local Hybrid")], log, cancellationToken));
        var onnx = (OnnxProvider)EmbeddingProviders.Installed(EmbeddingProviderKind.Onnx);
        var loads = new List<string>();
        foreach (var model in OnnxModel.All)
        {
            log.WriteLine($"[quality] Onnx {model.Name} index: importing {files.Count} documents");
            // Loaded untimed: the import time is the model's embedding, not its first load.
            var loadStart = Stopwatch.GetTimestamp();
            onnx.Encoder(model.Name);
            loads.Add($"{model.Name} {Format.Seconds(Stopwatch.GetElapsedTime(loadStart))}");
            rows.AddRange(await SearchIndexAsync(Path.Combine(temp.Path, $"{model.Name}.db"), new IndexSettingsRequest(EmbeddingProviderKind.Onnx, model.Name),
                files, queries, [(SearchMode.Semantic, $"Onnx {model.Name} Semantic"), (SearchMode.Hybrid, $"Onnx {model.Name} Hybrid")], log, cancellationToken));
        }

        var table = new ReportTable("mode", "recall@5", "MRR@10", "found in top 10", "queries", "chunks", "import s", "median ms", "min ms");
        foreach (var r in rows)
        {
            table.Add(r.Label, Format.Fixed(r.RecallAt5, 3), Format.Fixed(r.MrrAt10, 3), Format.Fixed(r.FoundAt10, 3),
                Format.Count(r.Outcomes.Count), Format.Count(r.Chunks), Format.Fixed(r.ImportTime.TotalSeconds, 2), Format.Ms(r.Timings.Median), Format.Ms(r.Timings.Min));
        }

        var report = new ScenarioReport($"quality: {queries.Count} labelled queries, {files.Count} documents, top {Top}", table);
        report.Setup.Add($"- Data: {DisplayPath(data)} ({files.Count} Markdown files, {queries.Count} queries); imported into a fresh index per embedder, embedded at import " +
                         $"(every chunk Ready): Local ({IndexSettings.DefaultDimensions} dimensions; Keyword searches it too) and each Onnx model ({string.Join(", ", OnnxModel.All.Select(m => $"{m.Name}: {m.Dimensions} dimensions, {m.Pooling} pooling, {m.MaxTokens} tokens"))}). " +
                         $"import s: the index's import, embedding included (models loaded untimed first: {string.Join(", ", loads)}).");
        report.Setup.Add($"- Relevant hit: the query's document (file name) and a section path ending with its `##` heading. " +
                         $"recall@{RecallDepth}: share of queries with a relevant hit in the top {RecallDepth}; MRR@{Top}: mean of 1/rank of the first relevant hit (0 if none in the top {Top}).");

        var keyword = rows.Single(r => r.Label == "Keyword");
        var localSemantic = rows.Single(r => r.Label == "Local Semantic");
        var defaultSemantic = rows.Single(r => r.Label == $"Onnx {OnnxModel.Default.Name} Semantic");
        var better = OnnxModel.All.Select(m => (Model: m, Semantic: rows.Single(r => r.Label == $"Onnx {m.Name} Semantic")))
            .OrderByDescending(m => Math.Round(m.Semantic.MrrAt10, 9)).ThenByDescending(m => m.Semantic.RecallAt5).First();
        report.Notes.Add($"Better-ranking Onnx model (Semantic MRR@{Top}, tie → recall@{RecallDepth}): {better.Model.Name} " +
                         $"(MRR@{Top} {Format.Fixed(better.Semantic.MrrAt10, 3)}, recall@{RecallDepth} {Format.Fixed(better.Semantic.RecallAt5, 3)}); the default (OnnxModel.Default) is {OnnxModel.Default.Name}.");
        if (better.Model != OnnxModel.Default)
            report.Warnings.Add($"{better.Model.Name} ranks better than the default model {OnnxModel.Default.Name}: make it OnnxModel.Default.");

        var wins = Found(defaultSemantic).Except(Found(keyword)).ToList();
        var losses = Found(keyword).Except(Found(defaultSemantic)).ToList();
        report.Notes.Add("");
        report.Notes.Add($"Paraphrase wins: {wins.Count} queries are in the top {RecallDepth} of Onnx {OnnxModel.Default.Name} Semantic and not of Keyword; {losses.Count} the reverse.");
        foreach (var query in wins) report.Notes.Add($"- Onnx only: \"{query.Query}\"");
        foreach (var query in losses) report.Notes.Add($"- Keyword only: \"{query.Query}\"");

        foreach (var hybrid in new[] { "Local Hybrid", $"Onnx {OnnxModel.Default.Name} Hybrid" }.Select(label => rows.Single(r => r.Label == label)))
        {
            var misses = hybrid.Outcomes.Where(o => o.Rank is null or > RecallDepth).ToList();
            report.Notes.Add("");
            report.Notes.Add($"{hybrid.Label} misses in the top {RecallDepth} ({misses.Count} of {hybrid.Outcomes.Count}):");
            foreach (var miss in misses)
            {
                var top = miss.TopHit is { } hit ? $"{Path.GetFileName(hit.DocumentPath)} § {LastSection(hit.Section)}" : "no hits";
                report.Notes.Add($"- \"{miss.Query.Query}\" → wants {miss.Query.Document} § {miss.Query.Section}; " +
                                 $"{(miss.Rank is { } r ? $"rank {r}" : $"not in the top {Top}")}; top hit: {top}");
            }

            if (misses.Count == 0) report.Notes.Add("- none");
        }

        report.Warnings.AddRange(labelProblems);
        foreach (var hybrid in rows.Where(r => r.Mode == SearchMode.Hybrid && r.MrrAt10 < keyword.MrrAt10 - 1e-12))
        {
            report.Failures.Add($"{hybrid.Label} MRR@{Top} {Format.Fixed(hybrid.MrrAt10, 3)} is below Keyword's {Format.Fixed(keyword.MrrAt10, 3)} (requirement: Hybrid must not rank below Keyword).");
        }

        if (defaultSemantic.RecallAt5 <= localSemantic.RecallAt5)
        {
            report.Failures.Add($"{defaultSemantic.Label} recall@{RecallDepth} {Format.Fixed(defaultSemantic.RecallAt5, 3)} does not exceed Local Semantic's {Format.Fixed(localSemantic.RecallAt5, 3)} " +
                                "(requirement: the default model finds more than feature hashing).");
        }

        if (wins.Count <= losses.Count)
        {
            report.Failures.Add($"{defaultSemantic.Label} finds {wins.Count} queries in its top {RecallDepth} that Keyword does not, and Keyword {losses.Count} that it does not " +
                                "(requirement: a sentence-embedding model wins more paraphrases than it loses).");
        }

        var defaultHybrid = rows.Single(r => r.Label == $"Onnx {OnnxModel.Default.Name} Hybrid");
        var localHybrid = rows.Single(r => r.Label == "Local Hybrid");
        if (defaultHybrid.MrrAt10 < localHybrid.MrrAt10 - 1e-12)
        {
            report.Failures.Add($"{defaultHybrid.Label} MRR@{Top} {Format.Fixed(defaultHybrid.MrrAt10, 3)} is below Local Hybrid's {Format.Fixed(localHybrid.MrrAt10, 3)} " +
                                "(requirement: the default model's Hybrid ranks at least as well as feature hashing's).");
        }

        return report;
    }

    /// <summary>The queries <paramref name="row"/> found in its top <see cref="RecallDepth"/>.</summary>
    private static IEnumerable<LabelledQuery> Found(Row row) => row.Outcomes.Where(o => o.Rank <= RecallDepth).Select(o => o.Query);

    /// <summary>Imports every file into a fresh index, embedded now (timed), then runs every query in each of <paramref name="modes"/>.</summary>
    private static async Task<List<Row>> SearchIndexAsync(string databasePath, IndexSettingsRequest settings, List<string> files, List<LabelledQuery> queries,
        (SearchMode Mode, string Label)[] modes, TextWriter log, CancellationToken cancellationToken)
    {
        var rows = new List<Row>();
        VectorCache.Evict();
        using (var index = SemanticIndex.Open(databasePath, createIfMissing: true, settings))
        {
            var embedder = EmbeddingProviders.CreateInteractive(index.Settings, null);
            var importStart = Stopwatch.GetTimestamp();
            var importer = new DocumentImporter(index);
            var chunks = 0;
            foreach (var file in files) chunks += (await importer.ImportAsync(file, embedder, cancellationToken)).Chunks;
            var importTime = Stopwatch.GetElapsedTime(importStart);

            foreach (var (mode, label) in modes)
            {
                log.WriteLine($"[quality] {label}: {queries.Count} queries");
                Task<SearchOutcome> Search(string query) => IndexSearch.SearchAsync(index,
                    new SearchRequest { Query = query, Top = Top, Mode = mode, UseCache = true }, () => embedder, cancellationToken);

                await Search(queries[0].Query); // untimed warm-up (JIT, vector cache)
                var outcomes = new List<Outcome>(queries.Count);
                var timings = await Measure.RepeatAsync(1, queries.Count, async (_, i) =>
                {
                    var hits = (await Search(queries[i].Query)).Hits;
                    var relevant = hits.Select((hit, at) => (hit, at)).FirstOrDefault(h => IsRelevant(h.hit, queries[i]));
                    outcomes.Add(new Outcome(queries[i], relevant.hit is null ? null : relevant.at + 1, hits.Count > 0 ? hits[0] : null));
                });
                rows.Add(new Row(label, mode, outcomes, timings, importTime, chunks));
            }
        }

        VectorCache.Evict();
        return rows;
    }

    /// <summary>Relevant: the right file, and the section path is the heading or ends with " > heading".</summary>
    private static bool IsRelevant(SearchHit hit, LabelledQuery query) =>
        string.Equals(Path.GetFileName(hit.DocumentPath), query.Document, StringComparison.Ordinal)
        && hit.Section is { } section
        && (section == query.Section || section.EndsWith(SectionSeparator + query.Section, StringComparison.Ordinal));

    private static string LastSection(string? section) =>
        section is null ? "(no section)" : section[(section.LastIndexOf(SectionSeparator, StringComparison.Ordinal) is var at and >= 0 ? at + SectionSeparator.Length : 0)..];

    /// <summary>Labels that cannot be right: a missing field, a file not in the corpus, a heading not in the file.</summary>
    private static List<string> CheckLabels(List<LabelledQuery> queries, List<string> files)
    {
        var problems = new List<string>();
        var headings = files.ToDictionary(f => Path.GetFileName(f), f => File.ReadLines(f)
            .Where(l => l.StartsWith("## ", StringComparison.Ordinal)).Select(l => l[3..].Trim().TrimEnd('#').Trim()).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var q in queries)
        {
            if (string.IsNullOrWhiteSpace(q.Query) || string.IsNullOrWhiteSpace(q.Document) || string.IsNullOrWhiteSpace(q.Section))
                problems.Add($"label: an entry lacks query, document or section (\"{q.Query}\"); skipped.");
            else if (!headings.TryGetValue(q.Document, out var inFile))
                problems.Add($"label: \"{q.Query}\" names {q.Document}, which is not in the corpus.");
            else if (!inFile.Contains(q.Section))
                problems.Add($"label: \"{q.Query}\" names the heading \"## {q.Section}\", which {q.Document} does not have.");
        }

        return problems;
    }

    /// <summary>Relative to the repository when inside it, else the full path.</summary>
    private static string DisplayPath(string folder)
    {
        try
        {
            var relative = Path.GetRelativePath(RepositoryPaths.Root, folder);
            return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? folder : relative.Replace('\\', '/');
        }
        catch (InvalidOperationException)
        {
            return folder;
        }
    }
}
