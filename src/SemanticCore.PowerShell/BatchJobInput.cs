using System.Management.Automation;
using SemanticCore.Model;

namespace SemanticCore.PowerShell;

/// <summary>The batch jobs a piped object names, for the cmdlets that look jobs up or sync them.</summary>
internal static class BatchJobInput
{
    /// <summary>What may be piped, as the end of an InputObjectNotSupported message.</summary>
    public const string Accepted = "batch jobs (Get-BatchJob), job ids, or objects with a BatchJobId (chunks)";

    /// <summary>The job ids a piped object names (none for a chunk in no job); null for an object that can't name a job.</summary>
    public static string[]? IdsOf(PSObject input)
    {
        switch (input.BaseObject)
        {
            case BatchJob job: return [job.Id];
            case string text: return [text];
        }

        // Another object names a job in BatchJobId; only a plain record (Import-Csv) is taken to mean one by its Id.
        var property = input.Properties["BatchJobId"] ?? (input.BaseObject is PSCustomObject ? input.Properties["Id"] : null);
        if (property is null) return null;
        var id = property.Value?.ToString();
        return string.IsNullOrWhiteSpace(id) ? [] : [id];
    }
}
