using System.Management.Automation;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// What the cmdlets that import documents share: the settings of a new index, queued (Async) imports
/// committed in batches with their results written once committed, and forecasts for -WhatIf.
/// </summary>
public abstract class DocumentImportCmdlet : SemanticCmdlet
{
    private readonly Dictionary<SemanticIndex, DocumentImporter> importers = [];

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
            return File.Exists(database)
                ? ImporterFor(OpenIndex(createIfMissing: false)).Forecast(file)
                : DocumentImporter.ForecastForNewIndex(file, database);
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, file));
            return null;
        }
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
