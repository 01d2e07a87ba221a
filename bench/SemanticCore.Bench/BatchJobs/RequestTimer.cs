using System.Diagnostics;

namespace SemanticCore.Bench.BatchJobs;

/// <summary>
/// Times each HTTP call the Gemini client makes (request sent to response headers read), by kind, so a flush's time
/// can be split into the client's own work and the time spent waiting for the loopback fake (which shares the
/// machine's cores with it and, on create, parses the whole uploaded input).
/// </summary>
internal sealed class RequestTimer() : DelegatingHandler(new SocketsHttpHandler())
{
    private readonly object gate = new();
    private readonly Dictionary<string, (int Count, double Ms)> byKind = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, (int Count, double Ms)> ByKind
    {
        get { lock (gate) return new Dictionary<string, (int, double)>(byKind); }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var kind = Kind(request.RequestUri);
            lock (gate) byKind[kind] = byKind.TryGetValue(kind, out var sum) ? (sum.Count + 1, sum.Ms + ms) : (1, ms);
        }
    }

    private static string Kind(Uri? uri)
    {
        var text = uri?.PathAndQuery ?? "";
        if (text.Contains("/upload/", StringComparison.Ordinal)) return text.Contains("upload_id=", StringComparison.Ordinal) ? "upload data" : "upload start";
        if (text.Contains(":asyncBatchEmbedContent", StringComparison.Ordinal)) return "create batch";
        return "other";
    }
}
