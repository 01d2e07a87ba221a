using SemanticCore.Embedding;
using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>
/// Sorts a job's output lines into what they say about its chunks (a vector, a failure, a retry) and hands them to the
/// job's result writer a page at a time (<see cref="IBatchResultWriter"/>: idempotent, one transaction per page). Unknown
/// and duplicate keys are facts of the output file (a key that is no chunk of this job; a key seen before in the file).
/// </summary>
internal sealed class ResultApplier(IBatchResultWriter writer, int dimensions)
{
    public const string MissingMessage = "Missing from the batch output";

    private readonly HashSet<long> seen = [];
    private long unknown;
    private long duplicate;
    private long malformed;

    public SyncStats Stats(long estimatedTokens) => new(unknown, duplicate, malformed, estimatedTokens);

    public void Apply(IReadOnlyList<BatchOutputLine> lines)
    {
        var vectors = new List<(long, float[], long)>();
        var failures = new List<(long, string)>();
        var retries = new List<(long, string)>();
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

            if (line.IsSuccess && line.Values!.Length != dimensions)
            {
                failures.Add((chunkId, $"The service returned {line.Values.Length} dimensions; the index uses {dimensions}."));
            }
            else if (line.IsSuccess)
            {
                vectors.Add((chunkId, Vectors.Normalize(line.Values!), line.TokenCount ?? 0));
            }
            else if (line.IsRetriable)
            {
                retries.Add((chunkId, Describe(line)));
            }
            else
            {
                failures.Add((chunkId, Describe(line)));
            }
        }

        // A chunk the job holds no more, or never held, changes nothing. One it did hold (already settled by another sync or
        // an earlier run, removed while the job held it, or retried and claimed by a later job) was counted when it was
        // settled: none is an oddity of the output, and leaving them out keeps the counts the same however many syncs ran.
        unknown += writer.Store(new ResultPage(vectors, failures, retries));
    }

    /// <summary>Chunks the output never mentioned are retried like a retriable error.</summary>
    public void ApplyMissing() => writer.RetryRest(MissingMessage);

    /// <summary>"429 RESOURCE_EXHAUSTED: Quota exceeded ..." — the API's own words, for triage with Where-Object.</summary>
    private static string Describe(BatchOutputLine line) =>
        string.Join(" ", new[] { line.ErrorCode?.ToString(System.Globalization.CultureInfo.InvariantCulture), line.ErrorStatus }.Where(s => !string.IsNullOrEmpty(s)))
        + ": " + (string.IsNullOrWhiteSpace(line.ErrorMessage) ? "the service reported an error without a message" : line.ErrorMessage);
}
