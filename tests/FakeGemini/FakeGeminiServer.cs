using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FakeGemini;

/// <summary>
/// A loopback fake of the Gemini REST API v1beta: resumable upload and files, batch embedding jobs,
/// interactive embeddings. It speaks the real wire format (paths, headers, camelCase proto-JSON with
/// int64 as strings, operation envelopes, error bodies with details) and lets tests shape its
/// behaviour (knobs) and inspect what it received (records). Everything is thread-safe.
/// </summary>
public sealed partial class FakeGeminiServer : IAsyncDisposable
{
    /// <summary>The key accepted unless <see cref="ValidKeys"/> is changed.</summary>
    public const string DefaultKey = "fake-gemini-key-0123456789";

    private const string ApiKeyHeader = "x-goog-api-key";

    private readonly object _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Dictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UploadSession> _uploads = new(StringComparer.Ordinal);
    private readonly List<Job> _jobs = [];
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<string> _deletedFiles = [];
    private readonly Dictionary<string, byte[]> _uploadedFiles = new(StringComparer.Ordinal);
    private readonly List<FailureRule> _failures = [];
    private WebApplication _app = null!;
    private int _batchCreateCount;
    private long _nextId;

    private IReadOnlySet<string> _validKeys = new HashSet<string>(StringComparer.Ordinal) { DefaultKey };
    private int _pollsUntilRunning;
    private int _pollsUntilDone = 1;
    private bool _autoComplete = true;
    private Func<string, string, LineOutcome>? _lineOutcomeFor;
    private int _extraUnknownKeys;
    private bool _shuffleOutput;
    private bool _truncateLastLine;
    private int _malformedLines;
    private TimeSpan _responseDelay;
    private bool _crashAfterCreate;
    private (int Status, string Body)? _answerAfterCreate;
    private bool _wrapErrorsInArray;

    private FakeGeminiServer()
    {
    }

    /// <summary>http://127.0.0.1:{port} (no trailing path).</summary>
    public Uri Endpoint { get; private set; } = null!;

    public static async Task<FakeGeminiServer> StartAsync()
    {
        var server = new FakeGeminiServer();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders(); // tests stay silent
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = null; // upload chunks are 8 MiB
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server._app = app;
        server.Endpoint = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync(); // ends pending ResponseDelay waits at once
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    // ---------------------------------------------------------------- knobs

    /// <summary>Keys accepted in the x-goog-api-key header (a copy is kept; replace the set to change it).</summary>
    public IReadOnlySet<string> ValidKeys
    {
        get { lock (_gate) return _validKeys; }
        set { lock (_gate) _validKeys = new HashSet<string>(value, StringComparer.Ordinal); }
    }

    /// <summary>GETs of a job that still see PENDING: GET number n sees RUNNING once n &gt; PollsUntilRunning (default 0).</summary>
    public int PollsUntilRunning { get => Read(ref _pollsUntilRunning); set => Write(ref _pollsUntilRunning, value); }

    /// <summary>
    /// GETs that see RUNNING before the job succeeds: GET number n sees SUCCEEDED once
    /// n &gt; PollsUntilRunning + PollsUntilDone (default 1: the 1st GET sees RUNNING, the 2nd SUCCEEDED).
    /// </summary>
    public int PollsUntilDone { get => Read(ref _pollsUntilDone); set => Write(ref _pollsUntilDone, value); }

    /// <summary>When false, jobs never finish by polling; use Complete/Fail/Cancel/Expire.</summary>
    public bool AutoComplete { get => Read(ref _autoComplete); set => Write(ref _autoComplete, value); }

    /// <summary>Outcome of each input line (key, text) when a job completes; null = all Success.</summary>
    public Func<string, string, LineOutcome>? LineOutcomeFor { get => Read(ref _lineOutcomeFor); set => Write(ref _lineOutcomeFor, value); }

    /// <summary>Success lines added to the output with keys that were never sent ("unknown-0", ...).</summary>
    public int ExtraUnknownKeys { get => Read(ref _extraUnknownKeys); set => Write(ref _extraUnknownKeys, value); }

    /// <summary>Output lines in a (deterministically) shuffled order.</summary>
    public bool ShuffleOutput { get => Read(ref _shuffleOutput); set => Write(ref _shuffleOutput, value); }

    /// <summary>The output's last line cut in half, with no newline (a download cut short).</summary>
    public bool TruncateLastLine { get => Read(ref _truncateLastLine); set => Write(ref _truncateLastLine, value); }

    /// <summary>Garbage lines inserted into the output, spread evenly.</summary>
    public int MalformedLines { get => Read(ref _malformedLines); set => Write(ref _malformedLines, value); }

    /// <summary>Wait before handling every request (slow server, timeouts, cancellation).</summary>
    public TimeSpan ResponseDelay { get => Read(ref _responseDelay); set => Write(ref _responseDelay, value); }

    /// <summary>A create-batch request creates the job, then the connection is aborted without an answer.</summary>
    public bool CrashAfterCreate { get => Read(ref _crashAfterCreate); set => Write(ref _crashAfterCreate, value); }

    /// <summary>
    /// The job is made, and then something in between answers with this status and body instead of the
    /// service (a gateway's 408 after a slow create, a proxy's HTML error page).
    /// </summary>
    public (int Status, string Body)? AnswerAfterCreate { get { lock (_gate) return _answerAfterCreate; } set { lock (_gate) _answerAfterCreate = value; } }

    /// <summary>How many upload chunks (from the next one on) are stored but have their reply lost.</summary>
    public int LoseUploadReplies { get { lock (_gate) return _loseUploadReplies; } set { lock (_gate) _loseUploadReplies = value; } }

    private int _loseUploadReplies;

    private bool TakeLostUploadReply()
    {
        lock (_gate)
        {
            if (_loseUploadReplies <= 0) return false;
            _loseUploadReplies--;
            return true;
        }
    }

    /// <summary>Downloads send half the file and then stall, the connection open and silent.</summary>
    public bool StallDownloads { get; set; }

    /// <summary>
    /// Runs with every request once it is recorded, before it is answered (the client waits meanwhile): lets a test
    /// look at what the client holds while a call is in flight (its temporary files, its open index). It must not throw.
    /// </summary>
    public Action<RecordedRequest>? OnRequest { get => Read(ref _onRequest); set => Write(ref _onRequest, value); }

    private Action<RecordedRequest>? _onRequest;

    /// <summary>Error bodies wrapped in a one-element array, as the API sometimes does.</summary>
    public bool WrapErrorsInArray { get => Read(ref _wrapErrorsInArray); set => Write(ref _wrapErrorsInArray, value); }

    /// <summary>
    /// The next <paramref name="count"/> requests whose path+query contains <paramref name="pathContains"/>
    /// get <paramref name="status"/> with the real error body: 429 with QuotaFailure (per minute, or per day)
    /// and RetryInfo when <paramref name="retryDelay"/> is given ("37s"), 503 UNAVAILABLE, etc.
    /// </summary>
    /// <param name="after">Matching requests that pass first: the failure starts with the next one.</param>
    public void FailNextRequests(string pathContains, int count, int status, string? retryDelay = null, bool perDayQuota = false, int after = 0)
    {
        lock (_gate) _failures.Add(new FailureRule(pathContains, status, retryDelay, perDayQuota) { Remaining = count, Skip = after });
    }

    /// <summary>
    /// The next <paramref name="count"/> requests whose path+query contains <paramref name="pathContains"/> are answered
    /// by something in between (a proxy, a gateway) instead of the service: <paramref name="status"/>, with the body
    /// <paramref name="body"/> makes of the request (a debugging proxy may echo it, headers included), and the headers
    /// <paramref name="headers"/> makes of it (a redirect's Location).
    /// </summary>
    public void AnswerNextRequests(string pathContains, int count, int status, Func<RecordedRequest, string> body, string contentType = "text/plain",
        Func<RecordedRequest, IReadOnlyDictionary<string, string>>? headers = null)
    {
        lock (_gate) _answers.Add(new AnswerRule(pathContains, status, body, contentType, headers) { Remaining = count });
    }

    private readonly List<AnswerRule> _answers = [];

    private AnswerRule? TakeAnswer(HttpRequest request)
    {
        var target = request.Path.Value + request.QueryString.Value;
        lock (_gate)
        {
            var rule = _answers.FirstOrDefault(r => r.Remaining > 0 && target.Contains(r.PathContains, StringComparison.Ordinal));
            if (rule is not null) rule.Remaining--;
            return rule;
        }
    }

    private sealed record AnswerRule(string PathContains, int Status, Func<RecordedRequest, string> Body, string ContentType,
        Func<RecordedRequest, IReadOnlyDictionary<string, string>>? Headers)
    {
        public int Remaining { get; set; }
    }

    // ---------------------------------------------------------------- records

    public IReadOnlyList<RecordedRequest> Requests { get { lock (_gate) return _requests.ToArray(); } }

    /// <summary>Content of every finalized upload, by file name.</summary>
    public IReadOnlyDictionary<string, byte[]> UploadedFiles { get { lock (_gate) return new Dictionary<string, byte[]>(_uploadedFiles); } }

    /// <summary>Jobs created (including those whose answer was lost by <see cref="CrashAfterCreate"/>).</summary>
    public int BatchCreateCount { get { lock (_gate) return _batchCreateCount; } }

    public IReadOnlyList<string> DeletedFiles { get { lock (_gate) return _deletedFiles.ToArray(); } }

    public IReadOnlyList<FakeBatchInfo> Batches { get { lock (_gate) return _jobs.Select(j => j.Info()).ToArray(); } }

    public IReadOnlyList<FakeFileInfo> Files { get { lock (_gate) return _files.Values.OrderBy(f => f.Sequence).Select(f => f.Info()).ToArray(); } }

    private T Read<T>(ref T field)
    {
        lock (_gate) return field;
    }

    private void Write<T>(ref T field, T value)
    {
        lock (_gate) field = value;
    }

    // ---------------------------------------------------------------- request pipeline

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var body = await ReadBodyAsync(request, context.RequestAborted);
        var recorded = Record(request, body);
        OnRequest?.Invoke(recorded);

        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            var delay = ResponseDelay;
            if (delay > TimeSpan.Zero) await Task.Delay(delay, aborted.Token);

            if (TakeAnswer(request) is { } answer)
            {
                context.Response.StatusCode = answer.Status;
                context.Response.ContentType = answer.ContentType;
                foreach (var (name, value) in answer.Headers?.Invoke(recorded) ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
                await context.Response.WriteAsync(answer.Body(recorded), aborted.Token);
                return;
            }

            if (TakeInjectedFailure(request) is { } injected) throw injected;
            if (!IsAuthorized(request)) throw FakeApiError.InvalidApiKey();
            if (TakeHold(request) is { } hold) await RouteHeldAsync(context, body, hold, aborted.Token);
            else await RouteWithFaultsAsync(context, body, aborted.Token); // Faults (FaultPlan) may act before, instead of or after the route
        }
        catch (FakeApiError error)
        {
            context.Response.StatusCode = error.Code;
            await WriteJsonAsync(context, error.ToJson(WrapErrorsInArray));
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away (or the fake is stopping): nothing to answer.
        }
    }

    private Task RouteAsync(HttpContext context, byte[] body)
    {
        var method = context.Request.Method;
        var path = context.Request.Path.Value ?? "/";
        Match m;
        if (path == "/upload/v1beta/files" && method == "POST")
            return context.Request.Query.ContainsKey("upload_id") ? UploadChunkAsync(context, body) : StartUploadAsync(context, body);
        if ((m = FileDownloadPath().Match(path)).Success && method == "GET") return DownloadFileAsync(context, m.Groups["id"].Value);
        if (path == "/v1beta/files" && method == "GET") return ListFilesAsync(context);
        if ((m = FilePath().Match(path)).Success)
        {
            if (method == "GET") return GetFileAsync(context, m.Groups["id"].Value);
            if (method == "DELETE") return DeleteFileAsync(context, m.Groups["id"].Value);
        }

        if ((m = ModelMethodPath().Match(path)).Success && method == "POST")
        {
            var model = m.Groups["model"].Value;
            return m.Groups["method"].Value switch
            {
                "batchEmbedContents" => BatchEmbedContentsAsync(context, model, body),
                "embedContent" => EmbedContentAsync(context, model, body),
                "asyncBatchEmbedContent" => CreateBatchAsync(context, model, body),
                _ => throw FakeApiError.NotFound($"Method {m.Groups["method"].Value} is not supported by the fake."),
            };
        }

        if (path == "/v1beta/batches" && method == "GET") return ListBatchesAsync(context);
        if ((m = BatchCancelPath().Match(path)).Success && method == "POST") return CancelBatchAsync(context, m.Groups["id"].Value);
        if ((m = BatchPath().Match(path)).Success)
        {
            if (method == "GET") return GetBatchAsync(context, m.Groups["id"].Value);
            if (method == "DELETE") return DeleteBatchAsync(context, m.Groups["id"].Value);
        }

        throw FakeApiError.NotFound($"{method} {path} is not a method of this API.");
    }

    [GeneratedRegex(@"^/(?:download/)?v1beta/files/(?<id>[A-Za-z0-9._-]+):download$")]
    private static partial Regex FileDownloadPath();

    [GeneratedRegex(@"^/v1beta/files/(?<id>[A-Za-z0-9._-]+)$")]
    private static partial Regex FilePath();

    [GeneratedRegex(@"^/v1beta/models/(?<model>[A-Za-z0-9._-]+):(?<method>[A-Za-z]+)$")]
    private static partial Regex ModelMethodPath();

    [GeneratedRegex(@"^/v1beta/batches/(?<id>[A-Za-z0-9._-]+):cancel$")]
    private static partial Regex BatchCancelPath();

    [GeneratedRegex(@"^/v1beta/batches/(?<id>[A-Za-z0-9._-]+)$")]
    private static partial Regex BatchPath();

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private RecordedRequest Record(HttpRequest request, byte[] body)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in request.Headers) headers[name] = values.ToString();
        var isJson = request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true
            && !request.Query.ContainsKey("upload_id"); // chunk bytes are data, whatever their type
        var recorded = new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", headers,
            isJson ? Encoding.UTF8.GetString(body) : null, body.LongLength, DateTimeOffset.UtcNow);
        lock (_gate) _requests.Add(recorded);
        return recorded;
    }

    private FakeApiError? TakeInjectedFailure(HttpRequest request)
    {
        var target = request.Path.Value + request.QueryString.Value;
        lock (_gate)
        {
            var rule = _failures.FirstOrDefault(r => r.Remaining > 0 && target.Contains(r.PathContains, StringComparison.Ordinal));
            if (rule is { Skip: > 0 })
            {
                rule.Skip--;
                rule = null;
            }

            if (rule is null) return null;
            rule.Remaining--;
            return FakeApiError.Injected(rule.Status, rule.RetryDelay, rule.PerDayQuota);
        }
    }

    /// <summary>The real service also takes ?key=; the fake records it and refuses it, so tests catch a client using it.</summary>
    private bool IsAuthorized(HttpRequest request)
    {
        if (request.Query.ContainsKey("key")) return false;
        var key = request.Headers[ApiKeyHeader].ToString();
        return key.Length > 0 && ValidKeys.Contains(key);
    }

    // ---------------------------------------------------------------- helpers

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    private static async Task WriteJsonAsync(HttpContext context, JsonNode body)
    {
        context.Response.ContentType = "application/json; charset=UTF-8";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body.ToJsonString(Compact)));
    }

    private static JsonObject ParseObject(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw FakeApiError.BadRequest("Invalid JSON payload received. Expected an object.");
        }
        catch (JsonException e)
        {
            throw FakeApiError.BadRequest($"Invalid JSON payload received. {e.Message}");
        }
    }

    /// <summary>proto-JSON accepts camelCase and snake_case names.</summary>
    private static JsonNode? Field(JsonObject? obj, string camel, string? snake = null) =>
        obj is null ? null : obj[camel] ?? (snake is null ? null : obj[snake]);

    private static string? StringField(JsonObject? obj, string camel, string? snake = null) =>
        Field(obj, camel, snake) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private string NewId()
    {
        var n = Interlocked.Increment(ref _nextId);
        return $"{n:x4}{Guid.NewGuid():N}"[..16];
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static int PageSize(HttpRequest request, int fallback) =>
        int.TryParse(request.Query["pageSize"], out var size) && size > 0 ? Math.Min(size, 1000) : fallback;

    /// <summary>Opaque page tokens, as the API's are: the next index in base64.</summary>
    private static int PageStart(HttpRequest request)
    {
        var token = request.Query["pageToken"].ToString();
        if (token.Length == 0) return 0;
        try
        {
            return int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(token)), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            throw FakeApiError.BadRequest("Invalid page token.");
        }
    }

    private static string PageToken(int next) => Convert.ToBase64String(Encoding.UTF8.GetBytes(next.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
