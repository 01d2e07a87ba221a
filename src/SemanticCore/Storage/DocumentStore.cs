using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Embedding;
using SemanticCore.Model;

using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Storage;

/// <summary>A document as stored: enough to tell whether a file changed since its last import.</summary>
internal sealed record StoredDocument(long Id, string ContentHash, string? Chunker);

/// <summary>An existing chunk, keyed by the hash of the exact text it was (or will be) embedded from.</summary>
internal sealed record StoredChunkKey(long Id, string? ContentHash, int Ordinal);

/// <summary>The SQL of documents and their chunks.</summary>
internal static class DocumentStore
{
    public static StoredDocument? FindDocument(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, content_hash, json_extract(metadata, '$.chunker') FROM documents WHERE source_path = $path";
        command.Parameters.AddWithValue("$path", path);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new StoredDocument(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)) : null;
    }

    /// <summary>The ids of the documents whose full path <paramref name="matches"/> (PowerShell wildcards are matched by the caller).</summary>
    public static HashSet<long> MatchingDocumentIds(SqliteConnection connection, Func<string, bool> matches)
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

    public static List<StoredChunkKey> ChunkKeys(SqliteConnection connection, long documentId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, content_hash, ordinal FROM chunks WHERE document_id = $doc ORDER BY ordinal, id";
        command.Parameters.AddWithValue("$doc", documentId);
        using var reader = command.ExecuteReader();
        var keys = new List<StoredChunkKey>();
        while (reader.Read()) keys.Add(new StoredChunkKey(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2)));
        return keys;
    }

    public static (int Chunks, int Pending) Counts(SqliteConnection connection, long documentId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), COALESCE(SUM(embedding_status = 'Pending'), 0) FROM chunks WHERE document_id = $doc";
        command.Parameters.AddWithValue("$doc", documentId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    /// <summary>Stores a document's row: a new one (<paramref name="existingId"/> null) or an update of its own.</summary>
    public static long SaveDocument(SqliteConnection connection, long? existingId, string path, string title, string contentHash, string chunker, string now)
    {
        if (existingId is { } id)
        {
            Sql.Execute(connection, """
                UPDATE documents SET title = $title, content_hash = $hash,
                    metadata = json_set(COALESCE(metadata, '{}'), '$.chunker', $chunker), updated_at = $now
                WHERE id = $id
                """, ("$id", id), ("$title", title), ("$hash", contentHash), ("$chunker", chunker), ("$now", now));
            return id;
        }

        Sql.Execute(connection, """
            INSERT INTO documents (source_path, title, content_hash, metadata, created_at, updated_at)
            VALUES ($path, $title, $hash, json_object('chunker', $chunker), $now, $now)
            """, ("$path", path), ("$title", title), ("$hash", contentHash), ("$chunker", chunker), ("$now", now));
        return LastInsertedId(connection);
    }

    /// <summary>
    /// The rowid the connection's last INSERT made. Used instead of INSERT ... RETURNING, which makes SQLite
    /// keep a statement journal per insert (spilled to a temporary file: a write per document).
    /// </summary>
    private static long LastInsertedId(SqliteConnection connection) => SQLitePCL.raw.sqlite3_last_insert_rowid(connection.Handle);

    /// <summary>Deletes chunks (with their vectors and keyword entries); those an active job holds are recorded as removed from it.</summary>
    public static void DeleteChunks(SqliteConnection connection, IReadOnlyCollection<long> ids, string now)
    {
        if (ids.Count == 0) return;
        var json = JsonSerializer.Serialize(ids);
        Sql.Execute(connection, RemovedFromJobs.Record("c.id IN (SELECT value FROM json_each($ids))"), ("$ids", json), ("$now", now));
        Sql.Execute(connection, "DELETE FROM chunks WHERE id IN (SELECT value FROM json_each($ids))", ("$ids", json));
    }

    public static void MoveChunks(SqliteConnection connection, IEnumerable<(long Id, int Ordinal)> moves, string now)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE chunks SET ordinal = $ordinal, updated_at = $now WHERE id = $id";
        var id = command.Parameters.Add("$id", SqliteType.Integer);
        var ordinal = command.Parameters.Add("$ordinal", SqliteType.Integer);
        command.Parameters.AddWithValue("$now", now);
        foreach (var move in moves)
        {
            id.Value = move.Id;
            ordinal.Value = move.Ordinal;
            command.ExecuteNonQuery();
        }
    }

    private const string ChunkColumns =
        "document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, retry_count, created_at, updated_at";

    /// <summary>Inserts new chunks: Ready with their vector when one is given, else Pending for the next flush.</summary>
    public static void InsertChunks(SqliteConnection connection, long documentId, IEnumerable<ChunkDraft> drafts,
        IReadOnlyDictionary<string, float[]> vectors, IndexSettings settings, string now)
    {
        using var insert = CreateChunkInsert(connection, "main.chunks", documentId, now);
        using var vectorInsert = VectorStore.CreateInsert(connection, settings, now);
        foreach (var draft in drafts)
        {
            vectors.TryGetValue(draft.ContentHash, out var vector);
            InsertChunk(insert, draft, vector is null ? EmbeddingStatus.Pending : EmbeddingStatus.Ready);
            if (vector is not null) VectorStore.Insert(vectorInsert, LastInsertedId(connection), vector);
        }
    }

    /// <summary>
    /// Stages new Pending chunks in a temporary table until <see cref="InsertStagedChunks"/> moves them into
    /// <c>chunks</c> in one statement. FTS5 writes its buffered keyword entries to disk at every statement
    /// savepoint, so a statement per chunk made a segment per chunk to merge: four times the import's time.
    /// </summary>
    public static void StageChunks(SqliteConnection connection, long documentId, IEnumerable<ChunkDraft> drafts, string now)
    {
        Sql.Execute(connection, $"CREATE TEMP TABLE IF NOT EXISTS staged_chunks ({ChunkColumns})");
        using var insert = CreateChunkInsert(connection, "temp.staged_chunks", documentId, now);
        foreach (var draft in drafts) InsertChunk(insert, draft, EmbeddingStatus.Pending);
    }

    /// <summary>Moves the staged chunks into <c>chunks</c>, in the order they were staged; the caller holds the transaction.</summary>
    public static void InsertStagedChunks(SqliteConnection connection)
    {
        Sql.Execute(connection, $"INSERT INTO main.chunks ({ChunkColumns}) SELECT {ChunkColumns} FROM temp.staged_chunks ORDER BY rowid");
        Sql.Execute(connection, "DELETE FROM temp.staged_chunks");
    }

    private static SqliteCommand CreateChunkInsert(SqliteConnection connection, string table, long documentId, string now)
    {
        var insert = connection.CreateCommand();
        insert.CommandText = $"""
            INSERT INTO {table} ({ChunkColumns})
            VALUES ($doc, $ordinal, $content, $type, $language, $metadata, $hash, $status, 0, $now, $now)
            """;
        insert.Parameters.AddWithValue("$doc", documentId);
        insert.Parameters.AddWithValue("$now", now);
        insert.Parameters.Add("$ordinal", SqliteType.Integer);
        foreach (var name in new[] { "$content", "$type", "$language", "$metadata", "$hash", "$status" }) insert.Parameters.Add(name, SqliteType.Text);
        return insert;
    }

    private static void InsertChunk(SqliteCommand insert, ChunkDraft draft, EmbeddingStatus status)
    {
        var parameters = insert.Parameters;
        parameters["$ordinal"].Value = draft.Ordinal;
        parameters["$content"].Value = draft.Content;
        parameters["$type"].Value = draft.Type.ToStorageName();
        parameters["$language"].Value = (object?)draft.Language ?? DBNull.Value;
        parameters["$metadata"].Value = ChunkMetadata(draft);
        parameters["$hash"].Value = draft.ContentHash;
        parameters["$status"].Value = status.ToString();
        insert.ExecuteNonQuery();
    }

    /// <summary>The chunk's metadata JSON; <c>_vector_source</c> is the exact text embedded (and sent to batch jobs).</summary>
    private static string ChunkMetadata(ChunkDraft draft)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_vector_source", draft.VectorSource);
            json.WriteStartArray("breadcrumbs");
            foreach (var crumb in draft.Breadcrumbs) json.WriteStringValue(crumb);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>The SQL of chunk vectors: float32 little-endian BLOBs, with the model and dimension that made them.</summary>
internal static class VectorStore
{
    public static SqliteCommand CreateInsert(SqliteConnection connection, IndexSettings settings, string now)
    {
        var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO chunk_vectors (chunk_id, model, dimensions, vector, created_at)
            VALUES ($chunk, $model, $dimensions, $vector, $now)
            ON CONFLICT (chunk_id) DO UPDATE SET model = excluded.model, dimensions = excluded.dimensions,
                vector = excluded.vector, created_at = excluded.created_at
            """;
        command.Parameters.AddWithValue("$model", settings.Model);
        command.Parameters.AddWithValue("$dimensions", settings.Dimensions);
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.Add("$chunk", SqliteType.Integer);
        command.Parameters.Add("$vector", SqliteType.Blob);
        return command;
    }

    public static void Insert(SqliteCommand command, long chunkId, float[] vector)
    {
        command.Parameters["$chunk"].Value = chunkId;
        var blob = command.Parameters["$vector"];
        // One buffer per command: SQLite copies the bound BLOB, so it can be refilled for the next row.
        if (blob.Value is not byte[] buffer || buffer.Length != vector.Length * sizeof(float)) blob.Value = buffer = new byte[vector.Length * sizeof(float)];
        Vectors.CopyToBlob(vector, buffer);
        command.ExecuteNonQuery();
    }
}
