using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Lists the documents of an index, with their chunks counted per status.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SemanticDocument", DefaultParameterSetName = PathSet)]
[OutputType(typeof(SemanticDocument))]
public sealed class GetSemanticDocumentCommand : SemanticCmdlet
{
    private const string PathSet = "Path";
    private const string IdSet = "Id";

    /// <summary>Stored full paths or wildcard patterns; bound from piped paths, files, import results, chunks and hits.</summary>
    [Parameter(Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "DocumentPath")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = IdSet)]
    [Alias("DocumentId")]
    public long[] Id { get; set; } = [];

    /// <summary>Only documents whose source file no longer exists.</summary>
    [Parameter]
    public SwitchParameter Missing { get; set; }

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var filter = new DocumentFilter
        {
            Ids = ParameterSetName == IdSet ? Id : null,
            PathMatches = Path is null ? null : PathMatcher(Path),
            Missing = Missing,
        };
        foreach (var document in index.Documents.Find(filter)) WriteObject(document);
    }

    /// <summary>Wildcards as -DocumentPath matches them, and every path also literally (a stored path may contain '[').</summary>
    private Func<string, bool> PathMatcher(string[] patterns)
    {
        var wildcards = DocumentPathMatcher(patterns);
        var literal = patterns.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)).ToHashSet(StringComparer.Ordinal);
        return path => literal.Contains(path) || wildcards(path);
    }
}
