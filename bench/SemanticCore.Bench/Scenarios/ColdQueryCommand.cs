using System.Diagnostics;
using System.Globalization;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Search;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Scenarios;

/// <summary>
/// The child side of the cold-query measurement (internal command <c>cold-query</c>): a new process opens the
/// index and runs ONE query through the vector cache, as the first search of a new PowerShell session does,
/// and prints what it measured as KEY=value lines (<see cref="Keys"/>). The parent is <see cref="Search.ColdProcessRunner"/>.
/// </summary>
internal static class ColdQueryCommand
{
    public const string Name = "cold-query";

    public static readonly string[] Options = ["db", "query", "mode"];

    /// <summary>The lines the child prints.</summary>
    public static class Keys
    {
        /// <summary>In-process elapsed ms: open + load vectors + embed + score (+ reading the hits).</summary>
        public const string ColdMs = "COLD_MS";
        public const string Hits = "HITS";
        public const string VectorsScored = "VECTORS_SCORED";
        public const string FromCache = "FROM_CACHE";
        public const string PeakWorkingSetMb = "PEAK_WS_MB";
        /// <summary>Live managed heap after the query (growth since the process started, nearly all of it).</summary>
        public const string ManagedMb = "MANAGED_MB";
    }

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var path = options.RequiredString("db");
        var query = options.RequiredString("query");
        var modeText = options.String("mode") ?? nameof(SearchMode.Hybrid);
        if (!Enum.TryParse<SearchMode>(modeText, ignoreCase: true, out var mode)) throw new UsageException($"Unknown --mode '{modeText}'.");

        var start = Stopwatch.GetTimestamp();
        SearchOutcome outcome;
        using (var index = SemanticIndex.Open(path, createIfMissing: false))
        {
            var embedder = new LocalEmbeddingProvider(index.Settings);
            outcome = await IndexSearch.SearchAsync(index, new SearchRequest { Query = query, Top = 10, Mode = mode, UseCache = true },
                () => embedder, cancellationToken);
        }

        var elapsed = Measure.Milliseconds(start);
        var managed = GC.GetTotalMemory(forceFullCollection: true); // after the timing: the vector cache is live, the garbage is not
        var invariant = CultureInfo.InvariantCulture;
        Console.Out.WriteLine($"{Keys.ColdMs}={elapsed.ToString("R", invariant)}");
        Console.Out.WriteLine($"{Keys.Hits}={outcome.Hits.Count}");
        Console.Out.WriteLine($"{Keys.VectorsScored}={outcome.Statistics.VectorsScored?.ToString(invariant) ?? ""}");
        Console.Out.WriteLine($"{Keys.FromCache}={outcome.Statistics.FromCache}");
        Console.Out.WriteLine($"{Keys.PeakWorkingSetMb}={(MemoryScope.PeakWorkingSetBytes() / (1024.0 * 1024.0)).ToString("R", invariant)}");
        Console.Out.WriteLine($"{Keys.ManagedMb}={(managed / (1024.0 * 1024.0)).ToString("R", invariant)}");
        return 0;
    }
}
