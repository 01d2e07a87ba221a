using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Model;

using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Storage;

/// <summary>Which documents <c>Get-SemanticDocument</c> returns; every criterion given must hold.</summary>
public sealed record DocumentFilter
{
    /// <summary>Keeps documents whose full path matches (PowerShell wildcards are matched by the caller).</summary>
    public Func<string, bool>? PathMatches { get; init; }
    public IReadOnlyCollection<long>? Ids { get; init; }
    /// <summary>Keeps documents whose source file no longer exists.</summary>
    public bool Missing { get; init; }
}

/// <summary>Chunks removed while an active job holds them are recorded, so the job's sync counts them as removed, not unknown.</summary>
internal static class RemovedFromJobs
{
    /// <summary>The INSERT that records the chunks matching <paramref name="where"/> (over chunks <c>c</c>; parameter <c>$now</c>).</summary>
    public static string Record(string where) => $"""
        INSERT OR IGNORE INTO batch_job_removed_chunks (batch_job_id, chunk_id, removed_at)
        SELECT c.batch_job_id, c.id, $now FROM chunks c JOIN batch_jobs j ON j.id = c.batch_job_id
        WHERE {where} AND c.embedding_status = 'Submitted' AND j.status IN ('Created', 'Submitted', 'Running')
        """;
}

/// <summary>Reads and removes documents.</summary>
public static class DocumentQueries
{
    public static IEnumerable<SemanticDocument> Find(SemanticIndex index, DocumentFilter filter)
    {
        using var command = index.Connection.CreateCommand();
        var where = "";
        if (filter.Ids is { } ids)
        {
            where = "WHERE d.id IN (SELECT value FROM json_each($ids))";
            command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids));
        }

        command.CommandText = $"""
            SELECT d.id, d.source_path, d.title, d.content_hash, d.created_at, d.updated_at,
                   COUNT(c.id),
                   COALESCE(SUM(c.embedding_status = 'Ready'), 0), COALESCE(SUM(c.embedding_status = 'Pending'), 0),
                   COALESCE(SUM(c.embedding_status = 'Submitted'), 0), COALESCE(SUM(c.embedding_status = 'Failed'), 0),
                   COALESCE(SUM(length(CAST(c.content AS BLOB))), 0)
            FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
            {where}
            GROUP BY d.id
            ORDER BY d.source_path
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var path = reader.GetString(1);
            if (filter.PathMatches is { } matches && !matches(path)) continue;
            if (filter.Missing && !SourceIsGone(path)) continue;
            yield return new SemanticDocument
            {
                Id = reader.GetInt64(0),
                Path = path,
                Title = reader.IsDBNull(2) ? "" : reader.GetString(2),
                ContentHash = reader.GetString(3),
                ImportedAt = Timestamps.ParseUtc(reader.IsDBNull(4) ? null : reader.GetString(4)),
                UpdatedAt = Timestamps.ParseUtc(reader.IsDBNull(5) ? null : reader.GetString(5)),
                Chunks = reader.GetInt64(6),
                Ready = reader.GetInt64(7),
                Pending = reader.GetInt64(8),
                Submitted = reader.GetInt64(9),
                Failed = reader.GetInt64(10),
                Bytes = reader.GetInt64(11),
                Database = index.DatabasePath,
            };
        }
    }

    /// <summary>
    /// Gone, not merely out of sight: the nearest folder above it that exists can be listed, and its listing
    /// lacks the next step down. A file behind a folder this account can't read is not gone (its document
    /// and paid vectors must not be removed because of a permission change).
    /// </summary>
    private static bool SourceIsGone(string path)
    {
        if (File.Exists(path)) return false;
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        try
        {
            var child = path;
            for (var folder = Path.GetDirectoryName(path); folder is not null; child = folder, folder = Path.GetDirectoryName(folder))
            {
                if (!Directory.Exists(folder)) continue;
                var name = Path.GetFileName(child);
                return !Directory.EnumerateFileSystemEntries(folder).Any(entry => string.Equals(Path.GetFileName(entry), name, comparison));
            }

            return true;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Removes a document with its chunks, their vectors and keyword entries (in one transaction). Chunks an
    /// active batch job holds are recorded as removed from it first, so its sync counts them as removed.
    /// Null when there is no such document.
    /// </summary>
    /// <exception cref="SemanticCoreException">DatabaseWriteFailed: nothing was removed.</exception>
    public static DocumentRemoval? Remove(SemanticIndex index, long documentId)
    {
        try
        {
            return RemoveInTransaction(index, documentId);
        }
        catch (SqliteException ex)
        {
            throw SqliteFailures.Map(ex, index.DatabasePath, "DatabaseWriteFailed");
        }
    }

    private static DocumentRemoval? RemoveInTransaction(SemanticIndex index, long documentId)
    {
        var connection = index.Connection;
        using var transaction = connection.BeginTransaction();
        if (Sql.Scalar(connection, "SELECT source_path FROM documents WHERE id = $id", ("$id", documentId)) is not string path) return null;
        var chunks = (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks WHERE document_id = $id", ("$id", documentId))!;
        var released = Sql.Execute(connection, RemovedFromJobs.Record("c.document_id = $id"), ("$id", documentId), ("$now", Timestamps.Now()));
        // Chunks, vectors and keyword entries go with the document (foreign keys and triggers).
        Sql.Execute(connection, "DELETE FROM documents WHERE id = $id", ("$id", documentId));
        transaction.Commit();
        return new DocumentRemoval(documentId, path, chunks, released);
    }
}
