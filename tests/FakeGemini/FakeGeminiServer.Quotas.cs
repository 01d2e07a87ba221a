using System.Text;
using System.Text.Json.Nodes;

namespace FakeGemini;

/// <summary>
/// The Batch API's per-project limits on unfinished jobs: the enqueued-token cap (per model, set per tier and shown only in
/// AI Studio) and at most 100 unfinished jobs. Past either, the create is refused with the service's bare 429.
/// </summary>
public sealed partial class FakeGeminiServer
{
    private long? _enqueuedTokenLimit;
    private int _maxUnfinishedJobs = 100;
    private long _highestEnqueuedTokens;
    private int _queueFullRefusals;

    /// <summary>Tokens the unfinished (pending or running) jobs may hold together; null (the default): no cap.</summary>
    public long? EnqueuedTokenLimit { get { lock (_gate) return _enqueuedTokenLimit; } set { lock (_gate) _enqueuedTokenLimit = value; } }

    /// <summary>Unfinished jobs a project may have at once (the service's 100).</summary>
    public int MaxUnfinishedJobs { get => Read(ref _maxUnfinishedJobs); set => Write(ref _maxUnfinishedJobs, value); }

    /// <summary>The most tokens the unfinished jobs ever held together, counted as <see cref="CountTokens"/> does.</summary>
    public long HighestEnqueuedTokens { get { lock (_gate) return _highestEnqueuedTokens; } }

    /// <summary>Creates refused because the queue was full (tokens or jobs).</summary>
    public int QueueFullRefusals { get { lock (_gate) return _queueFullRefusals; } }

    /// <summary>The tokens the unfinished jobs hold now.</summary>
    public long EnqueuedTokens { get { lock (_gate) return _jobs.Where(j => !j.IsTerminal).Sum(j => j.Tokens); } }

    /// <summary>The keys (chunk ids) of each job's input, by job name; with <see cref="Batches"/> a test sees which job held which chunk.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> BatchKeys
    {
        get { lock (_gate) return _jobs.ToDictionary(j => j.Name, j => (IReadOnlyList<string>)j.Lines.Select(l => l.Key).ToArray()); }
    }

    /// <summary>
    /// The fake's token count: one per started 5 UTF-8 bytes, about what Gemini's tokenizer gives for English text and never
    /// more than the module's conservative estimate, so a budget kept in estimated tokens holds in the service's count too.
    /// </summary>
    public static long CountTokens(string text) => (Encoding.UTF8.GetByteCount(text) + 4) / 5;

    /// <summary>Refuses a new job of <paramref name="tokens"/> when the unfinished jobs are at a cap; else records the new total. Call under the gate.</summary>
    private void AdmitToQueue(long tokens)
    {
        var unfinished = _jobs.Where(j => !j.IsTerminal).ToList();
        var queued = unfinished.Sum(j => j.Tokens);
        if (unfinished.Count >= _maxUnfinishedJobs || (_enqueuedTokenLimit is { } limit && queued + tokens > limit))
        {
            _queueFullRefusals++;
            throw QueueFull();
        }

        _highestEnqueuedTokens = Math.Max(_highestEnqueuedTokens, queued + tokens);
    }

    /// <summary>
    /// The service's answer to a create past the enqueued-token cap: 429 RESOURCE_EXHAUSTED with only a Help link, no
    /// RetryInfo, no QuotaFailure and no Retry-After (as recorded from the real API).
    /// </summary>
    private static FakeApiError QueueFull() => new(429,
        "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: " +
        "https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. ",
        [
            new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.Help",
                ["links"] = new JsonArray { new JsonObject { ["description"] = "Learn more about Gemini API quotas", ["url"] = "https://ai.google.dev/gemini-api/docs/rate-limits" } },
            },
        ]);
}
