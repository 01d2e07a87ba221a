using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>The chunks of an SQLite index and their statuses, read streaming: a 100,000-chunk index never sits in memory.</summary>
internal sealed class SqliteChunkStore(SqliteConnection connection, SqliteDocumentStore documents, string databasePath) : IChunkStore
{
    public IEnumerable<Chunk> Find(ChunkFilter filter)
    {
        using var command = connection.CreateCommand();
        if (!TryWhere(filter, command, out var where)) yield break;
        command.CommandText = $"""
            SELECT c.id, d.source_path, c.document_id, c.ordinal, c.chunk_type, c.language, c.embedding_status,
                   c.batch_job_id, c.error_message, c.retry_count, substr(c.content, 1, {ChunkViews.PreviewLength * 2}), c.updated_at
            FROM chunks c LEFT JOIN documents d ON d.id = c.document_id
            {where}
            ORDER BY d.source_path, c.ordinal, c.id
            {(filter.First is { } first ? $"LIMIT {first}" : "")}
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
                UpdatedAt = Timestamps.ParseUtcOrNull(reader.IsDBNull(11) ? null : reader.GetString(11)),
                Database = databasePath,
            };
        }
    }

    public IReadOnlyList<ChunkStatusSummary> Summarize(ChunkFilter filter)
    {
        var counts = new Dictionary<EmbeddingStatus, (long Chunks, long Documents)>();
        long totalDocuments = 0;
        using (var command = connection.CreateCommand())
        {
            if (TryWhere(filter, command, out var where))
            {
                command.CommandText = $"""
                    SELECT c.embedding_status, COUNT(*), COUNT(DISTINCT c.document_id) FROM chunks c {where} GROUP BY c.embedding_status;
                    SELECT COUNT(DISTINCT c.document_id) FROM chunks c {where};
                    """;
                using var reader = command.ExecuteReader();
                while (reader.Read()) counts[Enum.Parse<EmbeddingStatus>(reader.GetString(0))] = (reader.GetInt64(1), reader.GetInt64(2));
                reader.NextResult();
                if (reader.Read()) totalDocuments = reader.GetInt64(0);
            }
        }

        return ChunkViews.Summary(counts, totalDocuments, databasePath);
    }

    public IReadOnlyList<long> Requeue(IReadOnlyCollection<long> ids, bool force)
    {
        var statuses = force ? "'Failed', 'Ready', 'Pending'" : "'Failed'";
        var json = JsonSerializer.Serialize(ids);
        try
        {
            using var transaction = connection.BeginTransaction();
            if (force)
            {
                Sql.Execute(connection, """
                    DELETE FROM chunk_vectors WHERE chunk_id IN
                        (SELECT id FROM chunks WHERE id IN (SELECT value FROM json_each($ids)) AND embedding_status = 'Ready')
                    """, ("$ids", json));
            }

            using var update = connection.CreateCommand();
            update.CommandText = $"""
                UPDATE chunks SET embedding_status = 'Pending', retry_count = 0, error_message = NULL, updated_at = $now
                WHERE id IN (SELECT value FROM json_each($ids)) AND embedding_status IN ({statuses})
                RETURNING id
                """;
            update.Parameters.AddWithValue("$ids", json);
            update.Parameters.AddWithValue("$now", Timestamps.Now());
            var requeued = new List<long>();
            using (var reader = update.ExecuteReader())
            {
                while (reader.Read()) requeued.Add(reader.GetInt64(0));
            }

            transaction.Commit();
            return requeued;
        }
        catch (SqliteException ex)
        {
            throw SqliteFailures.Map(ex, databasePath, "DatabaseWriteFailed");
        }
    }

    /// <summary>Builds the WHERE clause (parameters added to <paramref name="command"/>); false when nothing can match.</summary>
    private bool TryWhere(ChunkFilter filter, SqliteCommand command, out string where)
    {
        var clauses = new List<string>();
        if (filter.Statuses is { Count: > 0 } statuses)
        {
            clauses.Add("c.embedding_status IN (SELECT value FROM json_each($statuses))");
            command.Parameters.AddWithValue("$statuses", JsonSerializer.Serialize(statuses.Select(s => s.ToString())));
        }

        if (filter.BatchJobId is { } job)
        {
            clauses.Add("c.batch_job_id = $job");
            command.Parameters.AddWithValue("$job", job);
        }

        if (filter.Ids is { } ids)
        {
            clauses.Add("c.id IN (SELECT value FROM json_each($ids))");
            command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ids));
        }

        if (filter.DocumentIds is { } documentIds)
        {
            clauses.Add("c.document_id IN (SELECT value FROM json_each($documents))");
            command.Parameters.AddWithValue("$documents", JsonSerializer.Serialize(documentIds));
        }

        if (filter.DocumentPathMatches is { } matches)
        {
            var matching = documents.MatchingIds(matches);
            if (matching.Count == 0)
            {
                where = "";
                return false;
            }

            clauses.Add("c.document_id IN (SELECT value FROM json_each($docs))");
            command.Parameters.AddWithValue("$docs", JsonSerializer.Serialize(matching));
        }

        where = clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);
        return true;
    }
}
