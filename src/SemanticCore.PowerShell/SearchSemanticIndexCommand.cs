using System.Globalization;
using System.Management.Automation;
using System.Security;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Search;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Searches the index: keywords (BM25), meaning (cosine over the vectors), or both fused (the default).</para>
/// </summary>
[Cmdlet(VerbsCommon.Search, "SemanticIndex")]
[OutputType(typeof(SearchHit))]
public sealed class SearchSemanticIndexCommand : SemanticCmdlet
{
    /// <summary>Key problems stop the whole command in Semantic mode: no later query could do better.</summary>
    private static readonly HashSet<string> KeyErrorIds = new(StringComparer.Ordinal) { "ApiKeyMissing", "InvalidApiKeyFormat", "GeminiInvalidApiKey" };

    private readonly Dictionary<IndexSettings, IEmbeddingProvider> embedders = [];
    private readonly HashSet<string> fallbacksWarned = new(StringComparer.Ordinal);

    /// <summary>What to look for, in your own words; from the pipeline too (one search per line or object).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string Query { get; set; } = "";

    [Parameter]
    [ValidateRange(1, 1000)]
    public int Top { get; set; } = 10;

    [Parameter]
    public SearchMode Mode { get; set; } = SearchMode.Hybrid;

    /// <summary>Drops hits whose Score (the mode's own score) is lower; a finite number.</summary>
    [Parameter]
    [ValidateFinite]
    public double MinScore { get; set; }

    /// <summary>Full paths or wildcard patterns over stored document paths; a pattern without a directory part also matches file names.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? DocumentPath { get; set; }

    [Parameter]
    public ChunkType[]? ChunkType { get; set; }

    /// <summary>Code languages (case-insensitive), e.g. powershell, sql.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Language { get; set; }

    /// <summary>The default (interactive) Gemini key for the query's embedding; never the batch key.</summary>
    [Parameter]
    [SecureKey]
    public SecureString? ApiKey { get; set; }

    /// <summary>Reads the vectors from the file for this search and drops the session's cached copy (low-memory hosts).</summary>
    [Parameter]
    public SwitchParameter NoCache { get; set; }

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var request = new SearchRequest
        {
            Query = Query,
            Top = Top,
            Mode = Mode,
            MinScore = MyInvocation.BoundParameters.ContainsKey(nameof(MinScore)) ? MinScore : null,
            DocumentPathMatches = DocumentPath is null ? null : DocumentPathMatcher(DocumentPath),
            ChunkTypes = ChunkType,
            Languages = Language,
            UseCache = !NoCache,
        };

        SearchOutcome outcome;
        try
        {
            outcome = Await(IndexSearch.SearchAsync(index, request, () => Embedder(index.Settings), Cancellation));
        }
        catch (SemanticCoreException ex) when (Mode == SearchMode.Semantic && KeyErrorIds.Contains(ex.ErrorId))
        {
            ThrowTerminatingError(Errors.From(ex, Query));
            return;
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, Query));
            return;
        }

        Report(outcome.Statistics, index.Settings, SemanticIndex.ServerIndexName(index.DatabasePath) is null ? "from the file" : "by the server");
        foreach (var hit in outcome.Hits) WriteObject(ForModeView(hit));
    }

    /// <summary>The hit with a type name for this mode ("SemanticCore.Model.SearchHit#Hybrid"), whose default view names what Score holds.</summary>
    private PSObject ForModeView(SearchHit hit)
    {
        var wrapped = PSObject.AsPSObject(hit);
        wrapped.TypeNames.Insert(0, $"{typeof(SearchHit).FullName}#{Mode}");
        return wrapped;
    }

    private IEmbeddingProvider Embedder(IndexSettings settings)
    {
        if (!embedders.TryGetValue(settings, out var embedder))
        {
            embedder = EmbeddingProviders.CreateInteractive(settings, settings.RunsOnThisMachine ? null : ResolveKey(KeyKind.Default, ApiKey), Progress);
            embedders[settings] = embedder;
        }

        return embedder;
    }

    /// <param name="scoredWhere">Where vectors not in the session cache are scored: "from the file", or "by the server".</param>
    private void Report(SearchStatistics statistics, IndexSettings settings, string scoredWhere)
    {
        // The same reason (no key, say) is said once per command, not once per piped query.
        if (statistics.Fallback is { } reason && fallbacksWarned.Add(reason))
        {
            WriteWarning($"Answering from keywords only: the query could not be embedded. {reason}");
        }

        if (Mode == SearchMode.Semantic && statistics.VectorsScored is null && fallbacksWarned.Add("no vectors"))
        {
            WriteWarning("No chunk of this index has a Ready vector yet: run Invoke-BatchFlush and Sync-BatchJob, or search with -Mode Keyword or Hybrid.");
        }

        var keyword = statistics.KeywordSearched
            ? string.Create(CultureInfo.InvariantCulture, $"keywords: {statistics.Chunks} chunks, Pending included")
            : "keywords: not searched";
        var notReady = statistics.NotReady is { } count
            ? string.Create(CultureInfo.InvariantCulture, $"{count} of {statistics.Chunks} chunks not Ready")
            : "vectors not read";
        var semantic = statistics.VectorsScored is { } scored
            ? string.Create(CultureInfo.InvariantCulture,
                $"meaning: {scored} vectors of {settings.Model}/{settings.Dimensions} scored {(statistics.FromCache ? "from the session cache" : scoredWhere)}, {notReady} (skipped)")
            : $"meaning: not scored ({notReady})";
        WriteVerbose($"Searched {keyword}; {semantic}.");
    }
}
