using System.Management.Automation;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>ErrorRecords from core failures: the stable ErrorId, the matching category, the item as target.</summary>
internal static class Errors
{
    /// <summary>What to do about each ErrorId, for ErrorRecord.ErrorDetails.RecommendedAction (the message says what happened).</summary>
    private static readonly Dictionary<string, string> RecommendedActions = new(StringComparer.Ordinal)
    {
        ["DatabaseNotFound"] = "Check -Database and $env:SEMANTICCORE_DATABASE, or create the index with Import-SemanticDocument or Sync-SemanticFolder.",
        ["DatabaseIsDirectory"] = "Give -Database the path of an index file, not a folder.",
        ["DatabaseUnreadable"] = "Give your account read (and, to write, write) access to the file and its folder.",
        ["NotADatabase"] = "Give -Database the path of a SemanticCore index, or of a new file.",
        ["NotASemanticIndex"] = "Give -Database the path of a SemanticCore index, or of a new file.",
        ["SchemaTooNew"] = "Update the SemanticCore.PS module, or use an index (or a backup) that this version can read.",
        ["SchemaUpgradeFailed"] = "The file was left as it was: free disk space or release the lock, then run Update-SemanticSchema.",
        ["DatabaseOpenFailed"] = "Check that the file is not locked by another program and that its folder is writable.",
        ["DatabaseWriteFailed"] = "Run the command again when the other writer has finished, and check the free disk space.",
        ["IndexCorrupt"] = "Restore the index from a backup (see about_SemanticCore.PS, Backup and restore); Test-SemanticIndex on a copy shows the damage.",
        ["IndexLocked"] = "Run the command again when the other import, flush or sync on this index has finished.",
        ["InvalidDatabaseConnection"] = "Give a URI such as 'postgresql://user@host:5432/database?schema=kb', or a connection string such as 'Host=host;Database=database;Username=user;Search Path=kb' (docs/postgres.md).",
        ["DatabaseUnavailable"] = "Check that the PostgreSQL server is running and reachable from this host, then run the command again: nothing of the failed step was kept.",
        ["DatabaseAuthenticationFailed"] = "Check the user name and password: in the connection string, $env:PGPASSWORD or the pgpass file.",
        ["PgvectorMissing"] = "Install pgvector on the server, then have its administrator run 'CREATE EXTENSION vector;' in the database once.",
        ["VectorIndexUnsupported"] = "Omit -VectorIndex: an SQLite index's searches are exact and in memory; an HNSW index is for PostgreSQL indexes of at most 4,000 dimensions.",
        ["InvalidBusyTimeout"] = "Set $env:SEMANTICCORE_BUSY_TIMEOUT to a whole number of seconds from 1 to 86400, or clear it to wait 30 s.",
        ["IndexReadOnly"] = "Give your account write access to the index file and its folder, or copy the index somewhere writable.",
        ["DiskFull"] = "Free some disk space, then run the command again.",
        ["IndexReadFailed"] = "Run Test-SemanticIndex to check the index, then run the command again.",
        ["ApiKeyMissing"] = "Set-SemanticKeyring -ApiKey, or set $env:GEMINI_API_KEY; or import with -Mode Async for a batch job.",
        ["BatchApiKeyMissing"] = "Set-SemanticKeyring -BatchApiKey, or set $env:GEMINI_BATCH_API_KEY.",
        ["InvalidApiKeyFormat"] = "Check the key for spaces or line breaks (Get-SemanticKeyring shows where it comes from), then set it again.",
        ["GeminiInvalidApiKey"] = "Check which key is used with Get-SemanticKeyring, then set a valid one with Set-SemanticKeyring.",
        ["GeminiPermissionDenied"] = "Enable the Gemini API for the key's project, or use a key of a project that has it.",
        ["GeminiDailyQuotaExhausted"] = "Wait for the daily quota to reset, or queue the work for a batch job (-Mode Async).",
        ["GeminiRateLimited"] = "Run the command again later, or queue the work for a batch job (-Mode Async).",
        ["GeminiInvalidTokensPerMinute"] = "Set $env:SEMANTICCORE_GEMINI_TPM to the project's embedding tokens per minute (0: no pacing) and $env:SEMANTICCORE_GEMINI_TPM_WINDOW to seconds, or clear them.",
        ["GeminiUnavailable"] = "Check the network and the service status, then run the command again.",
        ["InvalidPath"] = "Check the path for a mistyped drive or stray characters; relative paths follow the current location.",
        ["NotAFileSystemPath"] = "Give a path on disk, not one of another provider (env:, variable:, HKLM:).",
        ["PathNotFound"] = "Check the path; relative paths follow the current location.",
        ["NoMatchingFiles"] = "Check the wildcard pattern and the current location.",
        ["PathIsDirectory"] = "Import the folder's files: Sync-SemanticFolder <folder>, or Get-ChildItem <folder> -Recurse -File | Import-SemanticDocument.",
        ["PathIsNotDirectory"] = "Give Sync-SemanticFolder a folder; import single files with Import-SemanticDocument.",
        ["EmptyFile"] = "Leave the file out (-Exclude), or give it content.",
        ["BinaryFile"] = "Leave the file out (-Exclude): only Markdown and text files are indexed.",
        ["InvalidUtf8"] = "Save the file as UTF-8, or leave it out (-Exclude).",
        ["UnsupportedFileType"] = "Import Markdown (.md) or text (.txt) files only.",
        ["FileTooLarge"] = "Split the file, or leave it out (-Exclude).",
        ["NotARegularFile"] = "Import files only; leave devices, pipes and sockets out (-Exclude).",
        ["MarkdownTooDeep"] = "Flatten the file's nesting, or leave it out (-Exclude).",
        ["MarkdownTooComplex"] = "Leave the file out (-Exclude), or import it as plain text (a .txt copy), which is not parsed as Markdown.",
        ["IndexSettingsConflict"] = "Leave out -Provider, -Model and -Dimensions to use the index's own settings, or give -Database a new file.",
        ["InvalidModel"] = "Give -Model the name of an embedding model (e.g. gemini-embedding-001), or leave it out for the provider's default.",
        ["InvalidDimensions"] = "Give -Dimensions within the provider's range (Gemini: 128 to 3072), or leave it out for an Onnx model, which makes one size.",
        ["ModelFilesMissing"] = "Reinstall the module SemanticCore.PS.Onnx (./build.ps1 -Task Install in the repository), then run the command again.",
        ["OnnxRuntimeUnavailable"] = "Use the Onnx provider on a platform its module ships ONNX Runtime for (Linux x64 or arm64, macOS arm64, Windows x64), or reinstall SemanticCore.PS.Onnx if it is one of them.",
        ["ProviderNotInstalled"] = "Install the companion module (./build.ps1 -Task Install in the repository installs both; or copy out/SemanticCore.PS.Onnx to a folder on $env:PSModulePath), then run the command again: it is imported when needed.",
        ["InputObjectNotSupported"] = "Pipe the objects the cmdlet's help lists under -InputObject.",
        ["ChunkNotFound"] = "List the index's chunks with Get-ChunkStatus; ids are those of this index (-Database).",
        ["BatchJobNotFound"] = "List the index's jobs with Get-BatchJob; ids are compared exactly.",
        ["BatchJobWaitTimeout"] = "Run Sync-BatchJob again later, or with a longer -Timeout.",
        ["BatchStopFailed"] = "Run Stop-BatchJob again.",
        ["BatchQueueFull"] = "Nothing to do now: the chunks wait as Pending and go as jobs finish (Invoke-BatchFlush -Wait, or the next flush). To send fewer tokens at once, set -QueueTokenLimit to your tier's enqueued-token limit (AI Studio).",
        ["BatchDrainTimeout"] = "Run Invoke-BatchFlush -Wait again (it goes on where this one stopped), or with a longer -Timeout.",
        ["BatchSubmitUncertain"] = "Run Sync-BatchJob or Invoke-BatchFlush: the job is adopted if it exists, or its chunks released.",
        ["BatchSyncFailed"] = "Run Sync-BatchJob again: results already stored are kept.",
        ["BackupDestinationExists"] = "Give another -Destination, or add -Force to replace an existing file (a device or a pipe is never replaced).",
        ["BackupSameFile"] = "Give -Destination another file.",
        ["BackupFailed"] = "Give a -Destination in a folder you can create and write to, on a disk with room for the index, then run Backup-SemanticIndex again.",
        ["CopySameIndex"] = "Give -Destination another index than the one copied.",
        ["CopyDestinationNotEmpty"] = "Give -Destination a new file, a new PostgreSQL schema, or an index that holds no documents, chunks or batch jobs.",
        ["CopyFailed"] = "Nothing was written: check that the destination is writable and has room, then run Copy-SemanticIndex again.",
        ["SearchQueryEmpty"] = "Give a query that has words.",
    };

    public static ErrorRecord From(SemanticCoreException exception, object? target) =>
        WithAction(new(exception, exception.ErrorId, Category(exception.Kind), target), exception.ErrorId);

    /// <summary>As <see cref="From"/>, for a failure met on an index: one that SQLite caused gets the ErrorId of its cause (IndexLocked, DiskFull...).</summary>
    public static ErrorRecord FromIndex(SemanticCoreException exception, string databasePath, object? target) =>
        From(StoreFailures.ByCause(exception, databasePath), target);

    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target, Exception? inner = null) =>
        WithAction(new(new SemanticCoreException(errorId, Kind(category), message, inner), errorId, category, target), errorId);

    private static ErrorRecord WithAction(ErrorRecord record, string errorId)
    {
        if (RecommendedActions.TryGetValue(errorId, out var action))
        {
            record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = action };
        }

        return record;
    }

    private static ErrorCategory Category(FailureKind kind) =>
        Enum.TryParse<ErrorCategory>(kind.ToString(), out var category) ? category : ErrorCategory.NotSpecified;

    private static FailureKind Kind(ErrorCategory category) =>
        Enum.TryParse<FailureKind>(category.ToString(), out var kind) ? kind : FailureKind.InvalidOperation;
}
