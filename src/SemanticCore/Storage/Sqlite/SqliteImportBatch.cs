using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// An import's unit of work on SQLite (one commit per batch also spares the keyword index a segment per file to merge).
/// A staging batch keeps new chunks in a temporary table until the commit moves them into <c>chunks</c> in one statement: FTS5 writes its buffered keyword entries to disk at every statement savepoint, so a statement per
/// chunk made a segment per chunk to merge, four times the import's time.
/// </summary>
internal sealed class SqliteImportBatch(SqliteConnection connection, SqliteDocumentStore documents, string databasePath, IndexSettings settings, bool stageNewChunks)
    : ImportBatch(connection, documents, stageNewChunks)
{
    private const string ChunkColumns =
        "document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, retry_count, created_at, updated_at";

    public override long SaveDocument(long? existingId, string path, string title, string contentHash, string chunker, string now)
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
        return LastInsertedId();
    }

    public override void DeleteChunks(IReadOnlyCollection<long> ids, string now)
    {
        if (ids.Count == 0) return;
        var json = JsonSerializer.Serialize(ids);
        Sql.Execute(connection, RemovedFromJobs.Record("c.id IN (SELECT value FROM json_each($ids))"), ("$ids", json), ("$now", now));
        Sql.Execute(connection, "DELETE FROM chunks WHERE id IN (SELECT value FROM json_each($ids))", ("$ids", json));
    }

    public override void MoveChunks(IEnumerable<(long Id, int Ordinal)> moves, string now)
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

    public override void AddChunks(long documentId, IReadOnlyList<ChunkDraft> drafts, IReadOnlyDictionary<string, float[]> vectors, string now)
    {
        if (StagesNewChunks)
        {
            if (vectors.Count > 0) throw new InvalidOperationException("A staging import batch stores new chunks as Pending, without vectors.");
            Sql.Execute(connection, $"CREATE TEMP TABLE IF NOT EXISTS staged_chunks ({ChunkColumns})");
            using var stage = CreateChunkInsert("temp.staged_chunks", documentId, now);
            foreach (var draft in drafts) InsertChunk(stage, draft, EmbeddingStatus.Pending);
            CountStaged(documentId, drafts.Count);
            return;
        }

        using var insert = CreateChunkInsert("main.chunks", documentId, now);
        using var vectorInsert = VectorStore.CreateInsert(connection, settings, now);
        foreach (var draft in drafts)
        {
            vectors.TryGetValue(draft.ContentHash, out var vector);
            InsertChunk(insert, draft, vector is null ? EmbeddingStatus.Pending : EmbeddingStatus.Ready);
            if (vector is not null) VectorStore.Insert(vectorInsert, LastInsertedId(), vector);
        }
    }

    protected override void MoveStaged()
    {
        Sql.Execute(connection, $"INSERT INTO main.chunks ({ChunkColumns}) SELECT {ChunkColumns} FROM temp.staged_chunks ORDER BY rowid");
        Sql.Execute(connection, "DELETE FROM temp.staged_chunks");
    }

    /// <summary>
    /// The rowid the connection's last INSERT made. Used instead of INSERT ... RETURNING, which makes SQLite
    /// keep a statement journal per insert (spilled to a temporary file: a write per document).
    /// </summary>
    private long LastInsertedId() => SQLitePCL.raw.sqlite3_last_insert_rowid(connection.Handle);

    private SqliteCommand CreateChunkInsert(string table, long documentId, string now)
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
        parameters["$metadata"].Value = ChunkMetadata.Of(draft);
        parameters["$hash"].Value = draft.ContentHash;
        parameters["$status"].Value = status.ToString();
        insert.ExecuteNonQuery();
    }

    protected override SemanticCoreException StoreFailed(DbException exception) => SqliteFailures.Map(exception, databasePath, "DatabaseWriteFailed");
}
