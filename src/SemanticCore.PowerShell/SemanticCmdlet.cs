using System.Management.Automation;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// What every SemanticCore cmdlet shares: the -Database parameter and its resolution, opening the
/// index, cancellation on Ctrl+C, and turning core failures into ErrorRecords.
/// </summary>
public abstract class SemanticCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly Dictionary<string, SemanticIndex> openIndexes = new(StringComparer.Ordinal);

    /// <summary>The index file. Default: $env:SEMANTICCORE_DATABASE, else the per-user default location.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing).</summary>
    protected CancellationToken Cancellation => stopping.Token;

    /// <summary>-Database, else $env:SEMANTICCORE_DATABASE, else the per-user default; relative paths follow PowerShell's location.</summary>
    protected string ResolveDatabasePath()
    {
        var given = Database;
        if (string.IsNullOrWhiteSpace(given)) given = Environment.GetEnvironmentVariable(DefaultDatabase.EnvironmentVariable);
        return string.IsNullOrWhiteSpace(given)
            ? DefaultDatabase.Path
            : SessionState.Path.GetUnresolvedProviderPathFromPSPath(given);
    }

    /// <summary>
    /// The index for the current -Database (which may change per pipeline object), opened once per
    /// path and kept open until the command ends; a failure to open ends the command.
    /// </summary>
    protected SemanticIndex OpenIndex(bool createIfMissing, IndexSettingsRequest? settings = null)
    {
        var path = ResolveDatabasePath();
        if (openIndexes.TryGetValue(path, out var open)) return open;
        try
        {
            var index = SemanticIndex.Open(path, createIfMissing, settings);
            foreach (var step in index.Migration.Steps) WriteVerbose($"Schema v{index.Migration.ToVersion}: {step}");
            openIndexes[path] = index;
            return index;
        }
        catch (SemanticCoreException ex)
        {
            ThrowTerminatingError(Errors.From(ex, path));
            throw; // unreachable: ThrowTerminatingError always throws
        }
    }

    /// <summary>Waits on the pipeline thread (where output must be written) for core work that observes <see cref="Cancellation"/>.</summary>
    protected static T Await<T>(Task<T> task) => task.GetAwaiter().GetResult();

    protected override void StopProcessing() => stopping.Cancel();

    /// <summary>pwsh disposes a cmdlet when its pipeline ends, stopped or not: the place to close the index.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var index in openIndexes.Values) index.Dispose();
        openIndexes.Clear();
        stopping.Dispose();
    }
}
