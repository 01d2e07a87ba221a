using Npgsql;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.Storage.Postgres;

/// <summary>The spend ledger in the index's <c>spend</c> table: one row per billed embedding call.</summary>
/// <remarks>
/// Costs are double precision, summed by PostgreSQL; every price is a whole number of billionths of a dollar per token, so
/// a sum rounded to <see cref="CostDecimals"/> places is the exact decimal. Local-provider calls are recorded at cost 0.
/// </remarks>
internal sealed class PostgresSpendLedger(NpgsqlConnection connection, string displayName) : ISpendLedger
{
    private const int CostDecimals = 10;

    public void RecordCall(SpendKind kind, IndexSettings settings, long tokens) =>
        PostgresSql.Write(displayName, () => Insert(kind, settings, tokens, batchJobId: null));

    /// <summary>
    /// Records what an ending batch job is billed for, at most once per job: the tokens the service reported, else
    /// the job's estimate for the share of its chunks that produced a vector. A job that produced none records nothing.
    /// The caller holds the transaction that ends the job.
    /// </summary>
    public void RecordBatchJob(string jobId)
    {
        using var command = PostgresSql.Command(connection, """
            SELECT provider, model, dimensions, token_count, COALESCE((stats->>'estimatedTokens')::bigint, 0), succeeded_count::bigint, request_count::bigint
            FROM batch_jobs WHERE id = @id
            """, ("id", jobId));
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
        // A day's cost is unknown (NULL) when any of its calls had no known price.
        using var command = PostgresSql.Command(connection, """
            SELECT (at AT TIME ZONE 'UTC')::date AS day, kind, count(*), sum(tokens)::bigint,
                CASE WHEN count(cost) = count(*) THEN sum(cost) END,
                CASE WHEN count(interactive_cost) = count(*) THEN sum(interactive_cost) END
            FROM spend
            WHERE (@since::timestamptz IS NULL OR at >= @since) AND (@until::timestamptz IS NULL OR at <= @until)
            GROUP BY day, kind
            ORDER BY day
            """, ("since", AsUtc(since)), ("until", AsUtc(until)));
        using var reader = command.ExecuteReader();
        var days = new List<SpendDay>();
        while (reader.Read())
        {
            days.Add(new SpendDay
            {
                Date = DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc),
                Kind = Enum.Parse<SpendKind>(reader.GetString(1)),
                Calls = reader.GetInt64(2),
                Tokens = reader.GetInt64(3),
                Cost = reader.IsDBNull(4) ? null : Math.Round((decimal)reader.GetDouble(4), CostDecimals),
                InteractiveCost = reader.IsDBNull(5) ? null : Math.Round((decimal)reader.GetDouble(5), CostDecimals),
                Database = displayName,
            });
        }

        return days.OrderBy(d => d.Date).ThenBy(d => d.Kind);
    }

    /// <summary>A bound as the instant it names (a date of unspecified kind is local time, as the SQLite ledger reads it).</summary>
    private static DateTimeOffset? AsUtc(DateTime? value) => value is { } at ? new DateTimeOffset(at).ToUniversalTime() : null;

    /// <summary>Inserts a call at its kind's price (a batch job's row only once: batch_job_id is unique).</summary>
    private void Insert(SpendKind kind, IndexSettings settings, long tokens, string? batchJobId) =>
        PostgresSql.Execute(connection, """
            INSERT INTO spend (at, kind, model, tokens, cost, interactive_cost, batch_job_id)
            VALUES (now(), @kind, @model, @tokens, @cost, @interactive, @job)
            ON CONFLICT (batch_job_id) DO NOTHING
            """,
            ("kind", kind.ToString()), ("model", settings.Model), ("tokens", tokens),
            ("cost", AsDouble(Pricing.Cost(settings, tokens, batch: kind == SpendKind.Batch))), ("interactive", AsDouble(Pricing.Cost(settings, tokens, batch: false))),
            ("job", batchJobId));

    private static double? AsDouble(decimal? cost) => cost is { } value ? (double)value : null;
}
