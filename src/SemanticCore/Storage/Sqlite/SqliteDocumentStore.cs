using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>The documents of an SQLite index.</summary>
internal sealed class SqliteDocumentStore(SqliteConnection connection, string databasePath, IndexSettings settings) : IDocumentStore
{
    public StoredDocument? Find(string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, content_hash, json_extract(metadata, '$.chunker'), title FROM documents WHERE source_path = $path";
        command.Parameters.AddWithValue("$path", path);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new StoredDocument(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? "" : reader.GetString(3))
            : null;
    }

    public IReadOnlyList<StoredChunkKey> ChunkKeys(long documentId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, content_hash, ordinal, embedding_status = 'Pending' FROM chunks WHERE document_id = $doc ORDER BY ordinal, id";
        command.Parameters.AddWithValue("$doc", documentId);
        using var reader = command.ExecuteReader();
        var keys = new List<StoredChunkKey>();
        while (reader.Read()) keys.Add(new StoredChunkKey(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), reader.GetBoolean(3)));
        return keys;
    }

    public (int Chunks, int Pending) Counts(long documentId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(SUM(embedding_status = 'Pending'), 0) FROM chunks WHERE document_id = $doc";
        command.Parameters.AddWithValue("$doc", documentId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    public HashSet<long> MatchingIds(Func<string, bool> matches)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, source_path FROM documents";
        using var reader = command.ExecuteReader();
        var ids = new HashSet<long>();
        while (reader.Read())
        {
            if (matches(reader.GetString(1))) ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    public IEnumerable<SemanticDocument> Find(DocumentFilter filter)
    {
        using var command = connection.CreateCommand();
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
            if (!filter.Keeps(path)) continue;
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
                Database = databasePath,
            };
        }
    }

    public DocumentRemoval? Remove(long documentId)
    {
        try
        {
            return RemoveInTransaction(documentId);
        }
        catch (SqliteException ex)
        {
            throw SqliteFailures.Map(ex, databasePath, "DatabaseWriteFailed");
        }
    }

    private DocumentRemoval? RemoveInTransaction(long documentId)
    {
        using var transaction = connection.BeginTransaction();
        if (Sql.Scalar(connection, "SELECT source_path FROM documents WHERE id = $id", ("$id", documentId)) is not string path) return null;
        var chunks = (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks WHERE document_id = $id", ("$id", documentId))!;
        var released = Sql.Execute(connection, RemovedFromJobs.Record("c.document_id = $id"), ("$id", documentId), ("$now", Timestamps.Now()));
        // Chunks, vectors and keyword entries go with the document (foreign keys and triggers).
        Sql.Execute(connection, "DELETE FROM documents WHERE id = $id", ("$id", documentId));
        transaction.Commit();
        return new DocumentRemoval(documentId, path, chunks, released);
    }

    public IImportBatch BeginImport(bool stageNewChunks) => new SqliteImportBatch(connection, this, databasePath, settings, stageNewChunks);
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
