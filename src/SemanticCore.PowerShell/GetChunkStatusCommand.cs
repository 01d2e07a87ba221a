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

    [Parameter(Position = 0)]
    public EmbeddingStatus[]? Status { get; set; }

    [Parameter]
    [Alias("JobId")]
    [ValidateNotNullOrEmpty]
    public string? BatchJobId { get; set; }

    /// <summary>Full paths or wildcard patterns; a pattern without a directory part also matches file names.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? DocumentPath { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    public long[]? Id { get; set; }

    /// <summary>
    /// Chunk ids, like -Id, bound from the ChunkId property of piped search hits. Apart from -Id because
    /// other objects' Id (a document's, an import result's) is not a chunk id.
    /// </summary>
    [Parameter(ParameterSetName = ListSet, ValueFromPipelineByPropertyName = true)]
    public long[]? ChunkId { get; set; }

    [Parameter(ParameterSetName = ListSet)]
    [ValidateRange(1, int.MaxValue)]
    public int First { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = SummarySet)]
    public SwitchParameter Summary { get; set; }

    protected override void ProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var filter = new ChunkFilter
        {
            Statuses = Status,
            BatchJobId = BatchJobId,
            DocumentPathMatches = DocumentPath is null ? null : DocumentPathMatcher(DocumentPath),
            Ids = Id is null && ChunkId is null ? null : [.. Id ?? [], .. ChunkId ?? []],
            First = MyInvocation.BoundParameters.ContainsKey(nameof(First)) ? First : null,
        };

        if (Summary)
        {
            WriteObject(ChunkQueries.Summarize(index, filter), enumerateCollection: true);
            return;
        }

        foreach (var chunk in ChunkQueries.Find(index, filter))
        {
            WriteObject(chunk);
        }
    }
}
