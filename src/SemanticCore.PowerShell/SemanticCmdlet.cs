using System.Management.Automation;
using System.Security;
using SemanticCore.Embedding;
using SemanticCore.Gemini;
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
    private readonly Dictionary<string, string> serverIndexes = new(StringComparer.Ordinal);
    private readonly HashSet<string> announcedIndexes = new(StringComparer.Ordinal);
    private readonly LatestProgress progress = new();
    private bool parentProgressWritten;

    /// <summary>The index file. Default: $env:SEMANTICCORE_DATABASE, else the per-user default location.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public virtual string? Database { get; set; }

    /// <summary>-WhatIf given, or $WhatIfPreference set: the command forecasts instead of writing.</summary>
    protected bool WhatIfRequested =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var value) ? ((SwitchParameter)value).IsPresent
        : SessionState.PSVariable.GetValue("WhatIfPreference") is { } preference && LanguagePrimitives.IsTrue(preference);

    /// <summary>The cmdlet's per-object work (ProcessRecord), run so that no raw SQLite failure reaches the user.</summary>
    protected virtual void OnProcessRecord()
    {
    }

    /// <summary>The cmdlet's closing work (EndProcessing), run like <see cref="OnProcessRecord"/>.</summary>
    protected virtual void OnEndProcessing()
    {
    }

    protected sealed override void ProcessRecord() => MapStoreFailures(OnProcessRecord);

    protected sealed override void EndProcessing() => MapStoreFailures(OnEndProcessing);

    /// <summary>
    /// A SQLite failure that no deeper layer turned into an ErrorId (a damaged page met by a query, a lock held
    /// past the busy timeout) ends the command with the documented one: IndexCorrupt, IndexLocked, IndexReadOnly...;
    /// a core failure the cmdlet did not report itself ends it with its own ErrorId and advice.
    /// </summary>
    private void MapStoreFailures(Action work)
    {
        try
        {
            work();
        }
        catch (System.Data.Common.DbException ex)
        {
            var path = ResolveDatabasePath();
            ThrowTerminatingError(Errors.From(StoreFailures.Map(ex, path, "IndexReadFailed", FailureKind.ReadError), path));
        }
        catch (SemanticCoreException ex)
        {
            var path = ResolveDatabasePath();
            ThrowTerminatingError(Errors.FromIndex(ex, path, path));
        }
    }

    /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing).</summary>
    protected CancellationToken Cancellation => stopping.Token;

    /// <summary>-Database, else $env:SEMANTICCORE_DATABASE, else the per-user default; relative paths follow PowerShell's location.</summary>
    /// <remarks>A path that names no file ends the command (InvalidPath, NotAFileSystemPath).</remarks>
    protected string ResolveDatabasePath() => Terminating(() => ResolveDatabase().Path, Database);

    /// <summary>As <see cref="ResolveDatabasePath"/>, for a command that reports a bad path per index.</summary>
    /// <exception cref="SemanticCoreException">InvalidPath, NotAFileSystemPath.</exception>
    protected string ResolveDatabasePathPerItem() => ResolveDatabase().Path;

    /// <summary>The index file, where its path came from (for -Verbose), and the path as given (null for the per-user default).</summary>
    /// <exception cref="SemanticCoreException">InvalidPath, NotAFileSystemPath.</exception>
    private (string Path, string Source, string? Given) ResolveDatabase()
    {
        // A blank -Database is a mistake (an unset variable, say), never a request for the default index.
        if (Database is not null) return (Locate(Database, "-Database"), "-Database", Database);
        var fromEnvironment = Environment.GetEnvironmentVariable(DefaultDatabase.EnvironmentVariable);
        var source = $"$env:{DefaultDatabase.EnvironmentVariable}";
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? (DefaultDatabase.Path, "the per-user default", null)
            : (Locate(fromEnvironment, source), source, fromEnvironment);
    }

    /// <summary>
    /// An index file's full path, or a server index's name as output shows it (never its password); the connection
    /// string itself is kept aside for <see cref="OpenIndex"/>.
    /// </summary>
    /// <exception cref="SemanticCoreException">InvalidPath, NotAFileSystemPath, InvalidDatabaseConnection.</exception>
    private string Locate(string given, string parameter)
    {
        if (SemanticIndex.ServerIndexName(given) is not { } name) return ToFileSystemPath(given, parameter);
        serverIndexes[name] = given;
        return name;
    }

    /// <summary>True when the resolved location holds an index (a file, or a server index's schema).</summary>
    protected bool IndexExists(string location) => SemanticIndex.Exists(ConnectionFor(location));

    /// <summary>What opens the index a resolved location names: the connection string of a server index, else the path.</summary>
    protected string ConnectionFor(string location) => serverIndexes.GetValueOrDefault(location, location);

    /// <summary>
    /// Says once per index, without -Verbose, that this command created it (under -WhatIf: would create it): a line on
    /// the information stream, shown like Write-Host and tagged SemanticCore and IndexCreated; and a warning when the path
    /// was relative, since a command run from the wrong folder creates a new index instead of opening the one meant.
    /// </summary>
    protected void AnnounceNewIndex(IndexSettings settings)
    {
        var (path, source, given) = Terminating(ResolveDatabase, Database);
        if (!announcedIndexes.Add(path)) return;
        var whatIf = WhatIfRequested;
        WriteInformation(new HostInformationMessage
        {
            Message = $"{(whatIf ? "Would create" : "Created")} a new {settings.Provider} index at {path} ({settings.Model}, {settings.Dimensions} dimensions).",
        }, ["PSHOST", "SemanticCore", "IndexCreated"]);
        // '~' is the home folder, not the current one; a server index has no folder (and its string may hold a password).
        if (given is null || serverIndexes.ContainsKey(path) || given.StartsWith('~') || SessionState.Path.IsPSAbsolute(given, out _)) return;
        WriteWarning($"{source} '{given}' is a relative path, so the new index {(whatIf ? "would be" : "is")} in the current folder " +
            $"'{SessionState.Path.CurrentFileSystemLocation.ProviderPath}'. To use an existing index, give its full path or run the command from its folder.");
    }

    /// <summary>
    /// A path parameter (-Destination, a folder) as a file system path; relative paths follow PowerShell's location.
    /// A path that names no file (blank, a NUL character, an unknown drive, another provider's env: or variable:)
    /// ends the command: every item would meet it.
    /// </summary>
    protected string FileSystemPath(string given, string parameter) => Terminating(() => ToFileSystemPath(given, parameter), given);

    /// <exception cref="SemanticCoreException">InvalidPath, NotAFileSystemPath.</exception>
    private string ToFileSystemPath(string given, string parameter)
    {
        if (string.IsNullOrWhiteSpace(given)) throw InvalidPath(given, parameter, "is blank");
        if (given.Contains('\0', StringComparison.Ordinal)) throw InvalidPath(given, parameter, "contains a NUL character");
        string path;
        ProviderInfo provider;
        try
        {
            path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(given, out provider, out _);
        }
        catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException or NotSupportedException)
        {
            throw InvalidPath(given, parameter, $"can't be resolved ({ex.Message})");
        }

        if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
        {
            throw new SemanticCoreException("NotAFileSystemPath", FailureKind.InvalidArgument,
                $"{parameter} '{given}' is not a file system path (provider {provider.Name}).");
        }

        return path;
    }

    private static SemanticCoreException InvalidPath(string given, string parameter, string problem) =>
        new("InvalidPath", FailureKind.InvalidArgument, $"{parameter} '{given.Replace('\0', ' ')}' {problem}.");

    private T Terminating<T>(Func<T> work, object? target)
    {
        try
        {
            return work();
        }
        catch (SemanticCoreException ex)
        {
            ThrowTerminatingError(Errors.From(ex, target));
            throw; // unreachable: ThrowTerminatingError always throws
        }
    }

    /// <summary>
    /// The index for the current -Database (which may change per pipeline object), opened once per
    /// path and kept open until the command ends; a failure to open ends the command. Under -WhatIf
    /// the file is opened for a forecast, which writes nothing to it (no schema upgrade, no settings).
    /// </summary>
    protected SemanticIndex OpenIndex(bool createIfMissing, IndexSettingsRequest? settings = null)
    {
        var (path, source, _) = Terminating(ResolveDatabase, Database);
        if (openIndexes.TryGetValue(path, out var open)) return open;
        if (settings?.Provider is { } requested) ImportCompanionModule(requested);
        try
        {
            var index = WhatIfRequested ? SemanticIndex.OpenForForecast(ConnectionFor(path)) : SemanticIndex.Open(ConnectionFor(path), createIfMissing, settings);
            WriteVerbose($"Index '{path}' (from {source}){(index.Created ? ", created" : "")}: {index.Settings}.");
            ImportCompanionModule(index.Settings.Provider);
            if (index.Created) AnnounceNewIndex(index.Settings);
            var upgrade = index.Migration.WhatIf
                ? $"Schema v{index.Migration.FromVersion} to v{index.Migration.ToVersion}, forecast against an upgraded temporary copy (the file is left as it is)"
                : $"Schema v{index.Migration.ToVersion}";
            foreach (var step in index.Migration.Steps) WriteVerbose($"{upgrade}: {step}");
            openIndexes[path] = index;
            return index;
        }
        catch (SemanticCoreException ex)
        {
            ThrowTerminatingError(Errors.From(ex, path));
            throw; // unreachable: ThrowTerminatingError always throws
        }
    }

    /// <summary>The settings a new index would get from <paramref name="request"/> (a forecast's), its provider's module imported first.</summary>
    /// <exception cref="SemanticCoreException">ProviderNotInstalled, InvalidModel, InvalidDimensions.</exception>
    protected IndexSettings NewIndexSettings(IndexSettingsRequest request)
    {
        if (request.Provider is { } provider) ImportCompanionModule(provider);
        return IndexSettings.FromRequest(request);
    }

    /// <summary>
    /// Imports the module that adds <paramref name="provider"/> (SemanticCore.PS.Onnx for Onnx) when it is installed and not
    /// yet imported, as pwsh imports a module for a command it exports; when it is not installed, whatever needs the provider
    /// later ends with ProviderNotInstalled, and reading the index goes on without it.
    /// </summary>
    private void ImportCompanionModule(EmbeddingProviderKind provider)
    {
        if (EmbeddingProviders.IsInstalled(provider)) return;
        var module = EmbeddingProviders.CompanionModules[provider];
        try
        {
            InvokeCommand.InvokeScript($"Import-Module -Name {module} -ErrorAction Stop");
            WriteVerbose($"Imported {module} for the {provider} provider.");
        }
        catch (RuntimeException ex) when (ex.ErrorRecord?.FullyQualifiedErrorId?.StartsWith("Modules_ModuleNotFound", StringComparison.Ordinal) == true)
        {
            WriteVerbose($"The module {module}, which adds the {provider} provider, is not installed.");
        }
        catch (RuntimeException ex)
        {
            // Found but it failed to load (a platform it has no runtime for, a damaged copy): say why, once.
            WriteWarning($"The module {module} could not be imported: {ex.Message}");
        }
    }

    /// <summary>
    /// -DocumentPath patterns as a test of stored paths. Patterns with a directory part are resolved against
    /// PowerShell's location and matched with the full path; bare names and patterns ("intro.md", "*rotation*")
    /// match the file name or the full path.
    /// </summary>
    protected Func<string, bool> DocumentPathMatcher(IEnumerable<string> patterns)
    {
        var matchers = patterns.Select(pattern =>
        {
            var hasDirectory = pattern.IndexOfAny(['/', '\\']) >= 0 || System.IO.Path.IsPathRooted(pattern);
            var full = hasDirectory ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(pattern) : pattern;
            var wildcard = WildcardPattern.Get(full, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
            try
            {
                wildcard.IsMatch("");
            }
            catch (WildcardPatternException)
            {
                // Not a valid pattern ('a[b'): a path that contains wildcard characters, matched as written.
                wildcard = WildcardPattern.Get(WildcardPattern.Escape(full), WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
            }
            return hasDirectory
                ? (Func<string, bool>)wildcard.IsMatch
                : path => wildcard.IsMatch(path) || wildcard.IsMatch(System.IO.Path.GetFileName(path));
        }).ToList();
        return path => matchers.Any(match => match(path));
    }

    /// <summary>A piped object this command can't use: an error for that object alone, and the pipeline goes on.</summary>
    /// <param name="names">What the command looks for in it ("chunks", "document").</param>
    /// <param name="accepted">What to pipe instead, as the sentence's end.</param>
    protected void WriteInputNotSupported(PSObject input, string names, string accepted) =>
        WriteError(Errors.Create("InputObjectNotSupported", ErrorCategory.InvalidArgument,
            $"{MyInvocation.MyCommand.Name} can't tell which {names} a {input.BaseObject.GetType().Name} names. Pipe {accepted}.", input));

    /// <summary>The Write-Progress activity id of this command; nested steps use the next id, as its child.</summary>
    protected virtual int ProgressId => ProgressIds.Import;

    /// <summary>Where core work reports progress from any thread; <see cref="Await{T}"/> writes it from the pipeline thread.</summary>
    protected IProgress<OperationProgress> Progress => progress;

    /// <summary>
    /// Waits for core work on the pipeline thread (the only one that may write to the pipeline),
    /// writing its progress meanwhile; Ctrl+C cancels the work and stops the pipeline.
    /// </summary>
    protected T Await<T>(Task<T> task)
    {
        // Once stopping, nothing more is written (the pipeline throws), but the work is still waited for:
        // its cleanup (releasing a claim, rolling back) must finish before the index is closed.
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(100)) TryWritePendingProgress();
        TryWritePendingProgress();
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    protected void Await(Task task) => Await(task.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default));

    /// <summary>Ends the nested progress bar of core work (call from the pipeline thread).</summary>
    protected void CompleteProgress()
    {
        if (!progress.Started) return;
        WriteProgress(new ProgressRecord(ProgressId + 1, "Done", "Done") { ParentActivityId = ProgressId, RecordType = ProgressRecordType.Completed });
        WriteProgress(new ProgressRecord(ProgressId, "Done", "Done") { RecordType = ProgressRecordType.Completed });
    }

    private void TryWritePendingProgress()
    {
        if (stopping.IsCancellationRequested) return;
        try
        {
            WritePendingProgress();
        }
        catch (PipelineStoppedException)
        {
            // Stopping began meanwhile: keep waiting for the work, as above.
        }
    }

    private void WritePendingProgress()
    {
        // Only the newest report matters: a slow console must not fall behind a fast loop.
        if (!progress.TryTakeLatest(out var latest)) return;
        if (latest.Child && !parentProgressWritten)
        {
            // A nested record needs its parent on screen: the command itself.
            WriteProgress(new ProgressRecord(ProgressId, MyInvocation.MyCommand.Name, "Working"));
            parentProgressWritten = true;
        }

        WriteProgress(new ProgressRecord(latest.Child ? ProgressId + 1 : ProgressId, latest.Activity, latest.Status)
        {
            ParentActivityId = latest.Child ? ProgressId : -1,
            PercentComplete = latest.PercentComplete,
        });
    }

    /// <summary>The key to use: the parameter, else the session keyring (Set-SemanticKeyring), else the environment.</summary>
    /// <exception cref="SemanticCoreException">InvalidApiKeyFormat: a key with whitespace, control or non-ASCII characters (the message never shows it).</exception>
    internal static ApiKey? ResolveKey(KeyKind kind, SecureString? given)
    {
        try
        {
            return Keyring.FromSecureString(given) ?? Keyring.FromSecureString(SessionKeyring.Get(kind)) ?? Keyring.FromEnvironment(kind);
        }
        catch (ArgumentException ex)
        {
            throw new SemanticCoreException("InvalidApiKeyFormat", FailureKind.InvalidArgument,
                $"The {(kind == KeyKind.Batch ? "batch" : "default")} API key is malformed: it is empty, or contains whitespace, control or non-ASCII characters, so no request was sent.", ex);
        }
    }

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
        foreach (var index in openIndexes.Values)
        {
            // An index this command created and stored nothing in (every file failed) is not left behind.
            if (index.Created && !index.HasDocuments) index.DiscardIfCreated();
            else index.Dispose();
        }

        openIndexes.Clear();
        stopping.Dispose();
    }
}

/// <summary>Keeps the newest progress report of core work, from whichever thread it comes.</summary>
internal sealed class LatestProgress : IProgress<OperationProgress>
{
    private OperationProgress? latest;

    public bool Started { get; private set; }

    public void Report(OperationProgress value)
    {
        Interlocked.Exchange(ref latest, value);
    }

    public bool TryTakeLatest(out OperationProgress value)
    {
        value = Interlocked.Exchange(ref latest, null)!;
        if (value is null) return false;
        Started = true;
        return true;
    }
}
