using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Bench.Infrastructure;

namespace SemanticCore.Bench.BatchJobs;

/// <summary>What the baseline stored.</summary>
internal sealed record BaselineOutcome(int Vectors, int Errors);

/// <summary>
/// The original Python design's way of applying a batch job's results, rebuilt in C# as the baseline: every line
/// read into memory first (one <see cref="JsonDocument"/> per line, values into float[], errors into a list), then
/// ONE transaction: a prepared <c>INSERT OR REPLACE</c> per vector (stored as parsed, float32 little-endian),
/// <c>UPDATE ... WHERE id IN (...)</c> in groups of 1,000 ids for the Ready chunks and, per error message, for the
/// Failed ones (that design had no retry: every per-line error fails its chunk). The connection is set up as the
/// core sets up its own (WAL, synchronous NORMAL, foreign keys on), so the difference is the method.
/// </summary>
internal static class InMemoryBaselineApplier
{
    private const int IdsPerUpdate = 1_000;

    public static BaselineOutcome Apply(string databasePath, string outputPath, string jobId, string model, int dimensions)
    {
        var vectors = new List<(long Id, float[] Values)>();
        var errors = new List<(long Id, string Message)>();
        foreach (var line in File.ReadLines(outputPath))
        {
            if (line.Length == 0) continue;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var id = long.Parse(root.GetProperty("key").GetString()!, CultureInfo.InvariantCulture);
            if (root.TryGetProperty("error", out var error))
            {
                errors.Add((id, $"{error.GetProperty("code").GetInt32()} {error.GetProperty("status").GetString()}: {error.GetProperty("message").GetString()}"));
                continue;
            }

            var values = root.GetProperty("response").GetProperty("embedding").GetProperty("values");
            var vector = new float[values.GetArrayLength()];
            var i = 0;
            foreach (var value in values.EnumerateArray()) vector[i++] = value.GetSingle();
            vectors.Add((id, vector));
        }

        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            ForeignKeys = true,
        }.ToString());
        connection.Open();
        IndexFile.Execute(connection, "PRAGMA synchronous = NORMAL");

        using var transaction = connection.BeginTransaction();
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT OR REPLACE INTO chunk_vectors (chunk_id, model, dimensions, vector, created_at) VALUES ($id, $model, $dimensions, $vector, $now)";
            var id = insert.Parameters.Add("$id", SqliteType.Integer);
            var blob = insert.Parameters.Add("$vector", SqliteType.Blob);
            insert.Parameters.AddWithValue("$model", model);
            insert.Parameters.AddWithValue("$dimensions", dimensions);
            insert.Parameters.AddWithValue("$now", now);
            insert.Prepare();
            foreach (var (chunkId, values) in vectors)
            {
                id.Value = chunkId;
                blob.Value = MemoryMarshal.AsBytes(values.AsSpan()).ToArray(); // float32; the bench runs on little-endian machines
                insert.ExecuteNonQuery();
            }
        }

        UpdateInGroups(connection, vectors.Select(v => v.Id).ToList(), "embedding_status = 'Ready', error_message = NULL", now, null);
        foreach (var group in errors.GroupBy(e => e.Message))
        {
            UpdateInGroups(connection, group.Select(e => e.Id).ToList(), "embedding_status = 'Failed', error_message = $message", now, group.Key);
        }

        using (var job = connection.CreateCommand())
        {
            job.CommandText = """
                UPDATE batch_jobs SET status = CASE WHEN $failed = 0 THEN 'Completed' ELSE 'CompletedWithErrors' END,
                    succeeded_count = $succeeded, failed_count = $failed, completed_at = $now, updated_at = $now
                WHERE id = $job
                """;
            job.Parameters.AddWithValue("$succeeded", vectors.Count);
            job.Parameters.AddWithValue("$failed", errors.Count);
            job.Parameters.AddWithValue("$now", now);
            job.Parameters.AddWithValue("$job", jobId);
            job.ExecuteNonQuery();
        }

        transaction.Commit();
        return new BaselineOutcome(vectors.Count, errors.Count);
    }

    /// <summary><c>UPDATE chunks SET ... WHERE id IN (?, ?, ...)</c>, <see cref="IdsPerUpdate"/> ids a statement.</summary>
    private static void UpdateInGroups(SqliteConnection connection, List<long> ids, string set, string now, string? message)
    {
        for (var first = 0; first < ids.Count; first += IdsPerUpdate)
        {
            var count = Math.Min(IdsPerUpdate, ids.Count - first);
            using var update = connection.CreateCommand();
            var placeholders = new StringBuilder();
            for (var i = 0; i < count; i++)
            {
                if (i > 0) placeholders.Append(',');
                placeholders.Append("$p").Append(i.ToString(CultureInfo.InvariantCulture));
                update.Parameters.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), ids[first + i]);
            }

            update.CommandText = $"UPDATE chunks SET {set}, updated_at = $now WHERE id IN ({placeholders})";
            update.Parameters.AddWithValue("$now", now);
            if (message is not null) update.Parameters.AddWithValue("$message", message);
            update.ExecuteNonQuery();
        }
    }
}
