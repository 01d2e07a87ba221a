using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SemanticCore.Batches;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>Completes batch job ids from the index named by -Database (or the default one), active jobs first.</summary>
public sealed class BatchJobIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var database = fakeBoundParameters["Database"] as string
                       ?? Environment.GetEnvironmentVariable(DefaultDatabase.EnvironmentVariable)
                       ?? DefaultDatabase.Path;
        var prefix = wordToComplete.Trim('\'', '"');
        try
        {
            using var index = SemanticIndex.Open(FullPath(database), createIfMissing: false);
            return index.Jobs.List(null)
                .Where(job => job.Id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .OrderBy(job => job.IsActive ? 0 : 1).ThenByDescending(job => job.CreatedAt)
                .Select(job => new CompletionResult(job.Id, job.Id, CompletionResultType.ParameterValue, $"{job.Status}, {job.Requests} chunks, {job.CreatedAt:u}"))
                .ToList();
        }
        catch (SemanticCoreException)
        {
            return []; // no index there: nothing to complete
        }
    }

    /// <summary>Relative to PowerShell's current location, like -Database itself (asked of the running session).</summary>
    private static string FullPath(string database)
    {
        try
        {
            using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddScript("param($path) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($path)").AddArgument(database);
            return ps.Invoke<string>().FirstOrDefault() ?? Path.GetFullPath(database);
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or RuntimeException)
        {
            return Path.GetFullPath(database);
        }
    }
}
