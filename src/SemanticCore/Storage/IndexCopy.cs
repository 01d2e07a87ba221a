using System.Data.Common;
using System.Diagnostics;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>
/// Copies an index, as of one moment while others keep writing, into an empty index of either engine: every row with its
/// id, status and vector, so nothing becomes Pending and nothing is embedded or paid for again.
/// </summary>
public static class IndexCopy
{
    /// <summary>How many rows are copied between two progress reports.</summary>
    private const int ProgressStep = 1_000;

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> (a file path or a PostgreSQL connection), created
    /// when missing, in one transaction: a failure leaves it as it was, and an index this copy created is removed again.
    /// </summary>
    /// <param name="progress">Called with the rows copied so far and the rows to copy in all.</param>
    /// <exception cref="SemanticCoreException">CopySameIndex, CopyDestinationNotEmpty, CopyFailed, and the destination's opening failures.</exception>
    public static CopyResult Run(SemanticIndex source, string destination, Action<long, long>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var (name, counts, _) = CopyInto(source.Maintenance, source.Settings, source.DatabasePath, destination, progress);
        return new CopyResult
        {
            Source = source.DatabasePath,
            Destination = name,
            Documents = counts.Documents,
            Chunks = counts.Chunks,
            Vectors = counts.Vectors,
            Jobs = counts.Jobs,
            Duration = clock.Elapsed,
        };
    }

    /// <summary>How many rows of each table a copy of <paramref name="source"/> would write now (<c>-WhatIf</c>).</summary>
    public static IndexRowCounts CountRows(SemanticIndex source)
    {
        using var snapshot = source.Maintenance.ReadSnapshot();
        return snapshot.Count();
    }

    /// <summary>As <see cref="Run"/>, from an engine's own reads: the destination's name, what was copied, and its schema version.</summary>
    internal static (string Name, IndexRowCounts Counts, int SchemaVersion) CopyInto(IIndexMaintenance source, IndexSettings settings, string sourceName,
        string destination, Action<long, long>? progress)
    {
        var target = SemanticIndex.Open(destination, createIfMissing: true, new IndexSettingsRequest(settings.Provider, settings.Model, settings.Dimensions) { Verbatim = true });
        try
        {
            if (string.Equals(target.DatabasePath, sourceName, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            {
                throw new SemanticCoreException("CopySameIndex", FailureKind.InvalidArgument, $"'{sourceName}' can't be copied into itself. Give another -Destination.");
            }

            var counts = Copy(source, target.Maintenance, sourceName, target.DatabasePath, progress);
            var result = (target.DatabasePath, counts, target.Migration.ToVersion);
            target.Dispose();
            return result;
        }
        catch
        {
            target.DiscardIfCreated();
            throw;
        }
    }

    private static IndexRowCounts Copy(IIndexMaintenance source, IIndexMaintenance destination, string sourceName, string destinationName,
        Action<long, long>? progress)
    {
        try
        {
            using var snapshot = source.ReadSnapshot();
            var counts = snapshot.Count();
            using var writer = destination.BeginBulkWrite();
            if (!writer.IsEmpty())
            {
                throw new SemanticCoreException("CopyDestinationNotEmpty", FailureKind.ResourceExists,
                    $"'{destinationName}' already holds documents, chunks or batch jobs; a copy goes only into a new or empty index. Nothing was written.");
            }

            var copied = 0L;
            IEnumerable<T> Counted<T>(IEnumerable<T> rows)
            {
                foreach (var row in rows)
                {
                    yield return row;
                    if (++copied % ProgressStep == 0) progress?.Invoke(copied, counts.Total);
                }

                progress?.Invoke(copied, counts.Total);
            }

            var rows = snapshot.Rows();
            writer.Write(new IndexRows(Counted(rows.Settings), Counted(rows.Documents), Counted(rows.Jobs), Counted(rows.Chunks), Counted(rows.Vectors),
                Counted(rows.RemovedChunks), Counted(rows.FormerChunks), Counted(rows.Spend)));
            writer.Commit();
            return counts;
        }
        catch (DbException ex)
        {
            throw new SemanticCoreException("CopyFailed", FailureKind.WriteError,
                $"Could not copy '{sourceName}' to '{destinationName}'; nothing was written: {ex.Message}", ex);
        }
    }
}
