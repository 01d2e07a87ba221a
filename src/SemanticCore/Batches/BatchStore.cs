using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Batches;

/// <summary>Counts of one sync run that are kept with the job for triage.</summary>
internal sealed record SyncStats(long UnknownKeys, long DuplicateKeys, long MalformedLines, long EstimatedTokens)
{
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, long>
    {
        ["unknownKeys"] = UnknownKeys,
        ["duplicateKeys"] = DuplicateKeys,
        ["malformedLines"] = MalformedLines,
        ["estimatedTokens"] = EstimatedTokens,
    });
}

/// <summary>The SQL of batch jobs and of the chunks they hold.</summary>
internal static class BatchStore
{
    private const string JobColumns = """
        id, remote_name, status, provider, model, dimensions, request_count, succeeded_count, failed_count, retried_count,
        token_count, stats, input_file, output_file, error_message, created_at, submitted_at, completed_at, updated_at,
        (SELECT COUNT(*) FROM batch_job_removed_chunks r WHERE r.batch_job_id = batch_jobs.id)
        """;

    public static long CountClaimable(SqliteConnection connection) =>
        (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'")!;

    /// <summary>Chunks claimed by unfinished jobs (Submitted).</summary>
    public static long CountSubmitted(SqliteConnection connection) =>
        (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'")!;

    /// <summary>The exact text sent for a chunk: its stored vector source, or the content for rows of the earlier layout.</summary>
    public const string VectorSourceSql = "COALESCE(json_extract(metadata, '$._vector_source'), content)";

    /// <summary>The Pending chunks in id order (the order jobs claim them), with the text each would be embedded from.</summary>
    public static IEnumerable<(long Id, string Text)> PendingTexts(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, {VectorSourceSql} FROM chunks WHERE embedding_status = 'Pending' ORDER BY id";
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), reader.GetString(1));
    }

    /// <summary>The index's unfinished jobs (Created, Submitted, Running) of every process and host: how many, and their estimated tokens.</summary>
    public static (int Jobs, long Tokens) Unfinished(SqliteConnection connection)
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

    /// <summary>
    /// Creates a job and claims the Pending chunks that fit it (in id order, within <paramref name="limits"/> and the room
    /// the index's unfinished jobs leave), in one transaction and before any remote call: two flushes can never claim the
    /// same chunk, nor together pass the queue's budget. Returns the chunks and estimated tokens claimed (0: none fit, and
    /// no job is kept).
    /// </summary>
    public static (long Chunks, long Tokens) CreateAndClaim(SqliteConnection connection, string jobId, IndexSettings settings, ClaimLimits limits)
    {
        using var transaction = connection.BeginTransaction();
        var (jobs, inFlight) = Unfinished(connection);
        if (limits.PackerFor(jobs, inFlight) is not { } packer) return (0, 0);
        long last = -1;
        foreach (var (id, text) in PendingTexts(connection))
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

    private const string QueueLimitKey = "batch_queue_token_limit";
    private const string LearnedQueueLimitKey = "batch_queue_token_learned";
    private const string LearnedJobTokensKey = "batch_job_token_learned";
    private const string RefusedTokensKey = "batch_queue_token_refused";
    private const string RefusedAtKey = "batch_queue_token_refused_at";

    /// <summary>The queue budget recorded in the index's settings (every process and host reads the same), as it holds now.</summary>
    public static QueueBudget ReadBudget(SqliteConnection connection)
    {
        // A value edited into something else is ignored, as if never recorded: the budget is a hint, never a reason to fail.
        long? Get(string key) => long.TryParse(SettingValues.Get(connection, key), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;
        return new QueueBudget
        {
            Limit = Get(QueueLimitKey),
            LearnedLimit = Get(LearnedQueueLimitKey),
            LearnedJobTokens = Get(LearnedJobTokensKey),
            RefusedTokens = Get(RefusedTokensKey),
            RefusedAt = Timestamps.Parse(SettingValues.Get(connection, RefusedAtKey)),
        }.AsOf(DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Changes the recorded budget in one transaction, so that two processes learning at once never undo each other's
    /// lesson; <paramref name="change"/> returning null leaves it as it is. Returns the budget recorded.
    /// </summary>
    public static QueueBudget? UpdateBudget(SqliteConnection connection, Func<QueueBudget, QueueBudget?> change)
    {
        using var transaction = connection.BeginTransaction();
        if (change(ReadBudget(connection)) is not { } budget) return null;
        foreach (var (key, value) in new[] { (QueueLimitKey, budget.Limit), (LearnedQueueLimitKey, budget.LearnedLimit), (LearnedJobTokensKey, budget.LearnedJobTokens), (RefusedTokensKey, budget.RefusedTokens) })
        {
            SettingValues.Set(connection, key, value?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        SettingValues.Set(connection, RefusedAtKey, budget.RefusedAt is { } at ? Timestamps.ToText(at) : null);

        transaction.Commit();
        return budget;
    }

    /// <summary>Deletes a Created job that holds no chunk any more (all removed by a re-import after the claim); false when it holds one.</summary>
    public static bool DiscardEmpty(SqliteConnection connection, string jobId) =>
        Sql.Execute(connection, """
            DELETE FROM batch_jobs WHERE id = $id AND status = 'Created'
                AND NOT EXISTS (SELECT 1 FROM chunks WHERE batch_job_id = $id AND embedding_status = 'Submitted')
            """, ("$id", jobId)) == 1;

    /// <summary>The claimed chunks of a job, in id order, with the text to send.</summary>
    public static IEnumerable<(long Id, string Text)> JobTexts(SqliteConnection connection, string jobId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, {VectorSourceSql} FROM chunks WHERE batch_job_id = $id AND embedding_status = 'Submitted' ORDER BY id";
        command.Parameters.AddWithValue("$id", jobId);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return (reader.GetInt64(0), reader.GetString(1));
    }

    public static void RecordInput(SqliteConnection connection, string jobId, string? inputFile, long estimatedTokens) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET input_file = COALESCE($file, input_file), stats = json_set(COALESCE(stats, '{}'), '$.estimatedTokens', $tokens), updated_at = $now
            WHERE id = $id
            """, ("$file", inputFile), ("$tokens", estimatedTokens), ("$now", Timestamps.Now()), ("$id", jobId));

    /// <summary>
    /// Renews a Created job's lease right before the remote create; false when another process has
    /// meanwhile recovered (adopted or released) it, in which case it must not be created.
    /// </summary>
    public static bool RenewLease(SqliteConnection connection, string jobId) =>
        Sql.Execute(connection, "UPDATE batch_jobs SET updated_at = $now WHERE id = $id AND status = 'Created'", ("$now", Timestamps.Now()), ("$id", jobId)) == 1;

    /// <summary>
    /// Lets the next flush or sync recover the job at once (its creator gave up on it after a create, or an upload,
    /// whose outcome is unknown); with <paramref name="createAttempted"/>, <c>submitted_at</c> records when that create was attempted.
    /// </summary>
    public static void ExpireLease(SqliteConnection connection, string jobId, string message, bool createAttempted = true) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET updated_at = $epoch, submitted_at = CASE WHEN $attempted THEN $now ELSE submitted_at END, error_message = $message
            WHERE id = $id AND status = 'Created'
            """,
            ("$epoch", Timestamps.ToText(DateTimeOffset.UnixEpoch)), ("$attempted", createAttempted), ("$now", Timestamps.Now()), ("$message", message), ("$id", jobId));

    /// <summary>Created jobs whose lease ran out (their creator died or gave up), with when a create was attempted, if one was.</summary>
    public static List<(string Id, DateTimeOffset? CreateAttemptedAt)> StaleCreatedJobs(SqliteConnection connection, TimeSpan lease)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, submitted_at FROM batch_jobs WHERE status = 'Created' AND updated_at < $cutoff ORDER BY created_at";
        command.Parameters.AddWithValue("$cutoff", Timestamps.ToText(DateTimeOffset.UtcNow - lease));
        using var reader = command.ExecuteReader();
        var jobs = new List<(string, DateTimeOffset?)>();
        while (reader.Read()) jobs.Add((reader.GetString(0), Timestamps.Parse(reader.IsDBNull(1) ? null : reader.GetString(1))));
        return jobs;
    }

    /// <summary>Records the remote job; only from Created, so adopting twice (two recoveries) is harmless.</summary>
    public static void MarkSubmitted(SqliteConnection connection, string jobId, string remoteName, string? inputFile) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET remote_name = $remote, input_file = COALESCE($file, input_file), status = 'Submitted',
                submitted_at = $now, updated_at = $now, error_message = NULL
            WHERE id = $id AND status = 'Created'
            """, ("$remote", remoteName), ("$file", inputFile), ("$now", Timestamps.Now()), ("$id", jobId));

    public static void MarkRunning(SqliteConnection connection, string jobId) =>
        Sql.Execute(connection, "UPDATE batch_jobs SET status = 'Running', updated_at = $now WHERE id = $id AND status = 'Submitted'",
            ("$now", Timestamps.Now()), ("$id", jobId));

    /// <summary>
    /// Ends a job without results and puts its chunks back to Pending with the reason; they keep the job's id,
    /// as every chunk keeps the id of the job it was last sent in. With <paramref name="maxRetries"/> (a remote
    /// job that ended without results) that counts as a retry, and a chunk past the budget is Failed: a job
    /// that always fails is not resubmitted forever. The job's counters take the outcome, and the results it produced before it
    /// ended are billed in the spend ledger. Guarded by the job's
    /// status (and, for recovery, by its lease still being expired, so a flush that renewed it meanwhile keeps
    /// it): two processes doing it give one outcome. Returns false when the job had already ended or was renewed.
    /// </summary>
    public static bool EndWithoutResults(SqliteConnection connection, string jobId, BatchJobStatus status, string reason,
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
            SpendLedger.RecordBatchJob(connection, jobId); // the results it produced before it ended
            ForgetFormerChunks(connection, jobId);
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

    /// <summary>
    /// Sets the final status from the counters (Completed, CompletedWithErrors, or Failed when nothing succeeded) and records
    /// the job's spend in the same transaction, so it is billed once however many syncs finish it; false when already final.
    /// </summary>
    public static bool Finish(SqliteConnection connection, string jobId, string? inputFile, string? outputFile, SyncStats stats)
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
            SpendLedger.RecordBatchJob(connection, jobId);
            ForgetFormerChunks(connection, jobId);
        }

        transaction.Commit();
        return finished;
    }

    /// <summary>Which chunks left a job matters only while its results may still be applied: not once it has ended.</summary>
    private static void ForgetFormerChunks(SqliteConnection connection, string jobId) =>
        Sql.Execute(connection, "DELETE FROM batch_job_former_chunks WHERE batch_job_id = $id", ("$id", jobId));

    /// <summary>Ended jobs whose remote input and output files may still exist (their deletion failed or never ran).</summary>
    public static List<(string Id, string? InputFile, string? OutputFile)> JobsWithRemoteFilesLeft(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, input_file, output_file FROM batch_jobs WHERE remote_files_left = 1 ORDER BY created_at, id";
        using var reader = command.ExecuteReader();
        var jobs = new List<(string, string?, string?)>();
        while (reader.Read()) jobs.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        return jobs;
    }

    public static void MarkRemoteFilesDeleted(SqliteConnection connection, string jobId) =>
        Sql.Execute(connection, "UPDATE batch_jobs SET remote_files_left = 0 WHERE id = $id", ("$id", jobId));

    public static BatchJob? Find(SemanticIndex index, string jobId) => Query(index, "WHERE id = $id", ("$id", jobId)).FirstOrDefault();

    public static IEnumerable<BatchJob> Query(SemanticIndex index, string where, params (string Name, object? Value)[] parameters)
    {
        using var command = index.Connection.CreateCommand();
        command.CommandText = $"SELECT {JobColumns} FROM batch_jobs {where} ORDER BY created_at, id";
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return Read(reader, index);
    }

    private static BatchJob Read(SqliteDataReader r, SemanticIndex index)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var stats = Text(11) is { } json ? JsonSerializer.Deserialize<Dictionary<string, long>>(json) ?? [] : [];
        long Stat(string key) => stats.TryGetValue(key, out var value) ? value : 0;
        var settings = new IndexSettings(Enum.Parse<EmbeddingProviderKind>(r.GetString(3)), r.GetString(4), r.GetInt32(5));
        var tokens = r.GetInt64(10);
        return new BatchJob
        {
            Id = r.GetString(0),
            RemoteName = Text(1),
            State = Enum.Parse<BatchJobStatus>(r.GetString(2)),
            Provider = r.GetString(3),
            Model = r.GetString(4),
            Dimensions = r.GetInt32(5),
            Requests = r.GetInt64(6),
            Succeeded = r.GetInt64(7),
            Failed = r.GetInt64(8),
            Retried = r.GetInt64(9),
            Tokens = tokens,
            EstimatedTokens = Stat("estimatedTokens"),
            EstimatedCost = Pricing.Cost(settings, tokens > 0 ? tokens : Stat("estimatedTokens"), batch: true),
            InteractiveCost = Pricing.Cost(settings, tokens > 0 ? tokens : Stat("estimatedTokens"), batch: false),
            UnknownKeys = Stat("unknownKeys"),
            DuplicateKeys = Stat("duplicateKeys"),
            MalformedLines = Stat("malformedLines"),
            InputFile = Text(12),
            OutputFile = Text(13),
            ErrorMessage = Text(14),
            CreatedAt = Timestamps.ParseUtc(Text(15)),
            SubmittedAt = Timestamps.ParseUtcOrNull(Text(16)),
            CompletedAt = Timestamps.ParseUtcOrNull(Text(17)),
            UpdatedAt = Timestamps.ParseUtcOrNull(Text(18)),
            Removed = r.GetInt64(19),
            Database = index.DatabasePath,
        };
    }
}
