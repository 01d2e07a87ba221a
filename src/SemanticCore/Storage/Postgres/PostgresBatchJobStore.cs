using Npgsql;
using SemanticCore.Batches;
using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// Batch jobs in the index's <c>batch_jobs</c> table, and the chunks they hold; each atomic member is one PostgreSQL
/// transaction, and each guarded change a conditional UPDATE whose row count says which session won.
/// </summary>
internal sealed class PostgresBatchJobStore(NpgsqlConnection connection, string displayName, IndexSettings settings) : IBatchJobStore
{
    /// <summary>How many Pending rows a claim locks and reads at a time while its packer still accepts them.</summary>
    private const int ClaimPage = 500;

    private readonly PostgresSettingValues values = new(connection, displayName);
    private readonly PostgresSpendLedger spend = new(connection, displayName);

    private const string JobColumns = """
        id, remote_name, status, provider, model, dimensions, request_count::bigint, succeeded_count::bigint, failed_count::bigint,
        retried_count::bigint, token_count, stats::text, input_file, output_file, error_message, created_at, submitted_at, completed_at,
        updated_at, (SELECT count(*) FROM batch_job_removed_chunks r WHERE r.batch_job_id = batch_jobs.id)
        """;

    /// <summary>The exact text sent for a chunk: its stored vector source, or the content.</summary>
    private const string VectorSourceSql = "COALESCE(metadata->>'_vector_source', content)";

    /// <summary>A transaction-scoped advisory lock of one kind of change on this index (the schema first on the search path).</summary>
    private const string IndexLockSql = "SELECT pg_advisory_xact_lock(hashtext('SemanticCore.PS ' || @purpose || ' ' || current_schema()))";

    public long CountClaimable() =>
        (long)PostgresSql.Scalar(connection, "SELECT count(*) FROM chunks WHERE embedding_status = 'Pending'")!;

    public long CountSubmitted() =>
        (long)PostgresSql.Scalar(connection, "SELECT count(*) FROM chunks WHERE embedding_status = 'Submitted'")!;

    public IEnumerable<(long Id, string Text)> PendingTexts() =>
        Texts($"SELECT id, {VectorSourceSql} FROM chunks WHERE embedding_status = 'Pending' ORDER BY id");

    public (int Jobs, long Tokens) Unfinished()
    {
        using var command = PostgresSql.Command(connection, """
            SELECT count(*)::int, COALESCE(sum((stats->>'estimatedTokens')::bigint), 0)::bigint
            FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running')
            """);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt32(0), reader.GetInt64(1));
    }

    public (long Chunks, long Tokens) CreateAndClaim(string jobId, ClaimLimits limits) => PostgresSql.Write(displayName, () =>
    {
        using var transaction = connection.BeginTransaction();
        // One claim at a time per index: the unfinished jobs read below include every claim committed before, so two
        // hosts never together pass the queue budget. Each statement of the transaction reads what is committed when it runs.
        PostgresSql.Execute(connection, IndexLockSql, ("purpose", "claim"));
        var (jobs, inFlight) = Unfinished();
        if (limits.PackerFor(jobs, inFlight) is not { } packer) return (0L, 0L);
        var claimed = ClaimPending(packer);
        if (claimed.Count == 0) return (0L, 0L);

        PostgresSql.Execute(connection, """
            INSERT INTO batch_jobs (id, status, provider, model, dimensions, request_count, stats, created_at, updated_at)
            VALUES (@id, 'Created', @provider, @model, @dimensions, @count, jsonb_build_object('estimatedTokens', @tokens::bigint), now(), now())
            """, ("id", jobId), ("provider", settings.Provider.ToString()), ("model", settings.Model), ("dimensions", settings.Dimensions),
            ("count", (int)packer.Chunks), ("tokens", packer.Tokens));
        PostgresSql.Execute(connection, """
            UPDATE chunks SET embedding_status = 'Submitted', batch_job_id = @id, updated_at = now()
            WHERE id = ANY(@ids) AND embedding_status = 'Pending'
            """, ("id", jobId), ("ids", claimed.ToArray()));
        transaction.Commit();
        return (packer.Chunks, packer.Tokens);
    });

    /// <summary>
    /// Locks Pending chunks in id order, a page at a time, while the packer accepts them, and returns those it accepted;
    /// rows another session holds (an import changing them) are skipped, never waited for.
    /// </summary>
    private List<long> ClaimPending(JobPacker packer)
    {
        var claimed = new List<long>();
        var after = long.MinValue;
        while (true)
        {
            var page = 0;
            using var command = PostgresSql.Command(connection, $"""
                SELECT id, {VectorSourceSql} FROM chunks WHERE embedding_status = 'Pending' AND id > @after
                ORDER BY id LIMIT @page FOR UPDATE SKIP LOCKED
                """, ("after", after), ("page", ClaimPage));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var (id, text) = (reader.GetInt64(0), reader.GetString(1));
                if (!packer.TryAdd(TokenEstimator.Estimate(text), JobPacker.LineBytes(text))) return claimed;
                claimed.Add(id);
                (after, page) = (id, page + 1);
            }

            if (page < ClaimPage) return claimed;
        }
    }

    public QueueBudget ReadBudget() => QueueBudgetSettings.Read(values);

    public QueueBudget? UpdateBudget(Func<QueueBudget, QueueBudget?> change) => PostgresSql.Write(displayName, () =>
    {
        using var transaction = connection.BeginTransaction();
        // The budget's keys may not exist yet, so there are no rows to lock: an advisory lock orders the lessons instead.
        PostgresSql.Execute(connection, IndexLockSql, ("purpose", "budget"));
        if (change(ReadBudget()) is not { } budget) return null;
        QueueBudgetSettings.Write(values, budget);
        transaction.Commit();
        return budget;
    });

    public bool DiscardEmpty(string jobId) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, """
            DELETE FROM batch_jobs WHERE id = @id AND status = 'Created'
                AND NOT EXISTS (SELECT 1 FROM chunks WHERE batch_job_id = @id AND embedding_status = 'Submitted')
            """, ("id", jobId)) == 1);

    public IEnumerable<(long Id, string Text)> JobTexts(string jobId) =>
        Texts($"SELECT id, {VectorSourceSql} FROM chunks WHERE batch_job_id = @id AND embedding_status = 'Submitted' ORDER BY id", ("id", jobId));

    private IEnumerable<(long Id, string Text)> Texts(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = PostgresSql.Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), reader.GetString(1));
    }

    public void RecordInput(string jobId, string? inputFile, long estimatedTokens) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, """
            UPDATE batch_jobs SET input_file = COALESCE(@file, input_file),
                stats = COALESCE(stats, '{}'::jsonb) || jsonb_build_object('estimatedTokens', @tokens::bigint), updated_at = now()
            WHERE id = @id
            """, ("file", inputFile), ("tokens", estimatedTokens), ("id", jobId)));

    public bool RenewLease(string jobId) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, "UPDATE batch_jobs SET updated_at = now() WHERE id = @id AND status = 'Created'", ("id", jobId)) == 1);

    // A Created job's submitted_at records when its create was attempted.
    public void ExpireLease(string jobId, string message, bool createAttempted = true) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, """
            UPDATE batch_jobs SET updated_at = @epoch, submitted_at = CASE WHEN @attempted THEN now() ELSE submitted_at END, error_message = @message
            WHERE id = @id AND status = 'Created'
            """, ("epoch", DateTimeOffset.UnixEpoch), ("attempted", createAttempted), ("message", message), ("id", jobId)));

    public IReadOnlyList<(string Id, DateTimeOffset? CreateAttemptedAt)> StaleCreatedJobs(TimeSpan lease)
    {
        using var command = PostgresSql.Command(connection,
            "SELECT id, submitted_at FROM batch_jobs WHERE status = 'Created' AND updated_at < @cutoff ORDER BY created_at, id",
            ("cutoff", DateTimeOffset.UtcNow - lease));
        using var reader = command.ExecuteReader();
        var jobs = new List<(string, DateTimeOffset?)>();
        while (reader.Read()) jobs.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1)));
        return jobs;
    }

    public void MarkSubmitted(string jobId, string remoteName, string? inputFile) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, """
            UPDATE batch_jobs SET remote_name = @remote, input_file = COALESCE(@file, input_file), status = 'Submitted',
                submitted_at = now(), updated_at = now(), error_message = NULL
            WHERE id = @id AND status = 'Created'
            """, ("remote", remoteName), ("file", inputFile), ("id", jobId)));

    public void MarkRunning(string jobId) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, "UPDATE batch_jobs SET status = 'Running', updated_at = now() WHERE id = @id AND status = 'Submitted'", ("id", jobId)));

    public bool EndWithoutResults(string jobId, BatchJobStatus status, string reason,
        DateTimeOffset? leaseExpiredBefore = null, int? maxRetries = null, string? outputFile = null, bool remoteFilesLeft = true) => PostgresSql.Write(displayName, () =>
    {
        using var transaction = connection.BeginTransaction();
        var ended = PostgresSql.Execute(connection, """
            UPDATE batch_jobs SET status = @status, error_message = @reason, output_file = COALESCE(@output, output_file),
                remote_files_left = @left, completed_at = now(), updated_at = now()
            WHERE id = @id AND status IN ('Created', 'Submitted', 'Running') AND (@cutoff::timestamptz IS NULL OR updated_at < @cutoff)
            """, ("status", status.ToString()), ("reason", reason), ("output", outputFile), ("left", remoteFilesLeft), ("id", jobId),
            ("cutoff", leaseExpiredBefore?.ToUniversalTime())) == 1;
        if (ended)
        {
            spend.RecordBatchJob(jobId); // the results it produced before it ended
            ForgetFormerChunks(jobId);
            // SET expressions all read the row as it was: retry_count below is the count before this job.
            PostgresSql.Execute(connection, """
                UPDATE chunks SET
                    embedding_status = CASE WHEN @max::int IS NOT NULL AND retry_count + 1 > @max THEN 'Failed' ELSE 'Pending' END,
                    error_message = @reason || CASE WHEN @max::int IS NOT NULL AND retry_count + 1 > @max THEN ' (retry budget of ' || @max || ' spent)' ELSE '' END,
                    retry_count = retry_count + CASE WHEN @max::int IS NULL THEN 0 ELSE 1 END,
                    updated_at = now()
                WHERE batch_job_id = @id AND embedding_status = 'Submitted'
                """, ("reason", reason), ("id", jobId), ("max", maxRetries));
            if (maxRetries is not null)
            {
                PostgresSql.Execute(connection, """
                    UPDATE batch_jobs SET
                        failed_count = (SELECT count(*) FROM chunks WHERE batch_job_id = @id AND embedding_status = 'Failed'),
                        retried_count = (SELECT count(*) FROM chunks WHERE batch_job_id = @id AND embedding_status = 'Pending')
                    WHERE id = @id
                    """, ("id", jobId));
            }
        }

        transaction.Commit();
        return ended;
    });

    public bool Finish(string jobId, string? inputFile, string? outputFile, SyncStats stats) => PostgresSql.Write(displayName, () =>
    {
        using var transaction = connection.BeginTransaction();
        var finished = PostgresSql.Execute(connection, """
            UPDATE batch_jobs SET
                status = CASE WHEN succeeded_count = 0 AND request_count > 0 THEN 'Failed'
                              WHEN failed_count + retried_count = 0 THEN 'Completed'
                              ELSE 'CompletedWithErrors' END,
                input_file = COALESCE(input_file, @input), output_file = @output, stats = @stats::jsonb, remote_files_left = true,
                completed_at = now(), updated_at = now()
            WHERE id = @id AND status IN ('Submitted', 'Running')
            """, ("input", inputFile), ("output", outputFile), ("stats", stats.ToJson()), ("id", jobId)) == 1;
        if (finished)
        {
            spend.RecordBatchJob(jobId);
            ForgetFormerChunks(jobId);
        }

        transaction.Commit();
        return finished;
    });

    /// <summary>Which chunks left a job matters only while its results may still be applied: not once it has ended.</summary>
    private void ForgetFormerChunks(string jobId) =>
        PostgresSql.Execute(connection, "DELETE FROM batch_job_former_chunks WHERE batch_job_id = @id", ("id", jobId));

    public IReadOnlyList<(string Id, string? InputFile, string? OutputFile)> JobsWithRemoteFilesLeft()
    {
        using var command = PostgresSql.Command(connection, "SELECT id, input_file, output_file FROM batch_jobs WHERE remote_files_left ORDER BY created_at, id");
        using var reader = command.ExecuteReader();
        var jobs = new List<(string, string?, string?)>();
        while (reader.Read()) jobs.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        return jobs;
    }

    public void MarkRemoteFilesDeleted(string jobId) => PostgresSql.Write(displayName, () =>
        PostgresSql.Execute(connection, "UPDATE batch_jobs SET remote_files_left = false WHERE id = @id", ("id", jobId)));

    public BatchJob? Find(string jobId) => Query("WHERE id = @id", ("id", jobId)).FirstOrDefault();

    public IEnumerable<BatchJob> List(IReadOnlyCollection<BatchJobStatus>? statuses) =>
        statuses is { Count: > 0 }
            ? Query("WHERE status = ANY(@statuses)", ("statuses", statuses.Select(s => s.ToString()).ToArray()))
            : Query("");

    public IBatchResultWriter WriteResults(string jobId, int maxRetries)
    {
        // A sync right after a flush meets statistics from before its claim (no chunk in any job): the planner would then
        // scan the job's chunks once per result. Autovacuum catches up within minutes; a sync may not wait for it.
        PostgresSql.Write(displayName, () => PostgresSql.Execute(connection, "ANALYZE chunks"));
        return new PostgresBatchResultWriter(connection, displayName, settings, jobId, maxRetries);
    }

    private IEnumerable<BatchJob> Query(string where, params (string Name, object? Value)[] parameters)
    {
        using var command = PostgresSql.Command(connection, $"SELECT {JobColumns} FROM batch_jobs {where} ORDER BY created_at, id", parameters);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return Read(reader);
    }

    private BatchJob Read(NpgsqlDataReader r) =>
        BatchJobRows.Read(r, i => r.IsDBNull(i) ? null : r.GetFieldValue<DateTime>(i), displayName);
}
