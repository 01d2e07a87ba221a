using Microsoft.Data.Sqlite;
using SemanticCore.Embedding;
using SemanticCore.Gemini;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Batches;

/// <summary>
/// Applies a job's output lines to its chunks, a bounded group per transaction. Every change is
/// guarded by "this chunk is still Submitted in this job", and the job's counters grow in the same
/// transaction by exactly the rows changed: applying the same output twice, or from two processes
/// at once, leaves the same state and the same counts. Unknown and duplicate keys are facts of the
/// output file (a key that is no chunk of this job; a key seen before in the file).
/// </summary>
internal sealed class ResultApplier(SemanticIndex index, string jobId, int maxRetries)
{
    public const string MissingMessage = "Missing from the batch output";

    private readonly HashSet<long> seen = [];
    private long unknown;
    private long duplicate;
    private long malformed;

    public SyncStats Stats(long estimatedTokens) => new(unknown, duplicate, malformed, estimatedTokens);

    public void Apply(IReadOnlyList<BatchOutputLine> lines)
    {
        var connection = index.Connection;
        using var transaction = connection.BeginTransaction();
        var now = Timestamps.Now();
        using var ready = Command(connection, now, "UPDATE chunks SET embedding_status = 'Ready', error_message = NULL, updated_at = $now WHERE id = $chunk AND batch_job_id = $job AND embedding_status = 'Submitted'");
        using var fail = Command(connection, now, "UPDATE chunks SET embedding_status = 'Failed', error_message = $message, updated_at = $now WHERE id = $chunk AND batch_job_id = $job AND embedding_status = 'Submitted'");
        using var retry = RetryCommand(connection, now, "id = $chunk AND batch_job_id = $job AND embedding_status = 'Submitted'");
        using var vector = VectorStore.CreateInsert(connection, index.Settings, now);
        long succeeded = 0, failed = 0, retried = 0, tokens = 0;

        foreach (var line in lines)
        {
            if (line.IsMalformed)
            {
                malformed++; // its chunk, if any, is caught as missing at the end
                continue;
            }

            if (!long.TryParse(line.Key, out var chunkId))
            {
                unknown++;
                continue;
            }

            if (!seen.Add(chunkId))
            {
                duplicate++;
                continue;
            }

            int changed;
            if (line.IsSuccess && line.Values!.Length != index.Settings.Dimensions)
            {
                changed = Run(fail, chunkId, $"The service returned {line.Values.Length} dimensions; the index uses {index.Settings.Dimensions}.");
                failed += changed;
            }
            else if (line.IsSuccess)
            {
                changed = Run(ready, chunkId, null);
                if (changed == 1)
                {
                    VectorStore.Insert(vector, chunkId, Vectors.Normalize(line.Values!));
                    succeeded++;
                    tokens += line.TokenCount ?? 0;
                }
            }
            else if (line.IsRetriable)
            {
                var (toPending, toFailed) = RunRetry(retry, chunkId, Describe(line));
                (changed, retried, failed) = (toPending + toFailed, retried + toPending, failed + toFailed);
            }
            else
            {
                changed = Run(fail, chunkId, Describe(line));
                failed += changed;
            }

            if (changed == 0) Classify(chunkId);
        }

        AddCounts(connection, now, succeeded, failed, retried, tokens);
        transaction.Commit();
    }

    /// <summary>Chunks the output never mentioned are retried like a retriable error.</summary>
    public void ApplyMissing()
    {
        var connection = index.Connection;
        using var transaction = connection.BeginTransaction();
        var now = Timestamps.Now();
        using var retry = RetryCommand(connection, now, "batch_job_id = $job AND embedding_status = 'Submitted'");
        var (toPending, toFailed) = RunRetry(retry, null, MissingMessage);
        AddCounts(connection, now, 0, toFailed, toPending, 0);
        transaction.Commit();
    }

    private void Classify(long chunkId)
    {
        // A chunk of this job that is already settled was applied by another sync (or an earlier run), one
        // removed while the job held it is counted by the job's Removed, and one that left the job since (retried
        // and claimed by a later job, or deleted) was counted when it was settled: none is an oddity of the output,
        // and leaving them out keeps the counts the same however many syncs ran.
        var known = (long)Sql.Scalar(index.Connection, """
            SELECT EXISTS (SELECT 1 FROM chunks WHERE id = $chunk AND batch_job_id = $job)
                OR EXISTS (SELECT 1 FROM batch_job_removed_chunks WHERE chunk_id = $chunk AND batch_job_id = $job)
                OR EXISTS (SELECT 1 FROM batch_job_former_chunks WHERE chunk_id = $chunk AND batch_job_id = $job)
            """, ("$chunk", chunkId), ("$job", jobId))!;
        if (known == 0) unknown++;
    }

    private SqliteCommand Command(SqliteConnection connection, string now, string sql)
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
    private SqliteCommand RetryCommand(SqliteConnection connection, string now, string where)
    {
        var command = Command(connection, now, $"""
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

    private void AddCounts(SqliteConnection connection, string now, long succeeded, long failed, long retried, long tokens) =>
        Sql.Execute(connection, """
            UPDATE batch_jobs SET succeeded_count = succeeded_count + $s, failed_count = failed_count + $f,
                retried_count = retried_count + $r, token_count = token_count + $t, updated_at = $now
            WHERE id = $job
            """, ("$s", succeeded), ("$f", failed), ("$r", retried), ("$t", tokens), ("$now", now), ("$job", jobId));

    /// <summary>"429 RESOURCE_EXHAUSTED: Quota exceeded ..." — the API's own words, for triage with Where-Object.</summary>
    private static string Describe(BatchOutputLine line) =>
        string.Join(" ", new[] { line.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture), line.ErrorStatus }.Where(s => !string.IsNullOrEmpty(s)))
        + ": " + (string.IsNullOrWhiteSpace(line.ErrorMessage) ? "the service reported an error without a message" : line.ErrorMessage);
}
