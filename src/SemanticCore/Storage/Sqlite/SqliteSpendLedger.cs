using Microsoft.Data.Sqlite;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>The spend ledger in the index's <c>spend</c> table: one row per billed embedding call.</summary>
/// <remarks>
/// Costs are stored as REAL and summed by SQLite; every price is a whole number of billionths of a dollar per token, so
/// a sum rounded to <see cref="CostDecimals"/> places is the exact decimal. Local-provider calls are recorded at cost 0.
/// </remarks>
internal sealed class SqliteSpendLedger(SqliteConnection connection, string databasePath) : ISpendLedger
{
    private const int CostDecimals = 10;

    public void RecordCall(SpendKind kind, IndexSettings settings, long tokens) => Insert(kind, settings, tokens, batchJobId: null);

    /// <summary>
    /// Records what an ending batch job is billed for, at most once per job: the tokens the service reported, else
    /// the job's estimate for the share of its chunks that produced a vector. A job that produced none records nothing.
    /// The caller holds the transaction that ends the job.
    /// </summary>
    public void RecordBatchJob(string jobId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT provider, model, dimensions, token_count, COALESCE(json_extract(stats, '$.estimatedTokens'), 0), succeeded_count, request_count
            FROM batch_jobs WHERE id = $id
            """;
        command.Parameters.AddWithValue("$id", jobId);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return;
        var settings = new IndexSettings(Enum.Parse<EmbeddingProviderKind>(reader.GetString(0)), reader.GetString(1), reader.GetInt32(2));
        var (reported, estimated, succeeded, requests) = (reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
        reader.Close();
        if (succeeded == 0) return;
        Insert(SpendKind.Batch, settings, BatchJobRows.BilledTokens(reported, estimated, succeeded, requests), jobId);
    }

    public IEnumerable<SpendDay> Days(DateTime? since, DateTime? until)
    {
        using var command = connection.CreateCommand();
        // A day's cost is unknown (NULL) when any of its calls had no known price.
        command.CommandText = """
            SELECT substr(at, 1, 10) AS day, kind, COUNT(*), SUM(tokens),
                CASE WHEN COUNT(cost) = COUNT(*) THEN SUM(cost) END,
                CASE WHEN COUNT(interactive_cost) = COUNT(*) THEN SUM(interactive_cost) END
            FROM spend
            WHERE ($since IS NULL OR at >= $since) AND ($until IS NULL OR at <= $until)
            GROUP BY day, kind
            ORDER BY day
            """;
        command.Parameters.AddWithValue("$since", since is { } from ? Timestamps.ToText(from) : DBNull.Value);
        command.Parameters.AddWithValue("$until", until is { } to ? Timestamps.ToText(to) : DBNull.Value);
        using var reader = command.ExecuteReader();
        var days = new List<SpendDay>();
        while (reader.Read())
        {
            days.Add(new SpendDay
            {
                Date = DateTime.SpecifyKind(DateTime.ParseExact(reader.GetString(0), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc),
                Kind = Enum.Parse<SpendKind>(reader.GetString(1)),
                Calls = reader.GetInt64(2),
                Tokens = reader.GetInt64(3),
                Cost = reader.IsDBNull(4) ? null : Math.Round((decimal)reader.GetDouble(4), CostDecimals),
                InteractiveCost = reader.IsDBNull(5) ? null : Math.Round((decimal)reader.GetDouble(5), CostDecimals),
                Database = databasePath,
            });
        }

        return days.OrderBy(d => d.Date).ThenBy(d => d.Kind);
    }

    /// <summary>Inserts a call at its kind's price (a batch job's row only once: batch_job_id is unique).</summary>
    private void Insert(SpendKind kind, IndexSettings settings, long tokens, string? batchJobId) =>
        Sql.Execute(connection, """
            INSERT OR IGNORE INTO spend (at, kind, model, tokens, cost, interactive_cost, batch_job_id)
            VALUES ($at, $kind, $model, $tokens, $cost, $interactive, $job)
            """,
            ("$at", Timestamps.Now()), ("$kind", kind.ToString()), ("$model", settings.Model), ("$tokens", tokens),
            ("$cost", AsReal(Pricing.Cost(settings, tokens, batch: kind == SpendKind.Batch))), ("$interactive", AsReal(Pricing.Cost(settings, tokens, batch: false))),
            ("$job", batchJobId));

    private static double? AsReal(decimal? cost) => cost is { } value ? (double)value : null;
}
