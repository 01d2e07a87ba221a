using System.Text.Json.Nodes;

namespace FakeGemini;

/// <summary>An error the fake answers with: <c>{"error":{code,message,status,details}}</c>.</summary>
internal sealed class FakeApiError(int code, string message, JsonArray? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public JsonArray? Details { get; } = details;
    public string Status => StatusName(Code);

    public static FakeApiError BadRequest(string message) => new(400, message);

    public static FakeApiError NotFound(string message) => new(404, message);

    public static FakeApiError InvalidApiKey() => new(400, "API key not valid. Please pass a valid API key.",
    [
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo",
            ["reason"] = "API_KEY_INVALID",
            ["domain"] = "googleapis.com",
            ["metadata"] = new JsonObject { ["service"] = "generativelanguage.googleapis.com" },
        },
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.LocalizedMessage",
            ["locale"] = "en-US",
            ["message"] = "API key not valid. Please pass a valid API key.",
        },
    ]);

    /// <summary>What <see cref="FakeGeminiServer.FailNextRequests"/> injects.</summary>
    public static FakeApiError Injected(int status, string? retryDelay, bool perDayQuota)
    {
        if (status != 429)
        {
            var message = status switch
            {
                503 => "The model is overloaded. Please try again later.",
                500 => "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                504 => "Deadline expired before operation could complete.",
                _ => $"Injected failure {status}.",
            };
            var details = retryDelay is null ? null : new JsonArray(RetryInfo(retryDelay));
            return new FakeApiError(status, message, details);
        }

        var quotaId = perDayQuota
            ? "EmbedContentRequestsPerDayPerProjectPerModel-FreeTier"
            : "EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier";
        var quota = new JsonArray
        {
            new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.QuotaFailure",
                ["violations"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["quotaMetric"] = "generativelanguage.googleapis.com/embed_content_free_tier_requests",
                        ["quotaId"] = quotaId,
                        ["quotaDimensions"] = new JsonObject { ["location"] = "global", ["model"] = "gemini-embedding-001" },
                        ["quotaValue"] = perDayQuota ? "1000" : "100",
                    },
                },
            },
            new JsonObject
            {
                ["@type"] = "type.googleapis.com/google.rpc.Help",
                ["links"] = new JsonArray { new JsonObject { ["description"] = "Learn more about Gemini API quotas", ["url"] = "https://ai.google.dev/gemini-api/docs/rate-limits" } },
            },
        };
        if (retryDelay is not null) quota.Add(RetryInfo(retryDelay));
        return new FakeApiError(429,
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
            quota);
    }

    /// <summary>
    /// The per-minute input-token quota of embeddings, as the real service words it: QuotaFailure (the quota id follows
    /// the pattern of the documented GenerateContentInputTokensPerModelPerMinute-FreeTier), Help and RetryInfo.
    /// </summary>
    public static FakeApiError EmbedTokensPerMinute(string model, int limit, TimeSpan retryAfter)
    {
        var seconds = retryAfter.TotalSeconds.ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture);
        return new FakeApiError(429,
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. " +
            "To monitor your current usage, head to: https://ai.dev/rate-limit. \n" +
            $"* Quota exceeded for metric: generativelanguage.googleapis.com/embed_content_free_tier_input_token_count, limit: {limit}, model: {model}\nPlease retry in {seconds}s.",
            [
                new JsonObject
                {
                    ["@type"] = "type.googleapis.com/google.rpc.Help",
                    ["links"] = new JsonArray { new JsonObject { ["description"] = "Learn more about Gemini API quotas", ["url"] = "https://ai.google.dev/gemini-api/docs/rate-limits" } },
                },
                new JsonObject
                {
                    ["@type"] = "type.googleapis.com/google.rpc.QuotaFailure",
                    ["violations"] = new JsonArray
                    {
                        new JsonObject
                        {
                            ["quotaMetric"] = "generativelanguage.googleapis.com/embed_content_free_tier_input_token_count",
                            ["quotaId"] = "EmbedContentInputTokensPerModelPerMinute-FreeTier",
                            ["quotaDimensions"] = new JsonObject { ["location"] = "global", ["model"] = model },
                            ["quotaValue"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        },
                    },
                },
                RetryInfo($"{Math.Ceiling(retryAfter.TotalSeconds):0}s"),
            ]);
    }

    private static JsonObject RetryInfo(string retryDelay) => new()
    {
        ["@type"] = "type.googleapis.com/google.rpc.RetryInfo",
        ["retryDelay"] = retryDelay,
    };

    public JsonNode ToJson(bool wrapInArray)
    {
        var error = new JsonObject { ["code"] = Code, ["message"] = Message, ["status"] = Status };
        if (Details is not null) error["details"] = Details.DeepClone();
        var body = new JsonObject { ["error"] = error };
        return wrapInArray ? new JsonArray(body) : body;
    }

    public static string StatusName(int code) => code switch
    {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        408 => "DEADLINE_EXCEEDED",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        502 => "UNAVAILABLE",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };
}
