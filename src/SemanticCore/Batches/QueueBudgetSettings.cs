using System.Globalization;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>The queue budget as an index's setting values record it, one key per figure, for every process and host.</summary>
internal static class QueueBudgetSettings
{
    private const string LimitKey = "batch_queue_token_limit";
    private const string LearnedLimitKey = "batch_queue_token_learned";
    private const string LearnedJobTokensKey = "batch_job_token_learned";
    private const string RefusedTokensKey = "batch_queue_token_refused";
    private const string RefusedAtKey = "batch_queue_token_refused_at";

    /// <summary>The budget the values record, as it holds now.</summary>
    public static QueueBudget Read(ISettingValues values)
    {
        // A value edited into something else is ignored, as if never recorded: the budget is a hint, never a reason to fail.
        long? Get(string key) => long.TryParse(values.Get(key), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;
        return new QueueBudget
        {
            Limit = Get(LimitKey),
            LearnedLimit = Get(LearnedLimitKey),
            LearnedJobTokens = Get(LearnedJobTokensKey),
            RefusedTokens = Get(RefusedTokensKey),
            RefusedAt = Timestamps.Parse(values.Get(RefusedAtKey)),
        }.AsOf(DateTimeOffset.UtcNow);
    }

    /// <summary>Records <paramref name="budget"/> in the values; a figure it lacks removes its key.</summary>
    public static void Write(ISettingValues values, QueueBudget budget)
    {
        foreach (var (key, value) in new[] { (LimitKey, budget.Limit), (LearnedLimitKey, budget.LearnedLimit), (LearnedJobTokensKey, budget.LearnedJobTokens), (RefusedTokensKey, budget.RefusedTokens) })
        {
            values.Set(key, value?.ToString(CultureInfo.InvariantCulture));
        }

        values.Set(RefusedAtKey, budget.RefusedAt is { } at ? Timestamps.ToText(at) : null);
    }
}
