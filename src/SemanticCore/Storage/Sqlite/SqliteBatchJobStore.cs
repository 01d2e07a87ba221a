using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Batches;
using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>Batch jobs in the index's <c>batch_jobs</c> table, and the chunks they hold; each atomic member is one SQLite transaction.</summary>
internal sealed class SqliteBatchJobStore(SqliteConnection connection, string databasePath, IndexSettings settings) : IBatchJobStore
{
    private readonly SqliteSettingValues values = new(connection);
    private readonly SqliteSpendLedger spend = new(connection, databasePath);

    private const string JobColumns = """
        id, remote_name, status, provider, model, dimensions, request_count, succeeded_count, failed_count, retried_count,
        token_count, stats, input_file, output_file, error_message, created_at, submitted_at, completed_at, updated_at,
        (SELECT COUNT(*) FROM batch_job_removed_chunks r WHERE r.batch_job_id = batch_jobs.id)
        """;

    public long CountClaimable() =>
        (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'")!;

    public long CountSubmitted() =>
        (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'")!;

    /// <summary>The exact text sent for a chunk: its stored vector source, or the content for rows of the earlier layout.</summary>
    private const string VectorSourceSql = "COALESCE(json_extract(metadata, '$._vector_source'), content)";

    public IEnumerable<(long Id, string Text)> PendingTexts()
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, {VectorSourceSql} FROM chunks WHERE embedding_status = 'Pending' ORDER BY id";
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), reader.GetString(1));
    }

    public (int Jobs, long Tokens) Unfinished()
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COUNT(*), COALESCE(SUM(json_extract(stats, '$.estimatedTokens')), 0)
            FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running')
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.GetInt64(1));
    }

    public (long Chunks, long Tokens) CreateAndClaim(string jobId, ClaimLimits limits)
    {
        using var transaction = connection.BeginTransaction();
        var (jobs, inFlight) = Unfinished();
        if (limits.PackerFor(jobs, inFlight) is not { } packer) return (0, 0);
        long last = -1;
        foreach (var (id, text) in PendingTexts())
        {
            if (!packer.TryAdd(TokenEstimator.Estimate(text), JobPacker.LineBytes(text))) break;
            last = id;
        }

        if (packer.Chunks == 0) return (0, 0);
        var now = Timestamps.Now();
        Sql.Execute(connection, """
            INSERT INTO batch_jobs (id, status, provider, model, dimensions, request_count, stats, created_at, updated_at)
            VALUES ($id, 'Created', $provider, $model, $dimensions, $count, json_object('estimatedTokens', $tokens), $now, $now)
            """, ("$id", jobId), ("$provider", settings.Provider.ToString()), ("$model", settings.Model), ("$dimensions", settings.Dimensions),
            ("$count", packer.Chunks), ("$tokens", packer.Tokens), ("$now", now));
        Sql.Execute(connection, """
            UPDATE chunks SET embedding_status = 'Submitted', batch_job_id = $id, updated_at = $now
            WHERE embedding_status = 'Pending' AND id <= $last
            """, ("$id", jobId), ("$now", now), ("$last", last));
        transaction.Commit();
        return (packer.Chunks, packer.Tokens);
    }

    public QueueBudget ReadBudget() => QueueBudgetSettings.Read(values);

    public QueueBudget? UpdateBudget(Func<QueueBudget, QueueBudget?> change)
    {
        using var transaction = connection.BeginTransaction();
        if (change(ReadBudget()) is not { } budget) return null;
        QueueBudgetSettings.Write(values, budget);
        transaction.Commit();
        return budget;
    }

    public bool DiscardEmpty(string jobId) =>
        Sql.Execute(connection, """
            DELETE FROM batch_jobs WHERE id = $id AND status = 'Created'
                AND NOT EXISTS (SELECT 1 FROM chunks WHERE batch_job_id = $id AND embedding_status = 'Submitted')
            """, ("$id", jobId)) == 1;

    public IEnumerable<(long Id, string Text)> JobTexts(string jobId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, {VectorSourceSql} FROM chunks WHERE batch_job_id = $id AND embedding_status = 'Submitted' ORDER BY id";
        command.Parameters.AddWithValue("$id", jobId);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), reader.GetString(1));
    }

    public void RecordInput(string jobId, string? inputFile, long estimatedTokens) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET input_file = COALESCE($file, input_file), stats = json_set(COALESCE(stats, '{}'), '$.estimatedTokens', $tokens), updated_at = $now
            WHERE id = $id
            """, ("$file", inputFile), ("$tokens", estimatedTokens), ("$now", Timestamps.Now()), ("$id", jobId));

    public bool RenewLease(string jobId) =>
        Sql.Execute(connection, "UPDATE batch_jobs SET updated_at = $now WHERE id = $id AND status = 'Created'", ("$now", Timestamps.Now()), ("$id", jobId)) == 1;

    // A Created job's submitted_at records when its create was attempted.
    public void ExpireLease(string jobId, string message, bool createAttempted = true) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET updated_at = $epoch, submitted_at = CASE WHEN $attempted THEN $now ELSE submitted_at END, error_message = $message
            WHERE id = $id AND status = 'Created'
            """,
            ("$epoch", Timestamps.ToText(DateTimeOffset.UnixEpoch)), ("$attempted", createAttempted), ("$now", Timestamps.Now()), ("$message", message), ("$id", jobId));

    public IReadOnlyList<(string Id, DateTimeOffset? CreateAttemptedAt)> StaleCreatedJobs(TimeSpan lease)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, submitted_at FROM batch_jobs WHERE status = 'Created' AND updated_at < $cutoff ORDER BY created_at";
        command.Parameters.AddWithValue("$cutoff", Timestamps.ToText(DateTimeOffset.UtcNow - lease));
        using var reader = command.ExecuteReader();
        var jobs = new List<(string, DateTimeOffset?)>();
        while (reader.Read()) jobs.Add((reader.GetString(0), Timestamps.Parse(reader.IsDBNull(1) ? null : reader.GetString(1))));
        return jobs;
    }

    public void MarkSubmitted(string jobId, string remoteName, string? inputFile) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET remote_name = $remote, input_file = COALESCE($file, input_file), status = 'Submitted',
                submitted_at = $now, updated_at = $now, error_message = NULL
            WHERE id = $id AND status = 'Created'
            """, ("$remote", remoteName), ("$file", inputFile), ("$now", Timestamps.Now()), ("$id", jobId));

    public void MarkRunning(string jobId) =>
        Sql.Execute(connection, "UPDATE batch_jobs SET status = 'Running', updated_at = $now WHERE id = $id AND status = 'Submitted'",
            ("$now", Timestamps.Now()), ("$id", jobId));

    public bool EndWithoutResults(string jobId, BatchJobStatus status, string reason,
        DateTimeOffset? leaseExpiredBefore = null, int? maxRetries = null, string? outputFile = null, bool remoteFilesLeft = true)
    {
        using var transaction = connection.BeginTransaction();
        var now = Timestamps.Now();
        var ended = Sql.Execute(connection, """
            UPDATE batch_jobs SET status = $status, error_message = $reason, output_file = COALESCE($output, output_file),
                remote_files_left = $left, completed_at = $now, updated_at = $now
            WHERE id = $id AND status IN ('Created', 'Submitted', 'Running') AND ($cutoff IS NULL OR updated_at < $cutoff)
            """, ("$status", status.ToString()), ("$reason", reason), ("$output", outputFile), ("$left", remoteFilesLeft ? 1 : 0), ("$now", now), ("$id", jobId),
            ("$cutoff", leaseExpiredBefore is { } cutoff ? Timestamps.ToText(cutoff) : null)) == 1;
        if (ended)
        {
            spend.RecordBatchJob(jobId); // the results it produced before it ended
            ForgetFormerChunks(jobId);
            // SET expressions all read the row as it was: retry_count below is the count before this job.
            Sql.Execute(connection, """
                UPDATE chunks SET
                    embedding_status = CASE WHEN $max IS NOT NULL AND retry_count + 1 > $max THEN 'Failed' ELSE 'Pending' END,
                    error_message = $reason || CASE WHEN $max IS NOT NULL AND retry_count + 1 > $max THEN ' (retry budget of ' || $max || ' spent)' ELSE '' END,
                    retry_count = retry_count + CASE WHEN $max IS NULL THEN 0 ELSE 1 END,
                    updated_at = $now
                WHERE batch_job_id = $id AND embedding_status = 'Submitted'
                """, ("$reason", reason), ("$now", now), ("$id", jobId), ("$max", maxRetries));
            if (maxRetries is not null)
            {
                Sql.Execute(connection, """
                    UPDATE batch_jobs SET
                        failed_count = (SELECT COUNT(*) FROM chunks WHERE batch_job_id = $id AND embedding_status = 'Failed'),
                        retried_count = (SELECT COUNT(*) FROM chunks WHERE batch_job_id = $id AND embedding_status = 'Pending')
                    WHERE id = $id
                    """, ("$id", jobId));
            }
        }

        transaction.Commit();
        return ended;
    }

    public bool Finish(string jobId, string? inputFile, string? outputFile, SyncStats stats)
    {
        using var transaction = connection.BeginTransaction();
        var finished = Sql.Execute(connection, """
            UPDATE batch_jobs SET
                status = CASE WHEN succeeded_count = 0 AND request_count > 0 THEN 'Failed'
                              WHEN failed_count + retried_count = 0 THEN 'Completed'
                              ELSE 'CompletedWithErrors' END,
                input_file = COALESCE(input_file, $input), output_file = $output, stats = $stats, remote_files_left = 1, completed_at = $now, updated_at = $now
            WHERE id = $id AND status IN ('Submitted', 'Running')
            """, ("$input", inputFile), ("$output", outputFile), ("$stats", stats.ToJson()), ("$now", Timestamps.Now()), ("$id", jobId)) == 1;
        if (finished)
        {
            spend.RecordBatchJob(jobId);
            ForgetFormerChunks(jobId);
        }

        transaction.Commit();
        return finished;
    }

    /// <summary>Which chunks left a job matters only while its results may still be applied: not once it has ended.</summary>
    private void ForgetFormerChunks(string jobId) =>
        Sql.Execute(connection, "DELETE FROM batch_job_former_chunks WHERE batch_job_id = $id", ("$id", jobId));

    public IReadOnlyList<(string Id, string? InputFile, string? OutputFile)> JobsWithRemoteFilesLeft()
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, input_file, output_file FROM batch_jobs WHERE remote_files_left = 1 ORDER BY created_at, id";
        using var reader = command.ExecuteReader();
        var jobs = new List<(string, string?, string?)>();
        while (reader.Read()) jobs.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        return jobs;
    }

    public void MarkRemoteFilesDeleted(string jobId) =>
        Sql.Execute(connection, "UPDATE batch_jobs SET remote_files_left = 0 WHERE id = $id", ("$id", jobId));

    public BatchJob? Find(string jobId) => Query("WHERE id = $id", ("$id", jobId)).FirstOrDefault();

    public IEnumerable<BatchJob> List(IReadOnlyCollection<BatchJobStatus>? statuses) =>
        statuses is { Count: > 0 }
            ? Query("WHERE status IN (SELECT value FROM json_each($statuses))", ("$statuses", JsonSerializer.Serialize(statuses.Select(s => s.ToString()))))
            : Query("");

    public IBatchResultWriter WriteResults(string jobId, int maxRetries) => new SqliteBatchResultWriter(connection, settings, jobId, maxRetries);

    private IEnumerable<BatchJob> Query(string where, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {JobColumns} FROM batch_jobs {where} ORDER BY created_at, id";
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return Read(reader);
    }

    private BatchJob Read(SqliteDataReader r) =>
        BatchJobRows.Read(r, i => Timestamps.ParseUtcOrNull(r.IsDBNull(i) ? null : r.GetString(i)), databasePath);
}
