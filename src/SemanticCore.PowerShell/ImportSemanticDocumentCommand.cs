using System.Management.Automation;
using System.Security;
using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Adds Markdown and text documents to a semantic index, or updates them incrementally.</para>
/// </summary>
[Cmdlet(VerbsData.Import, "SemanticDocument", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(ImportResult))]
public sealed class ImportSemanticDocumentCommand : DocumentImportCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>Per index: the embedder of Sync mode, or null for Async (Pending).</summary>
    private readonly Dictionary<SemanticIndex, IEmbeddingProvider?> embedders = [];
    private int processed;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Async: store chunks as Pending for a batch job. Sync: embed now. Auto: Async when a batch key is configured.</summary>
    [Parameter]
    public ImportMode Mode { get; set; } = ImportMode.Auto;

    /// <summary>The key for Sync mode on a Gemini index. Default: the session keyring, then $env:GEMINI_API_KEY / $env:GOOGLE_API_KEY.</summary>
    [Parameter]
    [SecureKey]
    public SecureString? ApiKey { get; set; }

    protected override void OnProcessRecord()
    {
        var literal = ParameterSetName == LiteralPathSet;
        foreach (var given in literal ? LiteralPath : Path)
        {
            foreach (var file in ResolveFiles(given, literal))
            {
                Import(file);
            }
        }
    }

    protected override void OnEndProcessing()
    {
        WriteAllCommitted();
        if (processed > 0)
        {
            WriteProgress(new ProgressRecord(ProgressIds.Import, "Importing documents", "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    private void Import(string file)
    {
        if (WhatIfRequested)
        {
            // The forecast, per file, instead of a generic "What if" line: what the import would do and cost.
            if (Forecast(file) is { } forecast) WriteObject(forecast);
            return;
        }

        var database = ResolveDatabasePath();
        if (!ShouldProcess(file, $"Import into the semantic index '{database}'")) return;

        var index = OpenIndex(createIfMissing: true, SettingsRequest());
        var embedder = EmbedderFor(index);
        processed++;
        WriteProgress(new ProgressRecord(ProgressIds.Import, "Importing documents", $"{processed} imported")
        {
            CurrentOperation = file,
        });

        try
        {
            if (embedder is null)
            {
                // Async: many files share a transaction; their results are written once it is committed.
                Queue(index, file);
            }
            else
            {
                WriteResult(Await(ImporterFor(index).ImportAsync(file, embedder, Cancellation)));
            }
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, file));
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    private IEmbeddingProvider? EmbedderFor(SemanticIndex index)
    {
        if (embedders.TryGetValue(index, out var existing)) return existing;

        IEmbeddingProvider? embedder = null;
        try
        {
            // Auto: batch (half price) when a Gemini batch key is there to pay for it; otherwise embed now.
            var mode = Mode != ImportMode.Auto ? Mode
                : index.Settings.Provider == EmbeddingProviderKind.Gemini && ResolveKey(KeyKind.Batch, null) is not null ? ImportMode.Async
                : ImportMode.Sync;
            WriteVerbose($"Index '{index.DatabasePath}': {index.Settings}; mode {mode}.");
            if (mode == ImportMode.Sync) embedder = EmbeddingProviders.CreateInteractive(index.Settings, ResolveKey(KeyKind.Default, ApiKey), Progress);
        }
        catch (SemanticCoreException ex)
        {
            // Nothing was imported: an index this command just created is not left behind.
            index.DiscardIfCreated();
            ThrowTerminatingError(Errors.From(ex, index.DatabasePath));
        }

        return embedders[index] = embedder;
    }

    /// <summary>Resolves a -Path (wildcards) or -LiteralPath to files, like Get-FileHash; what cannot be resolved is a per-item error.</summary>
    private IEnumerable<string> ResolveFiles(string given, bool literal)
    {
        List<string> files = [];
        var fromWildcard = !literal && WildcardPattern.ContainsWildcardCharacters(given);
        try
        {
            if (literal)
            {
                files.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(given));
            }
            else
            {
                files.AddRange(SessionState.Path.GetResolvedProviderPathFromPSPath(given, out var provider));
                if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                {
                    WriteError(Errors.Create("NotAFileSystemPath", ErrorCategory.InvalidArgument,
                        $"'{given}' is not a file system path (provider {provider.Name}).", given));
                    return [];
                }
            }
        }
        catch (ItemNotFoundException)
        {
            files.Clear();
        }
        catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSArgumentException or NotSupportedException)
        {
            WriteError(Errors.Create("InvalidPath", ErrorCategory.InvalidArgument, ex.Message, given, ex));
            return [];
        }

        if (files.Count == 0 || (literal && !File.Exists(files[0]) && !Directory.Exists(files[0])))
        {
            WriteError(fromWildcard
                ? Errors.Create("NoMatchingFiles", ErrorCategory.ObjectNotFound, $"No files match '{given}'.", given)
                : Errors.Create("PathNotFound", ErrorCategory.ObjectNotFound, $"Cannot find the file '{given}' because it does not exist.", given));
            return [];
        }

        var result = new List<string>();
        if (fromWildcard && files.All(Directory.Exists))
        {
            WriteError(Errors.Create("NoMatchingFiles", ErrorCategory.ObjectNotFound, $"No files match '{given}' (only directories do).", given));
            return result;
        }

        foreach (var file in files)
        {
            if (!Directory.Exists(file))
            {
                result.Add(file);
            }
            else if (!fromWildcard)
            {
                // Directories that a wildcard matched are skipped quietly; one named on its own is a mistake worth saying.
                WriteError(Errors.Create("PathIsDirectory", ErrorCategory.InvalidArgument,
                    $"'{file}' is a directory. Import its files with -Path '{System.IO.Path.Combine(file, "*.md")}' or pipe them in: Get-ChildItem '{file}' -Recurse -Include *.md | Import-SemanticDocument.", file));
            }
        }

        return result;
    }
}
