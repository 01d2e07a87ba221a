using Npgsql;
using NpgsqlTypes;
using Pgvector;
using SemanticCore.Batches;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// Stores a job's results a page per transaction: the page goes by binary COPY into a temporary table, then set-based
/// statements change the chunks still Submitted in the job, and the job's counters grow by the rows they changed.
/// </summary>
internal sealed class PostgresBatchResultWriter(NpgsqlConnection connection, string displayName, IndexSettings settings, string jobId, int maxRetries)
    : IBatchResultWriter
{
    private const string VectorRow = "v", FailureRow = "f", RetryRow = "r";

    private const string StillSubmittedInJob = "c.id = p.chunk_id AND c.batch_job_id = @job AND c.embedding_status = 'Submitted'";

    /// <summary>Back to Pending (for the next flush) with RetryCount + 1, or Failed once the retry budget is spent; counts each outcome.</summary>
    private static string RetrySql(string message, string from, string where) => $"""
        WITH changed AS (
            UPDATE chunks c SET
                retry_count = c.retry_count + 1,
                embedding_status = CASE WHEN c.retry_count + 1 > @max THEN 'Failed' ELSE 'Pending' END,
                error_message = {message} || CASE WHEN c.retry_count + 1 > @max THEN ' (retry budget of ' || @max || ' spent)' ELSE '' END,
                updated_at = now()
            {from}
            WHERE {where}
            RETURNING c.embedding_status)
        SELECT count(*) FILTER (WHERE embedding_status = 'Pending'), count(*) FILTER (WHERE embedding_status = 'Failed') FROM changed
        """;

    public long Store(ResultPage page) => PostgresSql.Write(displayName, () => PostgresSql.RetriedOnDeadlock(() =>
    {
        using var transaction = connection.BeginTransaction();
        LockJob();
        PostgresSql.Execute(connection, """
            CREATE TEMPORARY TABLE result_page (chunk_id bigint NOT NULL, kind text NOT NULL, embedding vector, tokens bigint, message text)
            ON COMMIT DROP
            """);
        Copy(page);
        // The page's chunks locked in id order before any changes: writers and imports that lock in the same order never
        // wait for each other in a circle (an import that does not is retried above as the deadlock's victim).
        Execute("SELECT 1 FROM chunks WHERE id IN (SELECT chunk_id FROM result_page) ORDER BY id FOR NO KEY UPDATE");

        long succeeded = 0, tokens = 0;
        using (var ready = Command($"""
            WITH changed AS (
                UPDATE chunks c SET embedding_status = 'Ready', error_message = NULL, updated_at = now()
                FROM result_page p WHERE p.kind = '{VectorRow}' AND {StillSubmittedInJob}
                RETURNING c.id, p.embedding, p.tokens),
            stored AS (
                INSERT INTO chunk_vectors (chunk_id, model, dimensions, embedding, created_at)
                SELECT id, @model, @dimensions, embedding, now() FROM changed
                ON CONFLICT (chunk_id) DO UPDATE SET model = excluded.model, dimensions = excluded.dimensions,
                    embedding = excluded.embedding, created_at = excluded.created_at)
            SELECT count(*), COALESCE(sum(tokens), 0)::bigint FROM changed
            """, ("model", settings.Model), ("dimensions", settings.Dimensions)))
        using (var reader = ready.ExecuteReader())
        {
            reader.Read();
            (succeeded, tokens) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        long failed = Execute($"""
            UPDATE chunks c SET embedding_status = 'Failed', error_message = p.message, updated_at = now()
            FROM result_page p WHERE p.kind = '{FailureRow}' AND {StillSubmittedInJob}
            """);
        var (toPending, toFailed) = Retry(RetrySql("p.message", "FROM result_page p", $"p.kind = '{RetryRow}' AND {StillSubmittedInJob}"));

        // A row the page changed is of the job now, so counting over the whole page finds exactly the chunks it never held.
        var unknown = (long)Scalar("""
            SELECT count(*) FROM result_page p
            WHERE NOT EXISTS (SELECT 1 FROM chunks WHERE id = p.chunk_id AND batch_job_id = @job)
                AND NOT EXISTS (SELECT 1 FROM batch_job_removed_chunks WHERE chunk_id = p.chunk_id AND batch_job_id = @job)
                AND NOT EXISTS (SELECT 1 FROM batch_job_former_chunks WHERE chunk_id = p.chunk_id AND batch_job_id = @job)
            """)!;
        AddCounts(succeeded, failed + toFailed, toPending, tokens);
        transaction.Commit();
        return unknown;
    }));

    public void RetryRest(string message) => PostgresSql.Write(displayName, () => PostgresSql.RetriedOnDeadlock(() =>
    {
        using var transaction = connection.BeginTransaction();
        LockJob();
        var (toPending, toFailed) = Retry(RetrySql("@message::text", "", "c.batch_job_id = @job AND c.embedding_status = 'Submitted'"), ("message", message));
        AddCounts(0, toFailed, toPending, 0);
        transaction.Commit();
        return true;
    }));

    public void Dispose()
    {
    }

    /// <summary>
    /// Writers of one job take turns (on its row, as its ending does, before any chunk): two processes storing the same
    /// page at once then change each chunk once, in one order, and never deadlock. NO KEY UPDATE, because FOR UPDATE would
    /// also block an import recording the job's removed chunks (its foreign key takes KEY SHARE on the row) while that
    /// import holds the very chunks this writer waits for: a deadlock.
    /// </summary>
    private void LockJob() => Execute("SELECT 1 FROM batch_jobs WHERE id = @job FOR NO KEY UPDATE");

    /// <summary>The page's chunks, one row each, by binary COPY into the transaction's <c>result_page</c>.</summary>
    private void Copy(ResultPage page)
    {
        using (var import = connection.BeginBinaryImport("COPY result_page (chunk_id, kind, embedding, tokens, message) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (chunkId, values, lineTokens) in page.Vectors) Row(import, chunkId, VectorRow, new Vector(values), lineTokens, null);
            foreach (var (chunkId, message) in page.Failures) Row(import, chunkId, FailureRow, null, null, message);
            foreach (var (chunkId, message) in page.Retries) Row(import, chunkId, RetryRow, null, null, message);
            import.Complete();
        }

        // Autovacuum never analyzes a temporary table: without its row count the planner may scan every chunk per page.
        Execute("ANALYZE result_page");
    }

    private static void Row(NpgsqlBinaryImporter import, long chunkId, string kind, Vector? vector, long? tokens, string? message)
    {
        import.StartRow();
        import.Write(chunkId, NpgsqlDbType.Bigint);
        import.Write(kind, NpgsqlDbType.Text);
        if (vector is null) import.WriteNull();
        else import.Write(vector, "vector");
        if (tokens is { } count) import.Write(count, NpgsqlDbType.Bigint);
        else import.WriteNull();
        if (message is null) import.WriteNull();
        else import.Write(message, NpgsqlDbType.Text);
    }

    private (long ToPending, long ToFailed) Retry(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, [("max", maxRetries), .. parameters]);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private NpgsqlCommand Command(string sql, params (string Name, object? Value)[] parameters) =>
        PostgresSql.Command(connection, sql, [("job", jobId), .. parameters]);

    private int Execute(string sql)
    {
        using var command = Command(sql);
        return command.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var command = Command(sql);
        return command.ExecuteScalar();
    }

    private void AddCounts(long succeeded, long failed, long retried, long tokens) =>
        PostgresSql.Execute(connection, """
            UPDATE batch_jobs SET succeeded_count = succeeded_count + @s, failed_count = failed_count + @f,
                retried_count = retried_count + @r, token_count = token_count + @t, updated_at = now()
            WHERE id = @job
            """, ("s", succeeded), ("f", failed), ("r", retried), ("t", tokens), ("job", jobId));
}
