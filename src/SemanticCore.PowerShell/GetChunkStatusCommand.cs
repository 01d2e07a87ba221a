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
    [Alias("ChunkId")]
    public long[]? Id { get; set; }

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
            DocumentPathMatches = DocumentPath is null ? null : PathMatcher(DocumentPath),
            Ids = Id,
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

    /// <summary>
    /// Patterns with a directory part are resolved against PowerShell's location and matched with the full
    /// path; bare names and patterns ("intro.md", "*rotation*") match the file name or the full path.
    /// </summary>
    private Func<string, bool> PathMatcher(IEnumerable<string> patterns)
    {
        var matchers = patterns.Select(pattern =>
        {
            var hasDirectory = pattern.IndexOfAny(['/', '\\']) >= 0 || System.IO.Path.IsPathRooted(pattern);
            var full = hasDirectory ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(pattern) : pattern;
            var wildcard = WildcardPattern.Get(full, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
            return hasDirectory
                ? (Func<string, bool>)wildcard.IsMatch
                : path => wildcard.IsMatch(path) || wildcard.IsMatch(System.IO.Path.GetFileName(path));
        }).ToList();
        return path => matchers.Any(match => match(path));
    }
}
