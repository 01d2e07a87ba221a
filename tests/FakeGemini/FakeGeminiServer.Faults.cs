using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FakeGemini;

/// <summary>The call paths of the API, as the fault plan counts them.</summary>
public enum PathKind
{
    /// <summary>POST models/{m}:batchEmbedContents or :embedContent (interactive embeddings).</summary>
    Embed,
    UploadStart,
    /// <summary>POST upload session with "upload" and/or "finalize".</summary>
    UploadChunk,
    /// <summary>POST upload session with "query" (how much the session holds).</summary>
    UploadQuery,
    FileGet,
    FileList,
    FileDelete,
    Download,
    BatchCreate,
    BatchGet,
    BatchList,
    BatchCancel,
    BatchDelete,
    Other,
}

/// <summary>What the network or the service does to one request instead of a plain answer.</summary>
public enum FaultKind
{
    /// <summary>429 RESOURCE_EXHAUSTED with QuotaFailure (per minute) and RetryInfo; nothing done.</summary>
    RateLimited429,
    /// <summary>500 INTERNAL, the API's JSON; nothing done.</summary>
    Internal500,
    /// <summary>503 UNAVAILABLE ("The model is overloaded"), the API's JSON; nothing done.</summary>
    Unavailable503,
    /// <summary>A gateway's 504 HTML page before the request reached the service.</summary>
    GatewayTimeout504,
    /// <summary>A gateway's 408 HTML page (the request body came too slowly); nothing done.</summary>
    RequestTimeout408,
    /// <summary>A proxy's 502 HTML error page; nothing done.</summary>
    ProxyErrorPage,
    /// <summary>The connection is reset before the service saw the request.</summary>
    ResetBeforeAnswer,
    /// <summary>The service did the work, then the connection was reset: the answer is lost.</summary>
    LostReply,
    /// <summary>The service did the work, then a gateway gave up waiting and answered 504 (HTML).</summary>
    GatewayTimeoutAfterWork,
    /// <summary>The service did the work and answered, but half the body never came (Content-Length promised more).</summary>
    CutShort,
    /// <summary>The answer comes, late but within the client's timeout.</summary>
    SlowAnswer,
}

/// <summary>One fault the plan injected.</summary>
public sealed record InjectedFault(long Sequence, PathKind Path, FaultKind Kind, string Method, string Target);

/// <summary>
/// A seeded plan of network and service faults: for each request the fake receives, a seeded
/// <see cref="Random"/> (drawn under the server's lock, so one seed gives one sequence of decisions for one
/// sequence of requests) decides whether to inject a fault and which one, among those that fit the call
/// path. It records what it injected. Assign it to <see cref="FakeGeminiServer.Faults"/>; set
/// <see cref="Enabled"/> to false to let the service heal while keeping the records.
/// </summary>
public sealed class FaultPlan(int seed, double probability)
{
    private static readonly FaultKind[] Everywhere =
    [
        FaultKind.RateLimited429, FaultKind.Internal500, FaultKind.Unavailable503, FaultKind.GatewayTimeout504, FaultKind.RequestTimeout408,
        FaultKind.ProxyErrorPage, FaultKind.ResetBeforeAnswer, FaultKind.LostReply, FaultKind.GatewayTimeoutAfterWork, FaultKind.SlowAnswer,
    ];

    private readonly Random random = new(seed);
    private readonly object gate = new();
    private readonly List<InjectedFault> injected = [];
    private readonly Dictionary<PathKind, int> requests = [];
    private readonly Dictionary<PathKind, (FaultKind Kind, int Left)> outages = [];
    private long sequence;
    private volatile bool enabled = true;

    public int Seed { get; } = seed;

    /// <summary>Chance that a request gets a fault (0..1).</summary>
    public double Probability { get; } = probability is >= 0 and <= 1 ? probability : throw new ArgumentOutOfRangeException(nameof(probability));

    /// <summary>Per call path chances that replace <see cref="Probability"/> (rare paths need more to be hit at all).</summary>
    public Dictionary<PathKind, double> ProbabilityFor { get; } = [];

    /// <summary>
    /// Chance that a fault is the start of an outage: the same fault then meets the next 1 to <see cref="MaxOutage"/>
    /// requests of that call path as well, so that retries run out and commands fail, as they do in a real outage.
    /// </summary>
    public double OutageChance { get; init; }

    /// <summary>The longest run of requests an outage adds after its first fault.</summary>
    public int MaxOutage { get; init; } = 6;

    /// <summary>How late a <see cref="FaultKind.SlowAnswer"/> comes (keep it under the client's timeout).</summary>
    public TimeSpan SlowAnswer { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>RetryInfo.retryDelay of an injected 429, as the service writes it ("37s").</summary>
    public string QuotaRetryDelay { get; init; } = "1s";

    /// <summary>False: every request is answered plainly (the records stay).</summary>
    public bool Enabled { get => enabled; set => enabled = value; }

    public IReadOnlyList<InjectedFault> Injected { get { lock (gate) return injected.ToArray(); } }

    /// <summary>Requests seen per call path while the plan was enabled.</summary>
    public IReadOnlyDictionary<PathKind, int> Requests { get { lock (gate) return new Dictionary<PathKind, int>(requests); } }

    /// <summary>Faults injected, per call path and kind.</summary>
    public IReadOnlyDictionary<PathKind, IReadOnlyDictionary<FaultKind, int>> InjectedByPath()
    {
        lock (gate)
        {
            return injected.GroupBy(f => f.Path).ToDictionary(g => g.Key,
                g => (IReadOnlyDictionary<FaultKind, int>)g.GroupBy(f => f.Kind).ToDictionary(k => k.Key, k => k.Count()));
        }
    }

    /// <summary>"Embed: 3 (LostReply 1, Internal500 2); ..." for test output.</summary>
    public string Describe() => string.Join("; ", InjectedByPath().OrderBy(p => p.Key).Select(p =>
        $"{p.Key}: {p.Value.Values.Sum()} ({string.Join(", ", p.Value.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))})"));

    /// <summary>Called under the server's lock, once per request, in arrival order.</summary>
    internal FaultKind? Decide(PathKind path, string method, string target)
    {
        if (!enabled) return null;
        lock (gate)
        {
            requests[path] = requests.GetValueOrDefault(path) + 1;
            var chance = ProbabilityFor.TryGetValue(path, out var p) ? p : Probability;
            // The same draws for every request, fault or not, so that one decision never shifts the ones after it.
            var roll = random.NextDouble();
            var pick = random.Next(int.MaxValue);
            var outage = random.NextDouble();
            var length = random.Next(1, MaxOutage + 1);
            FaultKind kind;
            if (outages.TryGetValue(path, out var ongoing) && ongoing.Left > 0)
            {
                kind = ongoing.Kind;
                outages[path] = (kind, ongoing.Left - 1);
            }
            else
            {
                if (roll >= chance) return null;
                var kinds = Fitting(path);
                kind = kinds[pick % kinds.Count];
                if (outage < OutageChance) outages[path] = (kind, length);
            }

            injected.Add(new InjectedFault(++sequence, path, kind, method, target));
            return kind;
        }
    }

    /// <summary>A body cut short needs a body: answers without one (upload start, middle chunks) get the others.</summary>
    private static List<FaultKind> Fitting(PathKind path)
    {
        var kinds = new List<FaultKind>(Everywhere);
        if (path is not (PathKind.UploadStart or PathKind.UploadQuery)) kinds.Add(FaultKind.CutShort);
        return kinds;
    }
}

/// <summary>An interactive embedding the fake carried out (and the service would bill), and whether its answer reached the client.</summary>
public sealed record InteractiveEmbedding(string Text, bool Delivered);

public sealed partial class FakeGeminiServer
{
    private FaultPlan? _faults;
    private readonly List<InteractiveEmbedding> _interactiveEmbeddings = [];

    /// <summary>Seeded faults on every request (null: none). See <see cref="FaultPlan"/>.</summary>
    public FaultPlan? Faults { get => Read(ref _faults); set => Write(ref _faults, value); }

    /// <summary>Every text embedded by <c>batchEmbedContents</c> / <c>embedContent</c> calls that were carried out.</summary>
    public IReadOnlyList<InteractiveEmbedding> InteractiveEmbeddings { get { lock (_gate) return _interactiveEmbeddings.ToArray(); } }

    public static PathKind PathKindOf(string method, string path, string query, string? uploadCommand)
    {
        if (path == "/upload/v1beta/files")
        {
            if (!query.Contains("upload_id=", StringComparison.Ordinal)) return PathKind.UploadStart;
            return uploadCommand?.Contains("query", StringComparison.OrdinalIgnoreCase) == true ? PathKind.UploadQuery : PathKind.UploadChunk;
        }

        if (FileDownloadPath().IsMatch(path)) return PathKind.Download;
        if (path == "/v1beta/files") return PathKind.FileList;
        if (FilePath().IsMatch(path)) return method == "DELETE" ? PathKind.FileDelete : PathKind.FileGet;
        if (path.EndsWith(":batchEmbedContents", StringComparison.Ordinal) || path.EndsWith(":embedContent", StringComparison.Ordinal)) return PathKind.Embed;
        if (path.EndsWith(":asyncBatchEmbedContent", StringComparison.Ordinal)) return PathKind.BatchCreate;
        if (path == "/v1beta/batches") return PathKind.BatchList;
        if (BatchCancelPath().IsMatch(path)) return PathKind.BatchCancel;
        if (BatchPath().IsMatch(path)) return method == "DELETE" ? PathKind.BatchDelete : PathKind.BatchGet;
        return PathKind.Other;
    }

    /// <summary>Routes the request through the fault plan: a fault before the work, instead of it, or after it.</summary>
    private async Task RouteWithFaultsAsync(HttpContext context, byte[] body, CancellationToken aborted)
    {
        var request = context.Request;
        var path = PathKindOf(request.Method, request.Path.Value ?? "/", request.QueryString.Value ?? "", request.Headers["X-Goog-Upload-Command"].ToString());
        FaultKind? fault;
        FaultPlan? plan;
        lock (_gate)
        {
            plan = _faults;
            fault = plan?.Decide(path, request.Method, request.Path.Value + request.QueryString.Value);
        }

        switch (fault)
        {
            case null:
                await RouteAndRecordAsync(context, body, path, delivered: true);
                return;
            case FaultKind.RateLimited429:
                throw FakeApiError.Injected(429, plan!.QuotaRetryDelay, perDayQuota: false);
            case FaultKind.Internal500:
                throw FakeApiError.Injected(500, null, perDayQuota: false);
            case FaultKind.Unavailable503:
                throw FakeApiError.Injected(503, null, perDayQuota: false);
            case FaultKind.GatewayTimeout504:
                await WriteHtmlAsync(context, 504, GatewayTimeoutPage);
                return;
            case FaultKind.RequestTimeout408:
                await WriteHtmlAsync(context, 408, RequestTimeoutPage);
                return;
            case FaultKind.ProxyErrorPage:
                await WriteHtmlAsync(context, 502, BadGatewayPage);
                return;
            case FaultKind.ResetBeforeAnswer:
                context.Abort();
                return;
            case FaultKind.SlowAnswer:
                await Task.Delay(plan!.SlowAnswer, aborted);
                await RouteAndRecordAsync(context, body, path, delivered: true);
                return;
        }

        // The work is done; what it answered is held back and then lost, replaced, or cut.
        var response = context.Response;
        var wire = response.Body;
        using var held = new MemoryStream();
        response.Body = held;
        try
        {
            try
            {
                await RouteAndRecordAsync(context, body, path, delivered: false);
            }
            catch (FakeApiError error)
            {
                response.StatusCode = error.Code;
                await WriteJsonAsync(context, error.ToJson(WrapErrorsInArray));
            }
        }
        finally
        {
            response.Body = wire;
        }

        switch (fault)
        {
            case FaultKind.LostReply:
                context.Abort();
                return;
            case FaultKind.GatewayTimeoutAfterWork:
                response.Clear();
                await WriteHtmlAsync(context, 504, GatewayTimeoutPage);
                return;
            default: // CutShort: the headers promise the whole answer, half of it comes, and the connection drops.
                var answer = held.ToArray();
                response.ContentLength = answer.Length;
                if (answer.Length > 1)
                {
                    await wire.WriteAsync(answer.AsMemory(0, answer.Length / 2), aborted);
                    await wire.FlushAsync(aborted);
                }

                context.Abort();
                return;
        }
    }

    private async Task RouteAndRecordAsync(HttpContext context, byte[] body, PathKind path, bool delivered)
    {
        await RouteAsync(context, body);
        if (path != PathKind.Embed) return;
        // Carried out (the route threw nothing): the service bills these texts, whether or not the answer arrives.
        var json = ParseObject(body);
        var texts = Field(json, "requests") is JsonArray requests
            ? requests.Select(r => RequestText((JsonObject)r!)!).ToList()
            : [RequestText(json)!];
        lock (_gate) _interactiveEmbeddings.AddRange(texts.Select(t => new InteractiveEmbedding(t, delivered)));
    }

    private static async Task WriteHtmlAsync(HttpContext context, int status, string page)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=UTF-8";
        await context.Response.WriteAsync(page);
    }

    private const string GatewayTimeoutPage =
        "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 504 (Gateway Timeout)!!1</title>" +
        "<p><b>504.</b> <ins>That’s an error.</ins><p>The server did not answer in time. <ins>That’s all we know.</ins></html>";

    private const string RequestTimeoutPage =
        "<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 408 (Request Timeout)!!1</title>" +
        "<p><b>408.</b> <ins>That’s an error.</ins><p>Your client has taken too long to issue its request. <ins>That’s all we know.</ins></html>";

    private const string BadGatewayPage =
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
}
