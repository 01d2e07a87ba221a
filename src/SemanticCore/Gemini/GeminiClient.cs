using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace SemanticCore.Gemini;

/// <summary>
/// A small hand-written client of the Gemini REST API v1beta (see docs: gemini-api.md): interactive
/// embeddings, the Files API (resumable upload) and batch jobs. The caller owns the HttpClient.
/// Every call takes a CancellationToken that also interrupts retry waits; each attempt is limited to
/// <see cref="GeminiOptions.RequestTimeout"/>; failures surface as <see cref="GeminiApiException"/>
/// (<see cref="GeminiApiException.ToSemanticCoreException"/> gives the module's error).
/// The key travels only in the x-goog-api-key header: never in a URL, a message or a trace.
/// </summary>
public sealed partial class GeminiClient
{
    private const string ApiKeyHeader = "x-goog-api-key";
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json") { CharSet = "utf-8" };

    private readonly HttpClient _http;
    private readonly ApiKey _key;
    private readonly TimeProvider _time;
    private readonly string _baseUrl;

    // Idempotent calls: retried on 408/429/5xx, timeouts and connection failures.
    private readonly ResiliencePipeline _retry;

    // Interactive embeddings: a 429 is the pacer's to wait out (see EmbedInGroupsAsync), so it is not retried here.
    private readonly ResiliencePipeline _retryEmbed;

    private readonly EmbedPacer _pacer;

    // Batch create is not idempotent (a repeat makes a second job): retried only when the server
    // certainly did nothing, i.e. a rate-limit 429 or a connection that could not be opened. A full
    // batch queue is not a rate: retrying within minutes cannot help, so it is the caller's to handle.
    private readonly ResiliencePipeline _retryCreate;

    public GeminiClient(HttpClient http, ApiKey key, GeminiOptions options)
        : this(http, key, options, TimeProvider.System)
    {
    }

    /// <param name="timeProvider">Clock of the retry waits (tests pass one that records and skips them).</param>
    public GeminiClient(HttpClient http, ApiKey key, GeminiOptions options, TimeProvider timeProvider)
        : this(http, key, options, timeProvider, new EmbedPacer(options?.TokensPerMinute ?? 0, options?.TokenWindow ?? TimeSpan.FromMinutes(1), timeProvider ?? TimeProvider.System))
    {
    }

    /// <param name="timeProvider">Clock of the retry waits (tests pass one that records and skips them).</param>
    /// <param name="pacer">Paces the interactive embedding calls (<see cref="EmbedPacer.Shared"/> shares one between clients).</param>
    public GeminiClient(HttpClient http, ApiKey key, GeminiOptions options, TimeProvider timeProvider, EmbedPacer pacer)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(pacer);
        options.Validate();
        _http = http;
        _key = key;
        Options = options;
        _time = timeProvider;
        _pacer = pacer;
        _baseUrl = options.Endpoint.AbsoluteUri.TrimEnd('/');
        _retry = BuildPipeline(static e => e.IsRetriable);
        _retryEmbed = BuildPipeline(static e => e.IsRetriable && e.StatusCode != 429);
        _retryCreate = BuildPipeline(static e => (e.StatusCode == 429 && !e.IsPerDayQuota && !e.IsBatchQueueFull) || e.RequestNotSent);
    }

    public GeminiOptions Options { get; }

    private string ModelPath => "models/" + Uri.EscapeDataString(Options.ModelId);

    private ResiliencePipeline BuildPipeline(Func<GeminiApiException, bool> shouldRetry)
    {
        if (Options.MaxAttempts <= 1) return ResiliencePipeline.Empty;
        var maxDelay = Options.MaxRetryDelay;
        return new ResiliencePipelineBuilder { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = Options.BaseRetryDelay,
                MaxDelay = maxDelay,
                // Caller cancellation is an OperationCanceledException, never handled here: it ends the call.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is GeminiApiException e && shouldRetry(e)),
                // The server's RetryInfo / Retry-After wins over our backoff, within MaxRetryDelay
                // (Polly does not cap what a generator returns).
                DelayGenerator = args => ValueTask.FromResult(
                    args.Outcome.Exception is GeminiApiException { RetryDelay: { } asked } ? (TimeSpan?)(asked < maxDelay ? asked : maxDelay) : null),
            })
            .Build();
    }

    /// <summary>
    /// One logical call: attempts through <paramref name="pipeline"/>, each a fresh request with the key
    /// header and its own timeout. Error responses become <see cref="GeminiApiException"/>.
    /// </summary>
    private async Task<T> SendAsync<T>(string operation, ResiliencePipeline pipeline, Func<HttpRequestMessage> createRequest,
        Func<HttpResponseMessage, CancellationToken, Task<T>> readResponse, CancellationToken cancellationToken, bool keepResponse = false)
    {
        return await pipeline.ExecuteAsync(
            async token => await AttemptAsync(operation, createRequest, readResponse, keepResponse, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> AttemptAsync<T>(string operation, Func<HttpRequestMessage> createRequest,
        Func<HttpResponseMessage, CancellationToken, Task<T>> readResponse, bool keepResponse, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(Options.RequestTimeout);
        HttpResponseMessage? response = null;
        var handedOver = false;
        try
        {
            response = await SendWithKeyAsync(operation, createRequest, attempt.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var body = await ReadErrorBodyAsync(response.Content, attempt.Token).ConfigureAwait(false);
                throw GeminiErrorParser.Parse(operation, (int)response.StatusCode, body, response.Headers.RetryAfter, _time.GetUtcNow(), _key.Value);
            }

            var result = await readResponse(response, attempt.Token).ConfigureAwait(false);
            handedOver = keepResponse;
            return result;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Our timeout (or HttpClient.Timeout), not the caller: a retriable failure.
            throw new GeminiApiException(operation, 0, "DEADLINE_EXCEEDED",
                $"No response within {Options.RequestTimeout.TotalSeconds:0.###} s.", inner: e);
        }
        catch (HttpRequestException e)
        {
            // ConnectionError / NameResolutionError: the request never left this machine.
            var notSent = e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
            throw new GeminiApiException(operation, 0, "UNAVAILABLE", GeminiErrorParser.Scrub($"The connection failed: {e.Message}", _key.Value),
                inner: e, requestNotSent: notSent);
        }
        catch (IOException e)
        {
            throw new GeminiApiException(operation, 0, "UNAVAILABLE", GeminiErrorParser.Scrub($"The connection broke: {e.Message}", _key.Value), inner: e);
        }
        catch (JsonException e)
        {
            throw InvalidResponse(operation, $"The response is not the expected JSON: {e.Message}", e);
        }
        finally
        {
            if (!handedOver) response?.Dispose();
        }
    }

    /// <summary>
    /// Sends a request with the key, following redirects itself (<see cref="GeminiHttp.Shared"/> does not: an HttpClient
    /// handler would take the x-goog-api-key header along to wherever a redirect points). A redirect within the
    /// endpoint's origin is followed, with the key; one to another origin is not followed at all.
    /// </summary>
    private async Task<HttpResponseMessage> SendWithKeyAsync(string operation, Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        var request = createRequest();
        for (var redirects = 0; ; redirects++)
        {
            var from = request.RequestUri!;
            var method = request.Method;
            HttpResponseMessage response;
            using (request)
            {
                request.Headers.TryAddWithoutValidation(ApiKeyHeader, _key.Value);
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }

            var status = (int)response.StatusCode;
            if (status is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location) return response;
            response.Dispose();
            var target = location.IsAbsoluteUri ? location : new Uri(from, location);
            if (!IsEndpointOrigin(target))
            {
                throw InvalidResponse(operation, GeminiErrorParser.Scrub(
                    $"The answer redirects to {target.GetLeftPart(UriPartial.Authority)}, not to {new Uri(_baseUrl).GetLeftPart(UriPartial.Authority)}: " +
                    "not followed, as the key is sent to the endpoint only.", _key.Value));
            }

            if (redirects == MaxRedirects) throw InvalidResponse(operation, $"The answer redirected more than {MaxRedirects} times.");

            // As HTTP clients do: 303, and 301/302 after a POST, become a GET without a body; 307 and 308 repeat the request.
            request = createRequest();
            request.RequestUri = target;
            if (status == 303 || (status is 301 or 302 && method == HttpMethod.Post))
            {
                request.Method = HttpMethod.Get;
                request.Content?.Dispose();
                request.Content = null;
            }
        }
    }

    private const int MaxRedirects = 5;

    /// <summary>Same scheme, host and port as the endpoint: the only place the key is sent.</summary>
    private bool IsEndpointOrigin(Uri url) =>
        Uri.Compare(url, new Uri(_baseUrl), UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>The API's error bodies are small; whatever a proxy sends instead is not buffered beyond 64 KiB.</summary>
    private static async Task<byte[]> ReadErrorBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        const int limit = 64 * 1024;
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[limit];
            var total = 0;
            int read;
            while (total < limit && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0) total += read;
            return buffer[..total];
        }
    }

    private static GeminiApiException InvalidResponse(string operation, string message, Exception? inner = null) =>
        new(operation, 200, GeminiApiException.InvalidResponseStatus, message, inner: inner);

    private Uri Url(string pathAndQuery) => new(_baseUrl + pathAndQuery);

    private static HttpRequestMessage JsonRequest(HttpMethod method, Uri url, byte[] body) =>
        new(method, url) { Content = new ByteArrayContent(body) { Headers = { ContentType = JsonMediaType } } };

    /// <summary>Builds a small JSON body (requests are at most 100 texts; nothing here is streamed).</summary>
    private static byte[] JsonBody(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await JsonDocument.ParseAsync(stream, default, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<T> ParseJsonAsync<T>(HttpResponseMessage response, Func<JsonElement, T> parse, CancellationToken cancellationToken)
    {
        using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        return parse(document.RootElement);
    }

    private static Task<bool> IgnoreBody(HttpResponseMessage response, CancellationToken cancellationToken) => Task.FromResult(true);

    /// <summary>
    /// "files/abc" or "abc" -> "files/abc". The id is checked so that a name can never smuggle a
    /// path, a query or a key into a URL.
    /// </summary>
    internal static string ResourceName(string name, string collection)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var prefix = collection + "/";
        var id = name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
        if (id.Length == 0 || id is "." or ".." || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"'{name}' is not a valid {collection} name.", nameof(name));
        }

        return prefix + id;
    }
}
