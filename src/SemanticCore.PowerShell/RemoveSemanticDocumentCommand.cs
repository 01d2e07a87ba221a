using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Removes documents from an index, with their chunks, vectors and keyword entries.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "SemanticDocument", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = InputSet)]
public sealed class RemoveSemanticDocumentCommand : SemanticCmdlet
{
    private const string InputSet = "InputObject";
    private const string PathSet = "Path";

    /// <summary>Documents, import results or search hits (their document), from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>Stored full paths or wildcard patterns.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var documents = ParameterSetName == PathSet
            ? index.Documents.Find(new DocumentFilter { PathMatches = DocumentPathMatcher(Path) }).ToList()
            : Named(index, InputObject!);
        if (documents is null) return;

        foreach (var document in documents)
        {
            var inJobs = document.Submitted > 0 ? $", {document.Submitted} of them in an active batch job" : "";
            if (!ShouldProcess($"{document.Path} ({document.Chunks} chunks{inJobs}) in the index '{index.DatabasePath}'", "Remove document")) continue;
            try
            {
                if (index.Documents.Remove(document.Id) is { } removed)
                {
                    WriteVerbose($"Removed '{removed.Path}': {removed.Chunks} chunks{(removed.ReleasedFromJobs > 0 ? $", {removed.ReleasedFromJobs} released from their batch job" : "")}.");
                }
            }
            catch (SemanticCoreException ex)
            {
                WriteError(Errors.From(ex, document.Path));
            }
        }
    }

    /// <summary>The document a piped object names; null (after an error) when it names none.</summary>
    private List<SemanticDocument>? Named(SemanticIndex index, PSObject input)
    {
        long? id = input.BaseObject switch
        {
            SemanticDocument document => document.Id,
            ImportResult result => result.Id,
            SearchHit hit => hit.DocumentId,
            _ => null,
        };
        if (id is null)
        {
            WriteInputNotSupported(input, "document", "documents (Get-SemanticDocument), import results or search hits, or use -Path");
            return null;
        }

        var found = index.Documents.Find(new DocumentFilter { Ids = [id.Value] }).ToList();
        if (found.Count == 0)
        {
            WriteError(Errors.Create("DocumentNotFound", ErrorCategory.ObjectNotFound, $"There is no document {id} in the index '{index.DatabasePath}'.", input));
        }

        return found;
    }
}
