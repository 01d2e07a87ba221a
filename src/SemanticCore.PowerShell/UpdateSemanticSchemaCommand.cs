using System.Management.Automation;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Upgrades an index's schema in place to the version this module uses.</para>
/// </summary>
[Cmdlet(VerbsData.Update, "SemanticSchema", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SchemaUpdate))]
public sealed class UpdateSemanticSchemaCommand : SemanticCmdlet
{
    /// <summary>The index files: paths, or files from Get-ChildItem (by FullName or PSPath).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }

    /// <summary>Builds (Hnsw) or drops (None) the index semantic searches go through; PostgreSQL indexes only.</summary>
    [Parameter]
    public VectorIndexKind? VectorIndex { get; set; }

    protected override void OnProcessRecord()
    {
        string path;
        try
        {
            path = ResolveDatabasePathPerItem();
        }
        catch (SemanticCoreException ex)
        {
            // A path that names no file is that index's error: the other piped indexes are still upgraded.
            WriteError(Errors.From(ex, Database));
            return;
        }

        SchemaUpdate plan;
        try
        {
            plan = SemanticIndex.PlanUpgrade(ConnectionFor(path));
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, path));
            return;
        }
        catch (System.Data.Common.DbException ex)
        {
            // One damaged index of several piped in is that index's error.
            WriteError(Errors.From(StoreFailures.Map(ex, path, "SchemaUpgradeFailed", FailureKind.InvalidOperation), path));
            return;
        }

        if (plan.Steps.Count == 0 && VectorIndex is null)
        {
            WriteVerbose(plan.Note ?? $"The index '{path}' is at schema version {plan.FromVersion}: nothing to do.");
            WriteObject(new SchemaUpdate { Database = path, FromVersion = plan.FromVersion, ToVersion = plan.ToVersion, Steps = [], Note = plan.Note, WhatIf = WhatIfRequested });
            return;
        }

        var steps = VectorIndex is { } kind ? [.. plan.Steps, kind == VectorIndexKind.Hnsw ? "Build the HNSW index of the vectors" : "Drop the HNSW index of the vectors, if there is one"] : plan.Steps;
        var description = $"Upgrade the schema of '{path}' from v{plan.FromVersion} to v{plan.ToVersion}:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", steps);
        if (!ShouldProcess(description, description, "Update-SemanticSchema", out var reason))
        {
            if (reason == ShouldProcessReason.WhatIf) WriteObject(new SchemaUpdate { Database = plan.Database, FromVersion = plan.FromVersion, ToVersion = plan.ToVersion, Steps = steps, Note = plan.Note, WhatIf = true });
            return;
        }

        try
        {
            using var index = SemanticIndex.Open(ConnectionFor(path), createIfMissing: false);
            var applied = index.Migration.Steps;
            if (VectorIndex is { } change)
            {
                WriteVerbose(change == VectorIndexKind.Hnsw ? $"Building the HNSW index of '{path}': this reads every vector once." : $"Dropping the HNSW index of '{path}'.");
                applied = index.Ranking.SetVectorIndex(change) is { } done ? [.. applied, done] : applied;
            }

            WriteObject(new SchemaUpdate { Database = index.Migration.Database, FromVersion = index.Migration.FromVersion, ToVersion = index.Migration.ToVersion, Steps = applied, Note = index.Migration.Note });
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, path));
        }
    }
}
