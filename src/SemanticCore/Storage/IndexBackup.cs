using System.Data.Common;
using System.Diagnostics;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>Consistent copies of an index, taken by its store while other processes keep writing.</summary>
public static class IndexBackup
{
    /// <summary>
    /// Copies the index to <paramref name="destination"/>: all of it as of one moment, written to a temporary file
    /// beside the destination and moved into place only when whole.
    /// The destination's missing folders are created, as backup tools do, so a first night's backup folder may not exist yet.
    /// </summary>
    /// <exception cref="SemanticCoreException">BackupDestinationExists (without <paramref name="overwrite"/>), BackupSameFile, BackupFailed.</exception>
    public static BackupResult Create(SemanticIndex index, string destination, bool overwrite)
    {
        if (string.Equals(Path.GetFullPath(destination), Path.GetFullPath(index.DatabasePath), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
        {
            throw new SemanticCoreException("BackupSameFile", FailureKind.InvalidArgument, $"The backup of '{index.DatabasePath}' can't be the index itself.");
        }

        if (Directory.Exists(destination) || (File.Exists(destination) && !overwrite))
        {
            throw new SemanticCoreException("BackupDestinationExists", FailureKind.ResourceExists,
                $"'{destination}' already exists. Give another -Destination, or add -Force to replace a file.");
        }

        if (File.Exists(destination) && !FileKind.IsRegular(destination))
        {
            // Moving the copy into place would replace the device or pipe itself (/dev/null, for root), not write into it.
            throw new SemanticCoreException("BackupDestinationExists", FailureKind.ResourceExists,
                $"'{destination}' is not a regular file (a device, a named pipe or a socket); it is never replaced, even with -Force. Give another -Destination.");
        }

        var clock = Stopwatch.StartNew();
        var folder = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        CreateFolder(folder, destination);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.partial");
        try
        {
            var counts = index.Maintenance.WriteCopy(temporary);
            File.Move(temporary, destination, overwrite);
            return new BackupResult
            {
                Path = Path.GetFullPath(destination),
                Source = index.DatabasePath,
                Bytes = new FileInfo(destination).Length,
                Documents = counts.Documents,
                Chunks = counts.Chunks,
                Vectors = counts.Vectors,
                SchemaVersion = counts.SchemaVersion,
                Duration = clock.Elapsed,
                CreatedAt = DateTime.UtcNow,
            };
        }
        catch (Exception ex) when (ex is DbException or IOException or UnauthorizedAccessException)
        {
            throw new SemanticCoreException("BackupFailed", FailureKind.WriteError, $"Could not back up '{index.DatabasePath}' to '{destination}': {ex.Message}", ex);
        }
        finally
        {
            // Not there when the copy could not even be created (its folder is not writable).
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Creates the backup's folder and any missing folder above it.</summary>
    /// <exception cref="SemanticCoreException">BackupFailed: a file stands where a folder must be, or the folder can't be created.</exception>
    private static void CreateFolder(string folder, string destination)
    {
        if (Directory.Exists(folder)) return;
        for (var above = folder; above is not null; above = Path.GetDirectoryName(above))
        {
            if (File.Exists(above))
            {
                throw new SemanticCoreException("BackupFailed", FailureKind.WriteError,
                    $"Could not back up to '{destination}': '{above}' is a file, not a folder.");
            }

            if (Directory.Exists(above)) break;
        }

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SemanticCoreException("BackupFailed", FailureKind.WriteError, $"Could not create the folder '{folder}' for the backup: {ex.Message}", ex);
        }
    }
}
