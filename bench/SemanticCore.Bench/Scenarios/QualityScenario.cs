using System.Diagnostics;
using System.Text.Json;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Search;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// Search quality on the labelled set in bench/data/search-quality: every corpus file imported into a fresh Local
/// index (embedded now, so every chunk is Ready), every query run in each mode with Top = 10. A hit is relevant
/// when its document's file name is the query's <c>document</c> and its section path ends with the query's
/// <c>section</c> heading. Fails when Hybrid's MRR@10 is below Keyword's ("Hybrid must not rank below Keyword").
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

    private sealed record ModeResult(SearchMode Mode, List<Outcome> Outcomes, Timings Timings)
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
        var databasePath = Path.Combine(temp.Path, "quality.db");
        var results = new List<ModeResult>();
        int chunks;
        TimeSpan importTime;
        VectorCache.Evict();
        using (var index = SemanticIndex.Open(databasePath, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local, null, IndexSettings.DefaultDimensions)))
        {
            var embedder = new LocalEmbeddingProvider(index.Settings);
            log.WriteLine($"[quality] importing {files.Count} documents from {corpusFolder}");
            var importStart = Stopwatch.GetTimestamp();
            var importer = new DocumentImporter(index);
            chunks = 0;
            foreach (var file in files) chunks += (await importer.ImportAsync(file, embedder, cancellationToken)).Chunks;
            importTime = Stopwatch.GetElapsedTime(importStart);

            foreach (var mode in new[] { SearchMode.Keyword, SearchMode.Semantic, SearchMode.Hybrid })
            {
                log.WriteLine($"[quality] {mode}: {queries.Count} queries");
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
                results.Add(new ModeResult(mode, outcomes, timings));
            }
        }

        VectorCache.Evict();
        var table = new ReportTable("mode", "recall@5", "MRR@10", "found in top 10", "queries", "chunks", "median ms", "min ms");
        foreach (var r in results)
        {
            table.Add(r.Mode.ToString(), Format.Fixed(r.RecallAt5, 3), Format.Fixed(r.MrrAt10, 3), Format.Fixed(r.FoundAt10, 3),
                Format.Count(r.Outcomes.Count), Format.Count(chunks), Format.Ms(r.Timings.Median), Format.Ms(r.Timings.Min));
        }

        var report = new ScenarioReport($"quality: {queries.Count} labelled queries, {files.Count} documents, top {Top}", table);
        report.Setup.Add($"- Data: {DisplayPath(data)} ({files.Count} Markdown files, {queries.Count} queries); " +
                         $"imported into a fresh Local index ({IndexSettings.DefaultDimensions} dimensions, embedded at import, every chunk Ready) " +
                         $"in {Format.Seconds(importTime)}: {Format.Count(chunks)} chunks.");
        report.Setup.Add($"- Relevant hit: the query's document (file name) and a section path ending with its `##` heading. " +
                         $"recall@{RecallDepth}: share of queries with a relevant hit in the top {RecallDepth}; MRR@{Top}: mean of 1/rank of the first relevant hit (0 if none in the top {Top}).");

        var keyword = results.Single(r => r.Mode == SearchMode.Keyword);
        var hybrid = results.Single(r => r.Mode == SearchMode.Hybrid);
        var misses = hybrid.Outcomes.Where(o => o.Rank is null or > RecallDepth).ToList();
        report.Notes.Add($"Hybrid misses in the top {RecallDepth} ({misses.Count} of {hybrid.Outcomes.Count}):");
        foreach (var miss in misses)
        {
            var top = miss.TopHit is { } hit ? $"{Path.GetFileName(hit.DocumentPath)} § {LastSection(hit.Section)}" : "no hits";
            report.Notes.Add($"- \"{miss.Query.Query}\" → wants {miss.Query.Document} § {miss.Query.Section}; " +
                             $"{(miss.Rank is { } r ? $"rank {r}" : $"not in the top {Top}")}; top hit: {top}");
        }

        if (misses.Count == 0) report.Notes.Add("- none");
        report.Warnings.AddRange(labelProblems);
        if (hybrid.MrrAt10 < keyword.MrrAt10 - 1e-12)
        {
            report.Failures.Add($"Hybrid MRR@{Top} {Format.Fixed(hybrid.MrrAt10, 3)} is below Keyword's {Format.Fixed(keyword.MrrAt10, 3)} (requirement: Hybrid must not rank below Keyword).");
        }

        return report;
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
