using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// SQLite's failures as the module's documented ErrorIds, each saying what to do: a raw provider exception
/// never reaches the user.
/// </summary>
public static class SqliteFailures
{
    private const int Busy = 5, Locked = 6, ReadOnly = 8, Corrupt = 11, Full = 13, NotADatabase = 26, Permission = 3;

    /// <summary>SQLITE_CANTOPEN: a file could not be created or opened.</summary>
    internal const int CantOpen = 14;

    /// <param name="fallbackId">The ErrorId of any other failure (what the caller was doing: DatabaseWriteFailed, IndexReadFailed...).</param>
    public static SemanticCoreException Map(DbException exception, string databasePath, string fallbackId, FailureKind fallbackKind = FailureKind.ResourceUnavailable)
    {
        var code = exception is SqliteException sqlite ? sqlite.SqliteErrorCode : 0;
        return code switch
        {
            Corrupt or NotADatabase => new SemanticCoreException("IndexCorrupt", FailureKind.InvalidData,
                $"The index '{databasePath}' is damaged ({exception.Message}). Restore it from a backup (Backup-SemanticIndex makes them); Test-SemanticIndex shows what PRAGMA integrity_check finds.", exception),
            Busy or Locked => new SemanticCoreException("IndexLocked", FailureKind.ResourceUnavailable,
                $"The index '{databasePath}' stayed locked by another process for {SemanticIndex.BusyTimeoutInForce.TotalSeconds:0} s. Run the command again when the other import, flush or sync has finished (or stop it).", exception),
            ReadOnly or Permission or CantOpen when !CanWriteBeside(databasePath) => new SemanticCoreException("IndexReadOnly", FailureKind.PermissionDenied,
                $"The index '{databasePath}' can't be written: the file, its folder or the disk is read-only (SQLite writes its journal beside the file). Give your account write access, or copy the index somewhere writable.", exception),
            Full => new SemanticCoreException("DiskFull", FailureKind.ResourceUnavailable,
                $"The disk of the index '{databasePath}' is full ({exception.Message}); nothing of the failed step was kept. Free some space and run the command again.", exception),
            _ => new SemanticCoreException(fallbackId, fallbackKind, $"The index '{databasePath}': {exception.Message}", exception),
        };
    }

    /// <summary>Whether a file could be created beside the index (SQLite's journal and WAL go there).</summary>
    private static bool CanWriteBeside(string databasePath)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(databasePath))!;
            var probe = Path.Combine(folder, $".semanticcore-write-probe-{Guid.NewGuid():N}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return !File.Exists(databasePath) || !new FileInfo(databasePath).IsReadOnly;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
