using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

/// <summary>The tolerant parsing of error bodies and operation envelopes, without a server.</summary>
public sealed class GeminiProtocolParsingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static GeminiApiException Parse(int status, string body, RetryConditionHeaderValue? retryAfter = null, string secret = "s3cr3t") =>
        GeminiErrorParser.Parse("GET batches/x", status, Encoding.UTF8.GetBytes(body), retryAfter, Now, secret);

    [Fact]
    public void Error_InAOneElementArray_WithRetryInfoAndQuotaFailure()
    {
        var e = Parse(429, """
            [{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[
              {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
              {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}]
            """);

        Assert.Equal((429, "RESOURCE_EXHAUSTED", "quota"), (e.StatusCode, e.Status, e.ApiMessage));
        Assert.Equal(TimeSpan.FromSeconds(37), e.RetryDelay);
        Assert.True(e.IsPerDayQuota);
        Assert.False(e.IsRetriable);
    }

    [Fact]
    public void RetryAfter_SecondsOrDate_WhenThereIsNoRetryInfo()
    {
        Assert.Equal(TimeSpan.FromSeconds(12), Parse(503, "{}", new RetryConditionHeaderValue(TimeSpan.FromSeconds(12))).RetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(90), Parse(503, "{}", new RetryConditionHeaderValue(Now.AddSeconds(90))).RetryDelay);
        Assert.Null(Parse(503, "{}").RetryDelay);
    }

    [Fact]
    public void RetryInfo_AsADurationObject()
    {
        var e = Parse(429, """{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":{"seconds":"2","nanos":500000000}}]}}""");

        Assert.Equal(TimeSpan.FromSeconds(2.5), e.RetryDelay);
        Assert.True(e.IsRetriable);
    }

    [Fact]
    public void NotJson_StillGivesAnException_WithTheStartOfTheBody_AndNeverTheKey()
    {
        var e = Parse(502, "Bad gateway for s3cr3t " + new string('x', 1000));

        Assert.Equal("UNAVAILABLE", e.Status);
        Assert.StartsWith("Bad gateway for *** xxx", e.ApiMessage, StringComparison.Ordinal);
        Assert.True(e.ApiMessage.Length < 400);
        Assert.DoesNotContain("s3cr3t", e.ToString(), StringComparison.Ordinal);
        Assert.True(e.IsRetriable);
        Assert.False(e.FromApi);
    }

    [Fact]
    public void A_key_echoed_where_a_quoted_body_is_cut_leaves_none_of_its_characters()
    {
        const string key = "AIzaSy-ECHOED-BY-A-PROXY-0123456789";
        // A proxy's page that echoes the request: the key starts 20 characters before the 300 that are quoted.
        var e = Parse(403, new string('x', 280) + key + " and more of the request", secret: key);

        Assert.DoesNotContain(key[..8], e.ToString(), StringComparison.Ordinal);
        Assert.Contains("***", e.ApiMessage, StringComparison.Ordinal);
        Assert.True(e.ApiMessage.Length < 400);
    }

    [Theory]
    [InlineData("""{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"KEY"}]}}""")]
    [InlineData("""{"error":{"code":403,"message":"denied","status":"KEY"}}""")]
    [InlineData("""{"error":{"code":403,"message":"denied for KEY","status":"PERMISSION_DENIED"}}""")]
    public void A_key_echoed_in_any_text_of_an_error_reaches_no_message(string body)
    {
        const string key = "AIzaSy-ECHOED-IN-JSON-0123456789";

        var e = Parse(body.Contains("\"code\":400", StringComparison.Ordinal) ? 400 : 403, body.Replace("KEY", key, StringComparison.Ordinal), secret: key);

        foreach (var text in new[] { e.ToString(), e.Status, e.Reason, e.ApiMessage, e.ToSemanticCoreException().ToString() })
        {
            Assert.DoesNotContain(key, text ?? "", StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_HTML_page_is_described_never_quoted_and_is_not_the_APIs_answer()
    {
        var e = Parse(403, "<!DOCTYPE html>\n<html><head><title>Blocked</title></head><body>s3cr3t proxy page</body></html>");

        Assert.Contains("HTML page", e.ApiMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("<", e.ToString(), StringComparison.Ordinal);
        Assert.False(e.FromApi);
        Assert.True(Parse(400, "{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"INVALID_ARGUMENT\"}}").FromApi);
    }

    [Theory]
    [InlineData(400, "{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"INVALID_ARGUMENT\"}}", "GeminiBadRequest", FailureKind.InvalidArgument)]
    [InlineData(401, "{}", "GeminiInvalidApiKey", FailureKind.AuthenticationError)]
    [InlineData(403, "{\"error\":{\"code\":403,\"message\":\"API not enabled\",\"status\":\"PERMISSION_DENIED\"}}", "GeminiPermissionDenied", FailureKind.PermissionDenied)]
    [InlineData(404, "{}", "GeminiNotFound", FailureKind.ObjectNotFound)]
    [InlineData(408, "{}", "GeminiUnavailable", FailureKind.ConnectionError)]
    [InlineData(429, "{}", "GeminiRateLimited", FailureKind.QuotaExceeded)]
    [InlineData(500, "{}", "GeminiUnavailable", FailureKind.ConnectionError)]
    [InlineData(504, "{}", "GeminiUnavailable", FailureKind.ConnectionError)]
    [InlineData(409, "{}", "GeminiRequestFailed", FailureKind.InvalidOperation)]
    public void ToSemanticCoreException_Mapping(int status, string body, string errorId, FailureKind kind)
    {
        var error = Parse(status, body).ToSemanticCoreException();

        Assert.Equal((errorId, kind), (error.ErrorId, error.Kind));
        Assert.IsType<GeminiApiException>(error.InnerException);
    }

    private static BatchOperation Operation(string json) => BatchOperation.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Operation_TheDocumentedEnvelope()
    {
        var op = Operation("""
            {"name":"batches/X","metadata":{"name":"batches/X","displayName":"job","model":"models/gemini-embedding-001",
             "inputConfig":{"fileName":"files/in"},"output":{"responsesFile":"files/batch-X"},
             "batchStats":{"requestCount":"3","successfulRequestCount":"2","failedRequestCount":"1"},
             "state":"BATCH_STATE_SUCCEEDED","createTime":"2026-11-24T10:00:00.123456Z","updateTime":"2026-11-24T10:05:00Z","endTime":"2026-11-24T10:05:00Z"},
             "done":true,"response":{"responsesFile":"files/batch-X"}}
            """);

        Assert.Equal(("batches/X", "job", "models/gemini-embedding-001", BatchState.Succeeded), (op.Name, op.DisplayName, op.Model, op.State));
        Assert.Equal(("files/in", "files/batch-X"), (op.InputFileName, op.ResponsesFileName));
        Assert.Equal((3L, 2L, 1L), (op.RequestCount, op.SuccessfulCount, op.FailedCount));
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 5, 0, TimeSpan.Zero), op.EndTime);
        Assert.True(op.Done && op.IsTerminal);
    }

    [Theory]
    [InlineData("JOB_STATE_PENDING", BatchState.Pending)]
    [InlineData("JOB_STATE_RUNNING", BatchState.Running)]
    [InlineData("JOB_STATE_SUCCEEDED", BatchState.Succeeded)]
    [InlineData("JOB_STATE_FAILED", BatchState.Failed)]
    [InlineData("JOB_STATE_CANCELLED", BatchState.Cancelled)]
    [InlineData("JOB_STATE_EXPIRED", BatchState.Expired)]
    [InlineData("BATCH_STATE_RUNNING", BatchState.Running)]
    [InlineData("BATCH_STATE_SOMETHING_NEW", BatchState.Unknown)]
    public void Operation_StateSpellings(string state, BatchState expected)
    {
        Assert.Equal(expected, Operation("{\"name\":\"batches/x\",\"metadata\":{\"state\":\"" + state + "\"}}").State);
    }

    [Fact]
    public void Operation_Tolerant_OmittedCountsNumbersBareObjectsAndErrors()
    {
        var pending = Operation("""{"name":"batches/a","metadata":{"state":"BATCH_STATE_PENDING","batchStats":{"requestCount":5}}}""");
        var bare = Operation("""{"name":"batches/b","displayName":"bare","state":"JOB_STATE_RUNNING"}""");
        var failed = Operation("""{"name":"batches/c","done":true,"error":{"code":13,"message":"it broke"}}""");
        var onlyResponse = Operation("""{"name":"batches/d","metadata":{"state":"BATCH_STATE_SUCCEEDED"},"done":true,"response":{"responsesFile":"files/out"}}""");

        Assert.Equal((5L, 0L, 0L, false), (pending.RequestCount, pending.SuccessfulCount, pending.FailedCount, pending.Done));
        Assert.Equal(("bare", BatchState.Running), (bare.DisplayName, bare.State));
        Assert.Equal((BatchState.Failed, "it broke"), (failed.State, failed.ErrorMessage));
        Assert.Equal("files/out", onlyResponse.ResponsesFileName);
    }

    [Fact]
    public void GrpcStatus_Mapping()
    {
        Assert.Equal(429, GrpcStatus.HttpCodeFromName("RESOURCE_EXHAUSTED"));
        Assert.Equal(503, GrpcStatus.HttpCodeFromName("UNAVAILABLE"));
        Assert.Equal(400, GrpcStatus.HttpCodeFromName("INVALID_ARGUMENT"));
        Assert.Equal(500, GrpcStatus.HttpCodeFromName("INTERNAL"));
        Assert.Equal(504, GrpcStatus.HttpCodeFromName("DEADLINE_EXCEEDED"));
        Assert.Equal(429, GrpcStatus.NormalizeCode(8));
        Assert.Equal(404, GrpcStatus.NormalizeCode(404));
        Assert.Null(GrpcStatus.NormalizeCode(0));
    }

    [Fact]
    public void Endpoint_FromEnvironment()
    {
        var saved = Environment.GetEnvironmentVariable(GeminiOptions.EndpointVariable);
        try
        {
            Environment.SetEnvironmentVariable(GeminiOptions.EndpointVariable, null);
            Assert.Equal(GeminiOptions.DefaultEndpoint, GeminiOptions.EndpointFromEnvironment());
            Environment.SetEnvironmentVariable(GeminiOptions.EndpointVariable, "http://127.0.0.1:5555");
            Assert.Equal(new Uri("http://127.0.0.1:5555"), GeminiOptions.EndpointFromEnvironment());
            Environment.SetEnvironmentVariable(GeminiOptions.EndpointVariable, "not a uri");
            Assert.Equal("GeminiInvalidEndpoint", Assert.Throws<SemanticCoreException>(GeminiOptions.EndpointFromEnvironment).ErrorId);
        }
        finally
        {
            Environment.SetEnvironmentVariable(GeminiOptions.EndpointVariable, saved);
        }
    }
}
