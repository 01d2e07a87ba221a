using Npgsql;
using NpgsqlTypes;
using SemanticCore.Model;

namespace SemanticCore.Storage.Postgres;

/// <summary>The chunks of a PostgreSQL index and their statuses, read streaming: a 100,000-chunk index never sits in memory.</summary>
internal sealed class PostgresChunkStore(NpgsqlConnection connection, PostgresDocumentStore documents, string displayName) : IChunkStore
{
    public IEnumerable<Chunk> Find(ChunkFilter filter)
    {
        using var command = new NpgsqlCommand { Connection = connection };
        if (!TryWhere(filter, command, out var where)) yield break;
        if (filter.First is { } first) command.Parameters.AddWithValue("first", first);
        // Byte order of paths and documentless chunks first, as SQLite orders them.
        command.CommandText = $"""
            SELECT c.id, d.source_path, c.document_id, c.ordinal, c.chunk_type, c.language, c.embedding_status,
                   c.batch_job_id, c.error_message, c.retry_count, substr(c.content, 1, {ChunkViews.PreviewLength * 2}), c.updated_at
            FROM chunks c LEFT JOIN documents d ON d.id = c.document_id
            {where}
            ORDER BY d.source_path COLLATE "C" NULLS FIRST, c.ordinal, c.id
            {(filter.First is null ? "" : "LIMIT @first")}
            """;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new Chunk
            {
                Id = reader.GetInt64(0),
                DocumentPath = reader.IsDBNull(1) ? null : reader.GetString(1),
                DocumentId = reader.IsDBNull(2) ? null : reader.GetInt64(2),
                Ordinal = reader.GetInt32(3),
                Type = ChunkTypeNames.FromStorageName(reader.IsDBNull(4) ? null : reader.GetString(4)),
                Language = reader.IsDBNull(5) ? null : reader.GetString(5),
                State = Enum.Parse<EmbeddingStatus>(reader.GetString(6)),
                BatchJobId = reader.IsDBNull(7) ? null : reader.GetString(7),
                ErrorMessage = reader.IsDBNull(8) ? null : reader.GetString(8),
                RetryCount = reader.GetInt32(9),
                Preview = ChunkViews.Preview(reader.IsDBNull(10) ? "" : reader.GetString(10)),
                UpdatedAt = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTime>(11),
                Database = displayName,
            };
        }
    }

    public IReadOnlyList<ChunkStatusSummary> Summarize(ChunkFilter filter)
    {
        var counts = new Dictionary<EmbeddingStatus, (long Chunks, long Documents)>();
        long totalDocuments = 0;
        using (var command = new NpgsqlCommand { Connection = connection })
        {
            if (TryWhere(filter, command, out var where))
            {
                command.CommandText = $"""
                    SELECT c.embedding_status, count(*), count(DISTINCT c.document_id) FROM chunks c {where} GROUP BY c.embedding_status;
                    SELECT count(DISTINCT c.document_id) FROM chunks c {where};
                    """;
                using var reader = command.ExecuteReader();
                while (reader.Read()) counts[Enum.Parse<EmbeddingStatus>(reader.GetString(0))] = (reader.GetInt64(1), reader.GetInt64(2));
                reader.NextResult();
                if (reader.Read()) totalDocuments = reader.GetInt64(0);
            }
        }

        return ChunkViews.Summary(counts, totalDocuments, displayName);
    }

    public IReadOnlyList<long> Requeue(IReadOnlyCollection<long> ids, bool force)
    {
        string[] statuses = force ? ["Failed", "Ready", "Pending"] : ["Failed"];
        try
        {
            using var transaction = connection.BeginTransaction();
            // Locking the rows first: a session requeueing (or a flush claiming) them meanwhile is waited for, and the
            // statuses are read again after it, so a chunk is requeued once and a claimed one never.
            var requeued = new List<long>();
            var ready = new List<long>();
            using (var select = PostgresSql.Command(connection, """
                SELECT id, embedding_status = 'Ready' FROM chunks
                WHERE id = ANY(@ids) AND embedding_status = ANY(@statuses)
                ORDER BY id FOR UPDATE
                """, ("ids", ids.ToArray()), ("statuses", statuses)))
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    requeued.Add(reader.GetInt64(0));
                    if (reader.GetBoolean(1)) ready.Add(reader.GetInt64(0));
                }
            }

            if (ready.Count > 0) PostgresSql.Execute(connection, "DELETE FROM chunk_vectors WHERE chunk_id = ANY(@ids)", ("ids", ready.ToArray()));
            PostgresSql.Execute(connection, """
                UPDATE chunks SET embedding_status = 'Pending', retry_count = 0, error_message = NULL, updated_at = now()
                WHERE id = ANY(@ids)
                """, ("ids", requeued.ToArray()));
            transaction.Commit();
            return requeued;
        }
        catch (NpgsqlException ex)
        {
            throw PostgresFailures.Map(ex, displayName, "DatabaseWriteFailed");
        }
    }

    /// <summary>Builds the WHERE clause (parameters added to <paramref name="command"/>); false when nothing can match.</summary>
    private bool TryWhere(ChunkFilter filter, NpgsqlCommand command, out string where)
    {
        var clauses = new List<string>();
        if (filter.Statuses is { Count: > 0 } statuses)
        {
            clauses.Add("c.embedding_status = ANY(@statuses)");
            command.Parameters.AddWithValue("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, statuses.Select(s => s.ToString()).ToArray());
        }

        if (filter.BatchJobId is { } job)
        {
            clauses.Add("c.batch_job_id = @job");
            command.Parameters.AddWithValue("job", job);
        }

        if (filter.Ids is { } ids)
        {
            clauses.Add("c.id = ANY(@ids)");
            command.Parameters.AddWithValue("ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint, ids.ToArray());
        }

        if (filter.DocumentIds is { } documentIds)
        {
            clauses.Add("c.document_id = ANY(@documents)");
            command.Parameters.AddWithValue("documents", NpgsqlDbType.Array | NpgsqlDbType.Bigint, documentIds.ToArray());
        }

        if (filter.DocumentPathMatches is { } matches)
        {
            var matching = documents.MatchingIds(matches);
            if (matching.Count == 0)
            {
                where = "";
                return false;
            }

            clauses.Add("c.document_id = ANY(@docs)");
            command.Parameters.AddWithValue("docs", NpgsqlDbType.Array | NpgsqlDbType.Bigint, matching.ToArray());
        }

        where = clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);
        return true;
    }
}
