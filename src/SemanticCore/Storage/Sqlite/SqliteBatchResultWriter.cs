using Microsoft.Data.Sqlite;
using SemanticCore.Batches;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// Stores a job's results with one prepared statement per kind of change, row by row in chunk id order, a page per
/// transaction, with SQLite's page cache enlarged while it writes.
/// </summary>
internal sealed class SqliteBatchResultWriter : IBatchResultWriter
{
    /// <summary>
    /// SQLite's page cache while a sync stores results (its default is 2 MB): even in key order a page touches
    /// the chunk rows, three indexes and the vector pages, and each is best written once per transaction.
    /// </summary>
    private const long PageCacheBytes = 64L * 1024 * 1024;

    private const string StillSubmittedInJob = "id = $chunk AND batch_job_id = $job AND embedding_status = 'Submitted'";

    private readonly SqliteConnection connection;
    private readonly IndexSettings settings;
    private readonly string jobId;
    private readonly int maxRetries;
    private readonly PageCache cache;

    public SqliteBatchResultWriter(SqliteConnection connection, IndexSettings settings, string jobId, int maxRetries)
    {
        (this.connection, this.settings, this.jobId, this.maxRetries) = (connection, settings, jobId, maxRetries);
        cache = PageCache.Enlarge(connection, PageCacheBytes);
    }

    public long Store(ResultPage page)
    {
        using var transaction = connection.BeginTransaction();
        var now = Timestamps.Now();
        using var ready = Command(now, $"UPDATE chunks SET embedding_status = 'Ready', error_message = NULL, updated_at = $now WHERE {StillSubmittedInJob}");
        using var fail = Command(now, $"UPDATE chunks SET embedding_status = 'Failed', error_message = $message, updated_at = $now WHERE {StillSubmittedInJob}");
        using var retry = RetryCommand(now, StillSubmittedInJob);
        using var vector = VectorStore.CreateInsert(connection, settings, now);
        long succeeded = 0, failed = 0, retried = 0, tokens = 0;
        var unchanged = new List<long>();

        foreach (var (chunkId, values, lineTokens) in page.Vectors)
        {
            if (Run(ready, chunkId, null) == 0)
            {
                unchanged.Add(chunkId);
                continue;
            }

            VectorStore.Insert(vector, chunkId, values);
            succeeded++;
            tokens += lineTokens;
        }

        foreach (var (chunkId, message) in page.Failures)
        {
            var changed = Run(fail, chunkId, message);
            failed += changed;
            if (changed == 0) unchanged.Add(chunkId);
        }

        foreach (var (chunkId, message) in page.Retries)
        {
            var (toPending, toFailed) = RunRetry(retry, chunkId, message);
            (retried, failed) = (retried + toPending, failed + toFailed);
            if (toPending + toFailed == 0) unchanged.Add(chunkId);
        }

        var unknown = unchanged.LongCount(chunkId => !HeldByJob(chunkId));
        AddCounts(now, succeeded, failed, retried, tokens);
        transaction.Commit();
        return unknown;
    }

    public void RetryRest(string message)
    {
        using var transaction = connection.BeginTransaction();
        var now = Timestamps.Now();
        using var retry = RetryCommand(now, "batch_job_id = $job AND embedding_status = 'Submitted'");
        var (toPending, toFailed) = RunRetry(retry, null, message);
        AddCounts(now, 0, toFailed, toPending, 0);
        transaction.Commit();
    }

    public void Dispose() => cache.Dispose();

    /// <summary>Whether the chunk is of this job, or was until it was removed or claimed away while the job held it.</summary>
    private bool HeldByJob(long chunkId) =>
        (long)Sql.Scalar(connection, """
            SELECT EXISTS (SELECT 1 FROM chunks WHERE id = $chunk AND batch_job_id = $job)
                OR EXISTS (SELECT 1 FROM batch_job_removed_chunks WHERE chunk_id = $chunk AND batch_job_id = $job)
                OR EXISTS (SELECT 1 FROM batch_job_former_chunks WHERE chunk_id = $chunk AND batch_job_id = $job)
            """, ("$chunk", chunkId), ("$job", jobId))! != 0;

    private SqliteCommand Command(string now, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.AddWithValue("$job", jobId);
        command.Parameters.Add("$chunk", SqliteType.Integer);
        command.Parameters.Add("$message", SqliteType.Text);
        return command;
    }

    /// <summary>Back to Pending (for the next flush) with RetryCount + 1, or Failed once the retry budget is spent.</summary>
    private SqliteCommand RetryCommand(string now, string where)
    {
        var command = Command(now, $"""
            UPDATE chunks SET
                retry_count = retry_count + 1,
                embedding_status = CASE WHEN retry_count + 1 > $max THEN 'Failed' ELSE 'Pending' END,
                error_message = $message || CASE WHEN retry_count + 1 > $max THEN ' (retry budget of ' || $max || ' spent)' ELSE '' END,
                updated_at = $now
            WHERE {where}
            RETURNING embedding_status
            """);
        command.Parameters.AddWithValue("$max", maxRetries);
        return command;
    }

    private static int Run(SqliteCommand command, long chunkId, string? message)
    {
        command.Parameters["$chunk"].Value = chunkId;
        command.Parameters["$message"].Value = (object?)message ?? DBNull.Value;
        return command.ExecuteNonQuery();
    }

    private static (int ToPending, int ToFailed) RunRetry(SqliteCommand command, long? chunkId, string message)
    {
        command.Parameters["$chunk"].Value = (object?)chunkId ?? DBNull.Value;
        command.Parameters["$message"].Value = message;
        using var reader = command.ExecuteReader();
        int pending = 0, failed = 0;
        while (reader.Read())
        {
            if (reader.GetString(0) == "Pending") pending++;
            else failed++;
        }

        return (pending, failed);
    }

    private void AddCounts(string now, long succeeded, long failed, long retried, long tokens) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET succeeded_count = succeeded_count + $s, failed_count = failed_count + $f,
                retried_count = retried_count + $r, token_count = token_count + $t, updated_at = $now
            WHERE id = $job
            """, ("$s", succeeded), ("$f", failed), ("$r", retried), ("$t", tokens), ("$now", now), ("$job", jobId));
}
