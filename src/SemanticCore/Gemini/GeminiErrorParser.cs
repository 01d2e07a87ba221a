using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SemanticCore.Gemini;

/// <summary>
/// Reads an error response: <c>{"error":{code,message,status,details}}</c>, sometimes wrapped in a
/// one-element array, with google.rpc details (ErrorInfo.reason, RetryInfo.retryDelay, QuotaFailure).
/// Tolerant: a body that is not that JSON (a proxy's HTML page) still gives an exception.
/// </summary>
internal static class GeminiErrorParser
{
    private const int MaxEchoedBody = 300;

    public static GeminiApiException Parse(string operation, int statusCode, ReadOnlySpan<byte> body,
        RetryConditionHeaderValue? retryAfter, DateTimeOffset now, string secret)
    {
        string? status = null, message = null, reason = null;
        TimeSpan? retryDelay = null;
        var perDay = false;
        var quotaFailure = false;
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0) root = root[0];
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                status = Json.GetString(error, "status");
                message = Json.GetString(error, "message");
                if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
                {
                    foreach (var detail in details.EnumerateArray())
                    {
                        if (detail.ValueKind != JsonValueKind.Object) continue;
                        reason ??= Json.GetString(detail, "reason");
                        var type = Json.GetString(detail, "@type") ?? "";
                        if (type.EndsWith("google.rpc.RetryInfo", StringComparison.Ordinal) && detail.TryGetProperty("retryDelay", out var delay))
                        {
                            retryDelay ??= ParseDuration(delay);
                        }
                        else if (type.EndsWith("google.rpc.QuotaFailure", StringComparison.Ordinal))
                        {
                            quotaFailure = true;
                            perDay |= HasPerDayViolation(detail);
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not the API's JSON: fall through and echo the start of the body.
        }

        var fromApi = status is not null || message is not null;
        // Scrubbed before it is cut: a key echoed where the quote ends would otherwise leave its first characters behind.
        message ??= body.IsEmpty ? "(no error body)"
            : LooksLikeHtml(body) ? "(an HTML page, not the API's answer: a proxy or gateway in between?)"
            : Truncate(Scrub(Encoding.UTF8.GetString(body), secret));
        status ??= GrpcStatus.NameFromHttpCode(statusCode);
        retryDelay ??= FromRetryAfter(retryAfter, now);
        // Every text of the answer that reaches a message is scrubbed, not only its message: status and reason are quoted too.
        return new GeminiApiException(operation, statusCode, Scrub(status, secret), Scrub(message, secret), Scrub(reason, secret),
            retryDelay, perDay && statusCode == 429, fromApi: fromApi, namesQuota: quotaFailure);
    }

    /// <summary>A web page, which is never quoted: it says nothing useful and fills the error with markup.</summary>
    private static bool LooksLikeHtml(ReadOnlySpan<byte> body)
    {
        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, 512)]).TrimStart();
        return text.StartsWith('<') || text.Contains("<html", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A protobuf Duration in JSON: "37s", "1.5s", or {"seconds":..,"nanos":..}.</summary>
    internal static TimeSpan? ParseDuration(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!.Trim();
            if (text.EndsWith('s')) text = text[..^1];
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && seconds < 1e7
                ? TimeSpan.FromSeconds(seconds)
                : null;
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            var seconds = Json.GetInt64(value, "seconds") ?? 0;
            var nanos = Json.GetInt64(value, "nanos") ?? 0;
            return seconds is >= 0 and < 10_000_000 ? TimeSpan.FromSeconds(seconds) + TimeSpan.FromTicks(nanos / 100) : null;
        }

        return null;
    }

    private static bool HasPerDayViolation(JsonElement quotaFailure)
    {
        if (!quotaFailure.TryGetProperty("violations", out var violations) || violations.ValueKind != JsonValueKind.Array) return false;
        foreach (var violation in violations.EnumerateArray())
        {
            if (violation.ValueKind == JsonValueKind.Object
                && Json.GetString(violation, "quotaId") is { } quotaId
                && quotaId.Contains("PerDay", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static TimeSpan? FromRetryAfter(RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        if (retryAfter?.Delta is { } delta) return delta;
        if (retryAfter?.Date is { } date) return date > now ? date - now : TimeSpan.Zero;
        return null;
    }

    private static string Truncate(string text)
    {
        text = text.Trim();
        return text.Length <= MaxEchoedBody ? text : text[..MaxEchoedBody] + "...";
    }

    /// <summary>Defence in depth: should a server ever echo the key, it still never reaches a message.</summary>
    [return: NotNullIfNotNull(nameof(text))]
    internal static string? Scrub(string? text, string secret) =>
        text is not null && secret.Length > 0 && text.Contains(secret, StringComparison.Ordinal) ? text.Replace(secret, "***", StringComparison.Ordinal) : text;
}
