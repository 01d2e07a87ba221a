using System.Globalization;
using System.Management.Automation;
using System.Security;
using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// What the cmdlets that import documents share: the settings of a new index, the import mode and its embedder,
/// the -MaxCost cap, queued (Async) imports committed in batches with their results written once committed,
/// and forecasts for -WhatIf.
/// </summary>
public abstract class DocumentImportCmdlet : SemanticCmdlet
{
    private readonly Dictionary<SemanticIndex, DocumentImporter> importers = [];

    /// <summary>Per index: the embedder of Sync mode, or null for Async (Pending).</summary>
    private readonly Dictionary<SemanticIndex, IEmbeddingProvider?> embedders = [];

    private CostCap? cap;

    /// <summary>Files queued and then lost with a commit that failed (each commit failure is reported once).</summary>
    protected int LostInCommits { get; private set; }

    /// <summary>The embedding provider of a new index; on an existing index it must match (or be omitted).</summary>
    [Parameter]
    public EmbeddingProviderKind Provider { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Model { get; set; }

    [Parameter]
    [ValidateRange(16, 8192)]
    public int Dimensions { get; set; }

    /// <summary>The key for Sync mode on a Gemini index. Default: the session keyring, then $env:GEMINI_API_KEY / $env:GOOGLE_API_KEY.</summary>
    [Parameter]
    [SecureKey]
    public SecureString? ApiKey { get; set; }

    /// <summary>
    /// US dollars the command may spend embedding chunks now (Sync mode), estimated at the interactive price over all its
    /// files; the chunks past it stay Pending for a batch job. 0 embeds nothing now.
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public decimal MaxCost { get; set; }

    /// <summary>The -Mode asked for (each cmdlet has its own default).</summary>
    protected abstract ImportMode RequestedMode { get; }

    /// <summary>The command's -MaxCost cap, shared by all its files; null without -MaxCost.</summary>
    private CostCap? Cap => MyInvocation.BoundParameters.ContainsKey(nameof(MaxCost)) ? cap ??= new CostCap(MaxCost) : null;

    protected IndexSettingsRequest SettingsRequest() => new(
        MyInvocation.BoundParameters.ContainsKey(nameof(Provider)) ? Provider : null,
        Model,
        MyInvocation.BoundParameters.ContainsKey(nameof(Dimensions)) ? Dimensions : null);

    /// <summary>The index's importer, made once per index and command.</summary>
    protected DocumentImporter ImporterFor(SemanticIndex index) =>
        importers.TryGetValue(index, out var importer) ? importer : importers[index] = new DocumentImporter(index);

    /// <summary>
    /// What importing the file would do, for -WhatIf; against the index if it exists (it is never created), else
    /// as the first file of a new one. Null after writing the file's error.
    /// </summary>
    protected ImportResult? Forecast(string file)
    {
        try
        {
            var database = ResolveDatabasePath();
            if (IndexExists(database))
            {
                var index = OpenIndex(createIfMissing: false);
                return ImporterFor(index).Forecast(file, ForecastCap(index.Settings));
            }

            var settings = NewIndexSettings(SettingsRequest());
            AnnounceNewIndex(settings);
            return DocumentImporter.ForecastForNewIndex(file, database, settings, ForecastCap(settings));
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, file));
            return null;
        }
    }

    /// <summary>The cap a forecast applies: -MaxCost when the import would embed now (Sync), else none (the mode is only worked out then).</summary>
    private CostCap? ForecastCap(IndexSettings settings) => Cap is { } given && ModeFor(settings) == ImportMode.Sync ? given : null;

    /// <summary>The mode an import into an index of these settings runs in: Auto is Async when a Gemini batch key is there to pay for it, else Sync.</summary>
    private ImportMode ModeFor(IndexSettings settings) =>
        RequestedMode != ImportMode.Auto ? RequestedMode
        : settings.Provider == EmbeddingProviderKind.Gemini && ResolveKey(KeyKind.Batch, null) is not null ? ImportMode.Async
        : ImportMode.Sync;

    /// <summary>The index's embedder in Sync mode, null in Async mode; made once per index. A missing key ends the command.</summary>
    protected IEmbeddingProvider? EmbedderFor(SemanticIndex index)
    {
        if (embedders.TryGetValue(index, out var existing)) return existing;

        IEmbeddingProvider? embedder = null;
        try
        {
            var mode = ModeFor(index.Settings);
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

    /// <summary>Imports the file in its own transaction, embedding its new chunks now (within -MaxCost); false after writing the file's error.</summary>
    protected bool ImportNow(SemanticIndex index, string file, IEmbeddingProvider embedder)
    {
        try
        {
            WriteResult(Await(ImporterFor(index).ImportAsync(file, embedder, Cancellation, Cap)));
            return true;
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, file));
            return false;
        }
    }

    /// <summary>Says, once per command, what -MaxCost held back (or, under -WhatIf, would hold back).</summary>
    protected void WarnAboutHeldChunks()
    {
        if (cap is not { HeldChunks: > 0 } held) return;
        var cost = held.HeldCost is { } known ? "about " + Money.Format(known) : "an unknown cost (the model has no known price)";
        WriteWarning(string.Create(CultureInfo.InvariantCulture,
            $"-MaxCost {held.MaxCost}: {held.HeldChunks} chunk(s) of {held.HeldTokens} estimated tokens ({cost} interactively) " +
            $"{(WhatIfRequested ? "would not be embedded now and would stay" : "were not embedded now and stay")} Pending for a batch job (Invoke-BatchFlush)."));
    }

    /// <summary>
    /// Stores the file's chunks as Pending in the index's shared transaction, committing (and writing results)
    /// when due; false after writing the file's own error.
    /// </summary>
    protected bool Queue(SemanticIndex index, string file)
    {
        var importer = ImporterFor(index);
        var queued = true;
        try
        {
            importer.Queue(file);
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, file));
            queued = false;
        }

        if (importer.CommitDue) LostInCommits += WriteCommitted(index);
        return queued;
    }

    /// <summary>Commits the index's queued files and writes their results; returns how many files a failed commit lost.</summary>
    protected int WriteCommitted(SemanticIndex index)
    {
        if (!importers.TryGetValue(index, out var importer)) return 0;
        var queued = importer.QueuedCount;
        IReadOnlyList<ImportResult> results;
        try
        {
            results = importer.Commit();
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, index.DatabasePath));
            return queued;
        }

        foreach (var result in results) WriteResult(result);
        return 0;
    }

    /// <summary>Commits every index's queued files (at the end of the command); returns how many files failed commits lost.</summary>
    protected int WriteAllCommitted() => importers.Keys.ToList().Sum(WriteCommitted);

    protected virtual void WriteResult(ImportResult result)
    {
        WriteVerbose($"{result.Status}: {result.Path} ({result.Chunks} chunks: {result.Added} added, {result.Kept} kept, {result.Removed} removed, {result.Pending} pending)");
        WriteObject(result);
    }

    protected override void Dispose(bool disposing)
    {
        // Before the indexes close: what was queued and not committed (Ctrl+C, a terminating error) is rolled back.
        if (disposing) foreach (var importer in importers.Values) importer.Dispose();
        base.Dispose(disposing);
    }
}
