using Npgsql;
using SemanticCore.Model;

namespace SemanticCore.Storage.Postgres;

/// <summary>The documents of a PostgreSQL index.</summary>
internal sealed class PostgresDocumentStore(NpgsqlConnection connection, string displayName, IndexSettings settings) : IDocumentStore
{
    public StoredDocument? Find(string path)
    {
        using var command = PostgresSql.Command(connection, "SELECT id, content_hash, metadata->>'chunker', title FROM documents WHERE source_path = @path", ("path", path));
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new StoredDocument(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? "" : reader.GetString(3))
            : null;
    }

    public IReadOnlyList<StoredChunkKey> ChunkKeys(long documentId)
    {
        using var command = PostgresSql.Command(connection,
            "SELECT id, content_hash, ordinal, embedding_status = 'Pending' FROM chunks WHERE document_id = @doc ORDER BY ordinal, id", ("doc", documentId));
        using var reader = command.ExecuteReader();
        var keys = new List<StoredChunkKey>();
        while (reader.Read()) keys.Add(new StoredChunkKey(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), reader.GetBoolean(3)));
        return keys;
    }

    public (int Chunks, int Pending) Counts(long documentId)
    {
        using var command = PostgresSql.Command(connection,
            "SELECT count(*)::int, (count(*) FILTER (WHERE embedding_status = 'Pending'))::int FROM chunks WHERE document_id = @doc", ("doc", documentId));
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    public HashSet<long> MatchingIds(Func<string, bool> matches)
    {
        using var command = PostgresSql.Command(connection, "SELECT id, source_path FROM documents");
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
        // COLLATE "C": paths in byte order, as SQLite orders them, whatever the database's collation.
        using var command = PostgresSql.Command(connection, """
            SELECT d.id, d.source_path, d.title, d.content_hash, d.created_at, d.updated_at,
                   count(c.id),
                   count(*) FILTER (WHERE c.embedding_status = 'Ready'), count(*) FILTER (WHERE c.embedding_status = 'Pending'),
                   count(*) FILTER (WHERE c.embedding_status = 'Submitted'), count(*) FILTER (WHERE c.embedding_status = 'Failed'),
                   COALESCE(sum(octet_length(c.content)), 0)::bigint
            FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
            WHERE @ids::bigint[] IS NULL OR d.id = ANY(@ids)
            GROUP BY d.id
            ORDER BY d.source_path COLLATE "C"
            """, ("ids", filter.Ids?.ToArray()));
        command.Parameters["ids"].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint;
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
                ImportedAt = reader.GetFieldValue<DateTime>(4),
                UpdatedAt = reader.GetFieldValue<DateTime>(5),
                Chunks = reader.GetInt64(6),
                Ready = reader.GetInt64(7),
                Pending = reader.GetInt64(8),
                Submitted = reader.GetInt64(9),
                Failed = reader.GetInt64(10),
                Bytes = reader.GetInt64(11),
                Database = displayName,
            };
        }
    }

    public DocumentRemoval? Remove(long documentId)
    {
        try
        {
            return RemoveInTransaction(documentId);
        }
        catch (NpgsqlException ex)
        {
            throw PostgresFailures.Map(ex, displayName, "DatabaseWriteFailed");
        }
    }

    private DocumentRemoval? RemoveInTransaction(long documentId)
    {
        using var transaction = connection.BeginTransaction();
        // The row lock makes a second session removing it at the same time wait, then find it gone.
        if (PostgresSql.Scalar(connection, "SELECT source_path FROM documents WHERE id = @id FOR UPDATE", ("id", documentId)) is not string path) return null;
        var chunks = (long)PostgresSql.Scalar(connection, "SELECT count(*) FROM chunks WHERE document_id = @id", ("id", documentId))!;
        var released = PostgresSql.Execute(connection, PostgresRemovedFromJobs.Record("c.document_id = @id"), ("id", documentId), ("now", DateTimeOffset.UtcNow));
        // Chunks, vectors and keyword entries go with the document (foreign keys; the keyword entry is a column of the chunk).
        PostgresSql.Execute(connection, "DELETE FROM documents WHERE id = @id", ("id", documentId));
        transaction.Commit();
        return new DocumentRemoval(documentId, path, chunks, released);
    }

    public IImportBatch BeginImport(bool stageNewChunks) => new PostgresImportBatch(connection, this, displayName, settings, stageNewChunks);
}

/// <summary>Chunks removed while an active job holds them are recorded, so the job's sync counts them as removed, not unknown.</summary>
internal static class PostgresRemovedFromJobs
{
    /// <summary>The INSERT that records the chunks matching <paramref name="where"/> (over chunks <c>c</c>; parameter <c>@now</c>).</summary>
    public static string Record(string where) => $"""
        INSERT INTO batch_job_removed_chunks (batch_job_id, chunk_id, removed_at)
        SELECT c.batch_job_id, c.id, @now FROM chunks c JOIN batch_jobs j ON j.id = c.batch_job_id
        WHERE {where} AND c.embedding_status = 'Submitted' AND j.status IN ('Created', 'Submitted', 'Running')
        ON CONFLICT DO NOTHING
        """;
}
