using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Model;

using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Storage;

/// <summary>Which chunks <c>Get-ChunkStatus</c> returns; every criterion given must hold.</summary>
public sealed record ChunkFilter
{
    public IReadOnlyCollection<EmbeddingStatus>? Statuses { get; init; }
    public string? BatchJobId { get; init; }
    /// <summary>Keeps chunks of the documents whose full path matches (PowerShell wildcards are matched by the caller).</summary>
    public Func<string, bool>? DocumentPathMatches { get; init; }
    public IReadOnlyCollection<long>? DocumentIds { get; init; }
    public IReadOnlyCollection<long>? Ids { get; init; }
    public int? First { get; init; }
}

/// <summary>Reads chunks and their statuses, streaming: a 100,000-chunk index never sits in memory.</summary>
public static class ChunkQueries
{
    private const int PreviewLength = 80;

    public static IEnumerable<Chunk> Find(SemanticIndex index, ChunkFilter filter)
    {
        using var command = index.Connection.CreateCommand();
        if (!TryWhere(index, filter, command, out var where)) yield break;
        command.CommandText = $"""
            SELECT c.id, d.source_path, c.document_id, c.ordinal, c.chunk_type, c.language, c.embedding_status,
                   c.batch_job_id, c.error_message, c.retry_count, substr(c.content, 1, {PreviewLength * 2}), c.updated_at
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
                Preview = Preview(reader.IsDBNull(10) ? "" : reader.GetString(10)),
                UpdatedAt = Timestamps.ParseUtcOrNull(reader.IsDBNull(11) ? null : reader.GetString(11)),
                Database = index.DatabasePath,
            };
        }
    }

    /// <summary>One row per status (all four, zeros included, in lifecycle order) and a Total row.</summary>
    public static IReadOnlyList<ChunkStatusSummary> Summarize(SemanticIndex index, ChunkFilter filter)
    {
        var counts = Enum.GetValues<EmbeddingStatus>().ToDictionary(s => s.ToString(), _ => (Chunks: 0L, Documents: 0L));
        long totalDocuments = 0;
        using (var command = index.Connection.CreateCommand())
        {
            if (TryWhere(index, filter, command, out var where))
            {
                command.CommandText = $"""
                    SELECT c.embedding_status, COUNT(*), COUNT(DISTINCT c.document_id) FROM chunks c {where} GROUP BY c.embedding_status;
                    SELECT COUNT(DISTINCT c.document_id) FROM chunks c {where};
                    """;
                using var reader = command.ExecuteReader();
                while (reader.Read()) counts[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
                reader.NextResult();
                if (reader.Read()) totalDocuments = reader.GetInt64(0);
            }
        }

        var total = counts.Values.Sum(c => c.Chunks);
        var rows = counts.Select(c => new ChunkStatusSummary
        {
            Status = c.Key,
            Chunks = c.Value.Chunks,
            Documents = c.Value.Documents,
            Percent = Percent(c.Value.Chunks, total),
            Database = index.DatabasePath,
        }).ToList();
        rows.Add(new ChunkStatusSummary { Status = ChunkStatusSummary.TotalStatus, Chunks = total, Documents = totalDocuments, Percent = total == 0 ? 0 : 100, Database = index.DatabasePath });
        return rows;
    }

    /// <summary>To one decimal, but never 0.0 or 100.0 when some, but not all, chunks are in the status.</summary>
    private static double Percent(long part, long total) =>
        total == 0 || part == 0 ? 0 : part == total ? 100 : Math.Clamp(Math.Round(100.0 * part / total, 1), 0.1, 99.9);

    /// <summary>Builds the WHERE clause (parameters added to <paramref name="command"/>); false when nothing can match.</summary>
    private static bool TryWhere(SemanticIndex index, ChunkFilter filter, SqliteCommand command, out string where)
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

        if (filter.DocumentIds is { } documents)
        {
            clauses.Add("c.document_id IN (SELECT value FROM json_each($documents))");
            command.Parameters.AddWithValue("$documents", JsonSerializer.Serialize(documents));
        }

        if (filter.DocumentPathMatches is { } matches)
        {
            var documentIds = DocumentStore.MatchingDocumentIds(index.Connection, matches);
            if (documentIds.Count == 0)
            {
                where = "";
                return false;
            }

            clauses.Add("c.document_id IN (SELECT value FROM json_each($docs))");
            command.Parameters.AddWithValue("$docs", JsonSerializer.Serialize(documentIds));
        }

        where = clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses);
        return true;
    }

    private static string Preview(string content)
    {
        var builder = new StringBuilder(PreviewLength + 1);
        var lastWasSpace = true;
        foreach (var c in content)
        {
            if (builder.Length >= PreviewLength) return builder.Append('…').ToString();
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                if (!lastWasSpace) builder.Append(' ');
                lastWasSpace = true;
            }
            else
            {
                builder.Append(c);
                lastWasSpace = false;
            }
        }

        return builder.ToString().TrimEnd();
    }
}

/// <summary>Puts chunks back in the queue for the next flush.</summary>
public static class ChunkRequeue
{
    /// <summary>
    /// Failed chunks among <paramref name="ids"/> (with <paramref name="force"/>: Ready and Pending ones too)
    /// become Pending with RetryCount 0 and no error; a Ready chunk loses its vector, since it is to be
    /// embedded again. Submitted chunks are never touched: a job holds them. Returns the ids requeued.
    /// </summary>
    /// <exception cref="SemanticCoreException">DatabaseWriteFailed: nothing was changed.</exception>
    public static IReadOnlyList<long> Requeue(SemanticIndex index, IReadOnlyCollection<long> ids, bool force)
    {
        var connection = index.Connection;
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
            throw SqliteFailures.Map(ex, index.DatabasePath, "DatabaseWriteFailed");
        }
    }
}
