using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Makes a consistent copy of an index while other processes keep using it.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "SemanticIndex", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BackupResult))]
public sealed class BackupSemanticIndexCommand : SemanticCmdlet
{
    /// <summary>The file to write; a relative path follows PowerShell's current location.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Replace the destination file if it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The index to copy: a path, or a file from Get-ChildItem (by FullName or PSPath).</summary>
    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }

    protected override void OnProcessRecord()
    {
        var destination = FileSystemPath(Destination, "-Destination");
        var source = ResolveDatabasePath();
        var replacing = File.Exists(destination) ? " (replacing it)" : "";
        if (!ShouldProcess($"'{destination}'{replacing}", $"Back up the index '{source}'")) return;

        var index = OpenIndex(createIfMissing: false);
        try
        {
            var backup = IndexBackup.Create(index, destination, Force);
            WriteVerbose($"Backed up '{backup.Source}' to '{backup.Path}' ({backup.Bytes:N0} bytes) in {backup.Duration.TotalSeconds:N1} s.");
            WriteObject(backup);
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, destination));
        }
    }
}
