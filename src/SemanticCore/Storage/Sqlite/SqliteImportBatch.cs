using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// An import's unit of work on SQLite: one transaction (begun at the first write) over many documents, each under its
/// own savepoint. A commit per small file would cost more than the file (and leave the keyword index a segment per file
/// to merge). A staging batch keeps new chunks in a temporary table until the commit moves them into <c>chunks</c> in
/// one statement: FTS5 writes its buffered keyword entries to disk at every statement savepoint, so a statement per
/// chunk made a segment per chunk to merge, four times the import's time.
/// </summary>
internal sealed class SqliteImportBatch(SqliteConnection connection, SqliteDocumentStore documents, string databasePath, IndexSettings settings, bool stageNewChunks)
    : IImportBatch, IDocumentWriter
{
    private const string ChunkColumns =
        "document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, retry_count, created_at, updated_at";

    /// <summary>The paths whose new chunks are staged and not in <c>chunks</c> yet.</summary>
    private readonly HashSet<string> staged = new(StringComparer.Ordinal);
    /// <summary>How many chunks each document has staged, so that reads count them.</summary>
    private readonly Dictionary<long, int> stagedChunks = [];
    /// <summary>What the document being written staged, undone from <see cref="stagedChunks"/> if its write rolls back.</summary>
    private readonly List<(long DocumentId, int Count)> stagedByWrite = [];
    private SqliteTransaction? transaction;

    public T Read<T>(string path, Func<IImportReads, T> read)
    {
        try
        {
            // The same file twice in one batch: its first chunks must be in place to be compared with.
            if (staged.Contains(path)) InsertStaged();
            return read(this);
        }
        catch (SqliteException ex)
        {
            throw WriteFailed(path, ex);
        }
    }

    public T Write<T>(string path, Func<IDocumentWriter, T> write)
    {
        const string savepoint = "document";
        try
        {
            if (staged.Contains(path)) InsertStaged();
            transaction ??= connection.BeginTransaction();
            transaction.Save(savepoint);
        }
        catch (SqliteException ex)
        {
            throw WriteFailed(path, ex);
        }

        try
        {
            stagedByWrite.Clear();
            var result = write(this);
            transaction.Release(savepoint);
            if (stageNewChunks) staged.Add(path);
            return result;
        }
        catch (Exception ex)
        {
            foreach (var (documentId, count) in stagedByWrite) stagedChunks[documentId] -= count;
            try
            {
                transaction.Rollback(savepoint);
                transaction.Release(savepoint);
            }
            catch (SqliteException)
            {
                // The transaction itself is gone (SQLite rolled it back): the batch's documents are lost with it, and Commit says so.
            }

            if (ex is SqliteException sqlite) throw WriteFailed(path, sqlite);
            throw;
        }
    }

    public void Commit()
    {
        var committing = transaction;
        transaction = null;
        if (committing is null) return;
        using (committing)
        {
            try
            {
                InsertStaged();
                committing.Commit();
            }
            catch (SqliteException ex)
            {
                throw SqliteFailures.Map(ex, databasePath, "DatabaseWriteFailed");
            }
            finally
            {
                // Committed or rolled back, the staged rows are gone with the transaction.
                staged.Clear();
                stagedChunks.Clear();
            }
        }
    }

    /// <summary>Rolls back what was written and not committed.</summary>
    public void Dispose()
    {
        staged.Clear();
        stagedChunks.Clear();
        transaction?.Dispose();
        transaction = null;
    }

    public StoredDocument? Find(string path) => documents.Find(path);

    public IReadOnlyList<StoredChunkKey> ChunkKeys(long documentId) => documents.ChunkKeys(documentId);

    public (int Chunks, int Pending) Counts(long documentId)
    {
        var (chunks, pending) = documents.Counts(documentId);
        var waiting = stagedChunks.GetValueOrDefault(documentId);
        return (chunks + waiting, pending + waiting);
    }

    public long SaveDocument(long? existingId, string path, string title, string contentHash, string chunker, string now)
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

    public void DeleteChunks(IReadOnlyCollection<long> ids, string now)
    {
        if (ids.Count == 0) return;
        var json = JsonSerializer.Serialize(ids);
        Sql.Execute(connection, RemovedFromJobs.Record("c.id IN (SELECT value FROM json_each($ids))"), ("$ids", json), ("$now", now));
        Sql.Execute(connection, "DELETE FROM chunks WHERE id IN (SELECT value FROM json_each($ids))", ("$ids", json));
    }

    public void MoveChunks(IEnumerable<(long Id, int Ordinal)> moves, string now)
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

    public void AddChunks(long documentId, IReadOnlyList<ChunkDraft> drafts, IReadOnlyDictionary<string, float[]> vectors, string now)
    {
        if (stageNewChunks)
        {
            if (vectors.Count > 0) throw new InvalidOperationException("A staging import batch stores new chunks as Pending, without vectors.");
            Sql.Execute(connection, $"CREATE TEMP TABLE IF NOT EXISTS staged_chunks ({ChunkColumns})");
            using var stage = CreateChunkInsert("temp.staged_chunks", documentId, now);
            foreach (var draft in drafts) InsertChunk(stage, draft, EmbeddingStatus.Pending);
            stagedChunks[documentId] = stagedChunks.GetValueOrDefault(documentId) + drafts.Count;
            stagedByWrite.Add((documentId, drafts.Count));
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

    /// <summary>Moves the staged chunks into <c>chunks</c>, in the order they were staged.</summary>
    private void InsertStaged()
    {
        if (staged.Count == 0) return;
        Sql.Execute(connection, $"INSERT INTO main.chunks ({ChunkColumns}) SELECT {ChunkColumns} FROM temp.staged_chunks ORDER BY rowid");
        Sql.Execute(connection, "DELETE FROM temp.staged_chunks");
        staged.Clear();
        stagedChunks.Clear();
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

    private SemanticCoreException WriteFailed(string path, SqliteException ex)
    {
        // Locked past the busy timeout, disk full, damaged, read-only: this document is not imported (its changes rolled back).
        var mapped = SqliteFailures.Map(ex, databasePath, "DatabaseWriteFailed");
        return new SemanticCoreException(mapped.ErrorId, mapped.Kind, $"Could not store '{path}': {mapped.Message}", ex);
    }
}
