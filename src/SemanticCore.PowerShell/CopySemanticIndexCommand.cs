using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Copies an index, as of one moment, into an empty index of either engine (SQLite or PostgreSQL), with nothing embedded again.</para>
/// </summary>
[Cmdlet(VerbsCommon.Copy, "SemanticIndex", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(CopyResult))]
public sealed class CopySemanticIndexCommand : SemanticCmdlet
{
    /// <summary>The index to write: a file path (relative paths follow PowerShell's location), or a PostgreSQL URI or connection string.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>The index to copy: a path or connection, a file from Get-ChildItem (by FullName or PSPath), or any object with a Database property.</summary>
    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }

    protected override int ProgressId => ProgressIds.Copy;

    protected override void OnProcessRecord()
    {
        var (destination, destinationName) = ResolveDestination();
        var source = ResolveDatabasePath();
        var index = OpenIndex(createIfMissing: false);
        var rows = IndexCopy.CountRows(index);
        var what = $"{rows.Documents} documents, {rows.Chunks} chunks, {rows.Vectors} vectors and {rows.Jobs} batch jobs";
        if (!ShouldProcess($"'{destinationName}'", $"Copy {what} of the index '{source}'")) return;

        var activity = $"Copying {source} to {destinationName}";
        try
        {
            var copy = IndexCopy.Run(index, destination, (copied, total) => WriteProgress(new ProgressRecord(ProgressId, activity, $"{copied:N0} of {total:N0} rows")
            {
                PercentComplete = (int)(100 * copied / Math.Max(1, total)),
            }));
            WriteVerbose($"Copied '{copy.Source}' to '{copy.Destination}' ({what}) in {copy.Duration.TotalSeconds:N1} s.");
            WriteObject(copy);
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, destinationName));
        }
        finally
        {
            WriteProgress(new ProgressRecord(ProgressId, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    /// <summary>What opens the destination (a full path, or the connection as given) and its name for output (never a password).</summary>
    private (string Open, string Name) ResolveDestination()
    {
        string? serverName;
        try
        {
            serverName = SemanticIndex.ServerIndexName(Destination);
        }
        catch (SemanticCoreException ex)
        {
            ThrowTerminatingError(Errors.From(ex, "-Destination"));
            throw; // unreachable: ThrowTerminatingError always throws
        }

        if (serverName is not null) return (Destination, serverName);
        var path = FileSystemPath(Destination, "-Destination");
        return (path, path);
    }
}
