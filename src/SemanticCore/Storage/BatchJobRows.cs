using System.Data.Common;
using System.Text.Json;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>What every backend reads and bills the same way from a <c>batch_jobs</c> row.</summary>
internal static class BatchJobRows
{
    /// <summary>
    /// A job from a row of columns id, remote_name, status, provider, model, dimensions, request_count, succeeded_count,
    /// failed_count, retried_count, token_count, stats (JSON text), input_file, output_file, error_message, created_at,
    /// submitted_at, completed_at, updated_at and the count of removed chunks; <paramref name="time"/> reads a timestamp column as UTC.
    /// </summary>
    public static BatchJob Read(DbDataReader r, Func<int, DateTime?> time, string database)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var stats = Text(11) is { } json ? JsonSerializer.Deserialize<Dictionary<string, long>>(json) ?? [] : [];
        long Stat(string key) => stats.TryGetValue(key, out var value) ? value : 0;
        var jobSettings = new IndexSettings(Enum.Parse<EmbeddingProviderKind>(r.GetString(3)), r.GetString(4), r.GetInt32(5));
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
            EstimatedCost = Pricing.Cost(jobSettings, tokens > 0 ? tokens : Stat("estimatedTokens"), batch: true),
            InteractiveCost = Pricing.Cost(jobSettings, tokens > 0 ? tokens : Stat("estimatedTokens"), batch: false),
            UnknownKeys = Stat("unknownKeys"),
            DuplicateKeys = Stat("duplicateKeys"),
            MalformedLines = Stat("malformedLines"),
            InputFile = Text(12),
            OutputFile = Text(13),
            ErrorMessage = Text(14),
            CreatedAt = time(15) ?? DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc),
            SubmittedAt = time(16),
            CompletedAt = time(17),
            UpdatedAt = time(18),
            Removed = r.GetInt64(19),
            Database = database,
        };
    }

    /// <summary>
    /// The tokens an ending job is billed for: those the service reported, else the job's estimate for the share of its
    /// requests that produced a vector (rounded up).
    /// </summary>
    public static long BilledTokens(long reported, long estimated, long succeeded, long requests) =>
        reported > 0 ? reported : (estimated * Math.Min(succeeded, requests) + requests - 1) / Math.Max(requests, 1);
}
