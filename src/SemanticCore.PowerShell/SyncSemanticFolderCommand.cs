using System.Management.Automation;
using SemanticCore.Batches;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Makes the index match a folder: imports new and changed files (Pending, or embedded now with -Mode Sync), removes documents whose files are gone.</para>
/// </summary>
[Cmdlet(VerbsData.Sync, "SemanticFolder", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ImportResult), typeof(FolderSyncSummary))]
public sealed class SyncSemanticFolderCommand : DocumentImportCmdlet
{
    /// <summary>The file types imported when -Include is not given: those Import-SemanticDocument reads.</summary>
    private static readonly string[] DefaultInclude = ["*.md", "*.markdown", "*.mdown", "*.mkd", "*.txt", "*.text"];

    private readonly Dictionary<ImportStatus, int> counts = [];
    private long chunksToEmbed;
    private long tokens;
    private int failed;

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>File name patterns to import (default: Markdown and text).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Include { get; set; } = DefaultInclude;

    /// <summary>File name patterns to leave out.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[] Exclude { get; set; } = [];

    /// <summary>Async (the default): store new chunks as Pending for a batch job. Sync: embed now. Auto: Async when a batch key is configured.</summary>
    [Parameter]
    public ImportMode Mode { get; set; } = ImportMode.Async;

    protected override ImportMode RequestedMode => Mode;

    protected override void OnEndProcessing()
    {
        var folder = ResolveFolder();
        var whatIf = WhatIfRequested;
        var database = ResolveDatabasePath();
        // A forecast never creates the index, nor writes to it (not even settings it has not recorded yet).
        var index = whatIf && !IndexExists(database) ? null : OpenIndex(createIfMissing: !whatIf, whatIf ? null : SettingsRequest());
        var files = FilesIn(folder);

        var done = 0;
        foreach (var file in files)
        {
            WriteProgress(new ProgressRecord(ProgressIds.Import, $"Mirroring {folder}", $"{done++} of {files.Count} files") { PercentComplete = 100 * done / Math.Max(1, files.Count), CurrentOperation = file });
            if (whatIf)
            {
                if (Forecast(file) is { } forecast) WriteResult(forecast);
                else failed++;
            }
            else if (ShouldProcess(file, $"Import into the semantic index '{database}'"))
            {
                var imported = EmbedderFor(index!) is { } embedder ? ImportNow(index!, file, embedder) : Queue(index!, file);
                if (!imported) failed++;
            }
        }

        if (index is not null)
        {
            var lost = whatIf ? 0 : WriteAllCommitted() + LostInCommits;
            failed += lost;
            // Only when the imports were stored: a mirror whose commit failed removes nothing.
            if (lost == 0) RemoveGone(index, folder, whatIf);
        }

        WriteProgress(new ProgressRecord(ProgressIds.Import, $"Mirroring {folder}", "Done") { RecordType = ProgressRecordType.Completed });
        WarnAboutHeldChunks();
        var settings = index?.Settings ?? NewIndexSettings(SettingsRequest());
        WriteObject(new FolderSyncSummary
        {
            Path = folder,
            Added = counts.GetValueOrDefault(ImportStatus.Added),
            Updated = counts.GetValueOrDefault(ImportStatus.Updated),
            Removed = counts.GetValueOrDefault(ImportStatus.Removed),
            Unchanged = counts.GetValueOrDefault(ImportStatus.Unchanged),
            Failed = failed,
            ChunksToEmbed = chunksToEmbed,
            EstimatedTokens = tokens,
            BatchCost = Pricing.Cost(settings, tokens, batch: true),
            InteractiveCost = Pricing.Cost(settings, tokens, batch: false),
            Model = settings.Model,
            WhatIf = whatIf,
            Database = database,
            IndexCreated = index is null || index.Created,
        });
    }

    protected override void WriteResult(ImportResult result)
    {
        counts[result.State] = counts.GetValueOrDefault(result.State) + 1;
        chunksToEmbed += result.Added;
        tokens += result.EstimatedTokens;
        base.WriteResult(result);
    }

    /// <summary>Documents under the folder whose files no longer exist: removed (or, under -WhatIf, forecast as Removed).</summary>
    private void RemoveGone(SemanticIndex index, string folder, bool whatIf)
    {
        var prefix = System.IO.Path.TrimEndingDirectorySeparator(folder) + System.IO.Path.DirectorySeparatorChar;
        var gone = index.Documents.Find(new DocumentFilter { PathMatches = p => p.StartsWith(prefix, StringComparison.Ordinal), Missing = true }).ToList();
        foreach (var document in gone)
        {
            if (!whatIf)
            {
                if (!ShouldProcess($"{document.Path} ({document.Chunks} chunks; the file is gone)", "Remove document")) continue;
                try
                {
                    index.Documents.Remove(document.Id);
                }
                catch (SemanticCoreException ex)
                {
                    WriteError(Errors.From(ex, document.Path));
                    failed++;
                    continue;
                }
            }

            WriteResult(new ImportResult
            {
                Id = document.Id,
                Path = document.Path,
                Title = document.Title,
                Removed = (int)document.Chunks,
                State = ImportStatus.Removed,
                WhatIf = whatIf,
                Database = index.DatabasePath,
                IndexCreated = index.Created,
            });
        }
    }

    private string ResolveFolder()
    {
        var folder = FileSystemPath(Path, "-Path");
        if (!Directory.Exists(folder))
        {
            ThrowTerminatingError(Errors.Create(File.Exists(folder) ? "PathIsNotDirectory" : "PathNotFound", ErrorCategory.ObjectNotFound,
                $"'{Path}' is not a folder. Sync-SemanticFolder mirrors a folder; import single files with Import-SemanticDocument.", Path));
        }

        return System.IO.Path.TrimEndingDirectorySeparator(folder);
    }

    /// <summary>The folder's files, recursively and sorted, as Get-ChildItem -Recurse -Include/-Exclude would list them (hidden ones left out).</summary>
    private List<string> FilesIn(string folder)
    {
        var include = Include.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
        var exclude = Exclude.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            // Symbolic links to folders are not followed: a link back up the tree would never end.
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System | FileAttributes.ReparsePoint,
        };
        return Directory.EnumerateFiles(folder, "*", options)
            .Where(f =>
            {
                var name = System.IO.Path.GetFileName(f);
                return include.Any(p => p.IsMatch(name)) && !exclude.Any(p => p.IsMatch(name));
            })
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
