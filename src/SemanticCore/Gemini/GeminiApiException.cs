namespace SemanticCore.Gemini;

/// <summary>
/// A failed Gemini call: an error response of the API, or no response at all (timeout, connection
/// failure: <see cref="StatusCode"/> 0). The message carries the API's own text but never the key
/// (the client sends the key only as a header and scrubs it from any echoed text).
/// </summary>
public sealed class GeminiApiException : Exception
{
    internal GeminiApiException(string operation, int statusCode, string? status, string apiMessage,
        string? reason = null, TimeSpan? retryDelay = null, bool isPerDayQuota = false,
        Exception? inner = null, bool requestNotSent = false, bool fromApi = false, bool namesQuota = false)
        : base(FormatMessage(operation, statusCode, status, reason, apiMessage), inner)
    {
        FromApi = fromApi;
        Operation = operation;
        StatusCode = statusCode;
        Status = status;
        ApiMessage = apiMessage;
        Reason = reason;
        RetryDelay = retryDelay;
        IsPerDayQuota = isPerDayQuota;
        RequestNotSent = requestNotSent;
        NamesQuota = namesQuota;
    }

    /// <summary><see cref="Status"/> of a success response that does not have the expected shape.</summary>
    public const string InvalidResponseStatus = "INVALID_RESPONSE";

    /// <summary>What was called, e.g. "POST models/gemini-embedding-001:batchEmbedContents".</summary>
    public string Operation { get; }

    /// <summary>
    /// The body was the API's own error JSON. A 4xx without it may come from a proxy or gateway in between,
    /// which proves nothing about what the service did with the request.
    /// </summary>
    public bool FromApi { get; }

    /// <summary>HTTP status; 0 when no response arrived (see <see cref="Status"/>: DEADLINE_EXCEEDED or UNAVAILABLE).</summary>
    public int StatusCode { get; }

    /// <summary>The API's status name (RESOURCE_EXHAUSTED, INVALID_ARGUMENT...).</summary>
    public string? Status { get; }

    /// <summary>details[].reason, e.g. API_KEY_INVALID.</summary>
    public string? Reason { get; }

    /// <summary>The wait the server asked for: RetryInfo.retryDelay, else Retry-After.</summary>
    public TimeSpan? RetryDelay { get; }

    /// <summary>A 429 whose QuotaFailure names a per-day quota: retrying today is pointless.</summary>
    public bool IsPerDayQuota { get; }

    /// <summary>The answer named the quota it exceeded (a google.rpc.QuotaFailure detail): a rate per minute or per day.</summary>
    public bool NamesQuota { get; }

    /// <summary>
    /// The service's bare 429 for a batch create past the project's enqueued-token cap (or its 100 unfinished jobs): no
    /// RetryInfo, no Retry-After, no quota named. It is not a rate: it clears only when unfinished jobs end.
    /// </summary>
    public bool IsBatchQueueFull => StatusCode == 429 && FromApi && RetryDelay is null && !NamesQuota;

    /// <summary>The API's own message (or a description of the transport failure).</summary>
    public string ApiMessage { get; }

    /// <summary>No response: the request timed out or the connection failed.</summary>
    public bool IsTransportFailure => StatusCode == 0;

    public bool IsTimeout => StatusCode == 0 && Status == "DEADLINE_EXCEEDED";

    public bool IsInvalidApiKey => StatusCode == 401
        || Reason is "API_KEY_INVALID" or "API_KEY_EXPIRED"
        || (StatusCode == 400 && ApiMessage.Contains("API key not valid", StringComparison.OrdinalIgnoreCase));

    /// <summary>408, 429 (not per day), 500, 502, 503, 504 and transport failures.</summary>
    public bool IsRetriable => StatusCode switch
    {
        0 => true,
        429 => !IsPerDayQuota,
        408 or 500 or 502 or 503 or 504 => true,
        _ => false,
    };

    /// <summary>
    /// The connection could not even be established: the server certainly did nothing, so a
    /// non-idempotent call (batch create) may be repeated.
    /// </summary>
    internal bool RequestNotSent { get; }

    /// <summary>The same failure with <paramref name="note"/> appended to its message; status, reason and retry advice stay as they are.</summary>
    internal GeminiApiException WithNote(string note) =>
        new(Operation, StatusCode, Status, $"{ApiMessage} ({note})", Reason, RetryDelay, IsPerDayQuota, this, RequestNotSent, FromApi, NamesQuota);

    /// <summary>The failure as the module reports it: a stable ErrorId, a category, an actionable message.</summary>
    public SemanticCoreException ToSemanticCoreException()
    {
        var api = $"(Gemini: {Describe()})";
        return this switch
        {
            { Status: InvalidResponseStatus } => new("GeminiInvalidResponse", FailureKind.InvalidData,
                $"The Gemini API sent a response this module cannot use {api}.", this),
            { IsInvalidApiKey: true } => new("GeminiInvalidApiKey", FailureKind.AuthenticationError,
                $"The Gemini API rejected the API key {api}. Set a valid key with Set-SemanticKeyring -ApiKey " +
                "(-BatchApiKey for batch jobs) or in $env:GEMINI_API_KEY / $env:GEMINI_BATCH_API_KEY.", this),
            { StatusCode: 429, IsPerDayQuota: true } => new("GeminiDailyQuotaExhausted", FailureKind.QuotaExceeded,
                $"The daily Gemini quota of this key is spent {api}. Try again tomorrow, use a key of a paid project, or queue the chunks for a batch job.", this),
            { StatusCode: 429 } => new("GeminiRateLimited", FailureKind.QuotaExceeded,
                $"The Gemini API is rate limiting {api}. Wait a minute and try again, or send fewer requests at once.", this),
            { StatusCode: 400 } => new("GeminiBadRequest", FailureKind.InvalidArgument,
                $"The Gemini API refused the request {api}.", this),
            { StatusCode: 403 } => new("GeminiPermissionDenied", FailureKind.PermissionDenied,
                $"The Gemini API denied access {api}. Check that the key's project has the Generative Language API enabled and may use {Operation}.", this),
            { StatusCode: 404 } => new("GeminiNotFound", FailureKind.ObjectNotFound,
                $"The Gemini API does not know this object {api}. Files expire after 48 hours; batch jobs can be deleted.", this),
            { IsRetriable: true } => new("GeminiUnavailable", FailureKind.ConnectionError,
                $"The Gemini API could not be reached, or answered with an error {api}. Check the network and try again later.", this),
            _ => new("GeminiRequestFailed", FailureKind.InvalidOperation, $"The Gemini API call failed {api}.", this),
        };
    }

    private string Describe() =>
        StatusCode == 0 ? $"{Status} on {Operation}: {ApiMessage}" : $"{StatusCode} {Status}{(Reason is null ? "" : $" {Reason}")} on {Operation}: {ApiMessage}";

    private static string FormatMessage(string operation, int statusCode, string? status, string? reason, string apiMessage) =>
        statusCode == 0
            ? $"Gemini API call {operation} failed without a response ({status}): {apiMessage}"
            : $"Gemini API call {operation} failed with {statusCode} {status}{(reason is null ? "" : $" ({reason})")}: {apiMessage}";
}
