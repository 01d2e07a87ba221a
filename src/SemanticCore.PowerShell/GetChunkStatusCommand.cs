using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Lists chunks and where they are in the embedding lifecycle, or counts them per status.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ChunkStatus", DefaultParameterSetName = ListSet)]
[OutputType(typeof(Chunk), ParameterSetName = [ListSet])]
[OutputType(typeof(ChunkStatusSummary), ParameterSetName = [SummarySet])]
public sealed class GetChunkStatusCommand : SemanticCmdlet
{
    private const string ListSet = "List";
    private const string SummarySet = "Summary";

    private readonly HashSet<(string Database, long Id)> written = [];

    [Parameter(Position = 0)]
    public EmbeddingStatus[]? Status { get; set; }

    [Parameter]
    [Alias("JobId")]
    [ValidateNotNullOrEmpty]
    public string? BatchJobId { get; set; }

    /// <summary>Full paths or wildcard patterns; a pattern without a directory part also matches file names.</summary>
    [Parameter]
    [Alias("Path")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? DocumentPath { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    [Alias("ChunkId")]
    public long[]? Id { get; set; }

    /// <summary>
    /// What the pipeline brings, each object for what it names: chunks and search hits (those chunks),
    /// batch jobs (their chunks), import results and documents (their chunks), files and path strings (the
    /// chunks of those documents). Typed here rather than bound by property name: an Id means a chunk, a
    /// job or a document depending on the object.
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    [ValidateRange(1, int.MaxValue)]
    public int First { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = SummarySet)]
    public SwitchParameter Summary { get; set; }

    protected override void OnProcessRecord()
    {
        var filter = new ChunkFilter
        {
            Statuses = Status,
            BatchJobId = BatchJobId,
            DocumentPathMatches = DocumentPath is null ? null : DocumentPathMatcher(DocumentPath),
            Ids = Id,
            First = MyInvocation.BoundParameters.ContainsKey(nameof(First)) ? First : null,
        };

        if (InputObject is not null)
        {
            if (FilterFor(InputObject.BaseObject, filter) is not { } narrowed)
            {
                WriteInputNotSupported(InputObject, "chunks", "chunks, search hits, batch jobs, import results, documents, files or paths");
                return;
            }

            filter = narrowed;
        }

        var index = OpenIndex(createIfMissing: false);
        if (Summary)
        {
            WriteObject(index.Chunks.Summarize(filter), enumerateCollection: true);
            return;
        }

        foreach (var chunk in index.Chunks.Find(filter))
        {
            // Piped objects may name the same chunk twice (two hits of one chunk, a job and its chunks): each is written once.
            if (InputObject is null || written.Add((chunk.Database, chunk.Id))) WriteObject(chunk);
        }
    }

    /// <summary>The filter narrowed to what a piped object names; null for an object that names no chunks.</summary>
    private ChunkFilter? FilterFor(object input, ChunkFilter filter) => input switch
    {
        Chunk chunk => filter with { Ids = Only(filter.Ids, chunk.Id) },
        SearchHit hit => filter with { Ids = Only(filter.Ids, hit.ChunkId) },
        BatchJob job => filter with { BatchJobId = filter.BatchJobId is null || filter.BatchJobId == job.Id ? job.Id : "" },
        ImportResult result => filter with { DocumentIds = [result.Id] },
        SemanticDocument document => filter with { DocumentIds = [document.Id] },
        FileInfo file => filter with { DocumentPathMatches = path => string.Equals(path, file.FullName, StringComparison.Ordinal) },
        string path => filter with { DocumentPathMatches = DocumentPathMatcher([path]) },
        _ => null,
    };

    /// <summary>The piped chunk, if -Id (when given) includes it: every criterion must hold.</summary>
    private static long[] Only(IReadOnlyCollection<long>? ids, long id) => ids is null || ids.Contains(id) ? [id] : [];
}
