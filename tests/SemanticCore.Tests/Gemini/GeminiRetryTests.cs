using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

public sealed class GeminiRetryTests
{
    private const string Embed = ":batchEmbedContents";

    [Fact]
    public async Task BurstOf503_IsRetriedWithBackoff_ThenSucceeds()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 2, 503);

        var vectors = await t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT");

        Assert.Single(vectors);
        Assert.Equal(3, t.RequestsTo(Embed).Length);
        Assert.Equal(2, t.Time.Delays.Count);
        Assert.All(t.Time.Delays, d => Assert.InRange(d, TimeSpan.Zero, t.Options.MaxRetryDelay));
    }

    [Theory]
    [InlineData("1s", 1000)]
    [InlineData("1.5s", 1500)]
    [InlineData("300s", 60_000)] // capped at MaxRetryDelay
    public async Task RetryInfoDelay_IsHonoured_WithinMaxRetryDelay(string retryDelay, int expectedMs)
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 1, 429, retryDelay);

        await t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT");

        // The wait counts from the 429's arrival: by the time the next call is booked, a moment of it has passed.
        Assert.Equal(2, t.RequestsTo(Embed).Length);
        Assert.InRange(Assert.Single(t.Time.Delays), TimeSpan.FromMilliseconds(expectedMs - 500), TimeSpan.FromMilliseconds(expectedMs));
    }

    [Fact]
    public async Task PerDay429_IsNotRetried_AndIsDailyQuotaExhausted()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 5, 429, retryDelay: "20s", perDayQuota: true);

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT"));

        Assert.Single(t.RequestsTo(Embed));
        Assert.True(e.IsPerDayQuota);
        Assert.False(e.IsRetriable);
        var error = e.ToSemanticCoreException();
        Assert.Equal("GeminiDailyQuotaExhausted", error.ErrorId);
        Assert.Equal(FailureKind.QuotaExceeded, error.Kind);
        Assert.Contains("exceeded your current quota", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PerMinute429_AfterAllAttempts_IsRateLimited()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 10, 429);

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT"));

        Assert.Equal(t.Options.MaxAttempts, t.RequestsTo(Embed).Length);
        Assert.Equal("GeminiRateLimited", e.ToSemanticCoreException().ErrorId);
        Assert.Equal(FailureKind.QuotaExceeded, e.ToSemanticCoreException().Kind);
    }

    [Fact]
    public async Task Persistent503_AfterAllAttempts_IsUnavailable()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 10, 503);

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT"));

        Assert.Equal(5, t.RequestsTo(Embed).Length);
        Assert.Equal(4, t.Time.Delays.Count);
        Assert.Equal("GeminiUnavailable", e.ToSemanticCoreException().ErrorId);
        Assert.Equal(FailureKind.ConnectionError, e.ToSemanticCoreException().Kind);
        Assert.Contains("overloaded", e.ToSemanticCoreException().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadRequest400_IsNotRetried()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 5, 400);

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT"));

        Assert.Single(t.RequestsTo(Embed));
        Assert.Equal("GeminiBadRequest", e.ToSemanticCoreException().ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, e.ToSemanticCoreException().Kind);
    }

    [Fact]
    public async Task NotFound404_IsNotRetried()
    {
        await using var t = await GeminiTestContext.StartAsync();

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.GetBatchAsync("batches/missing"));

        Assert.Single(t.Fake.Requests);
        Assert.Equal(404, e.StatusCode);
        Assert.Equal("GeminiNotFound", e.ToSemanticCoreException().ErrorId);
        Assert.Empty(t.Time.Delays);
    }

    [Fact]
    public async Task Timeout_IsRetried_ThenUnavailable()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.ResponseDelay = TimeSpan.FromSeconds(30);
        var client = t.CreateClient(t.Options with { RequestTimeout = TimeSpan.FromMilliseconds(150), MaxAttempts = 2 });

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => client.GetBatchAsync("batches/slow"));

        Assert.True(e.IsTimeout);
        Assert.Equal(2, t.Fake.Requests.Count);
        Assert.Equal("GeminiUnavailable", e.ToSemanticCoreException().ErrorId);
    }

    [Fact]
    public async Task CallerCancellation_DuringASlowResponse_EndsTheCall_WithoutRetry()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.ResponseDelay = TimeSpan.FromSeconds(30);
        using var cts = new CancellationTokenSource();

        var call = t.Client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT", null, cts.Token);
        await CancelOnceRequested(() => t.Fake.Requests.Count, cts); // not on a timer: a busy machine may not have sent it yet
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Single(t.Fake.Requests);
        Assert.Empty(t.Time.Delays);
    }

    [Fact]
    public async Task CallerCancellation_DuringARetryWait_EndsTheCall()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(Embed, 1, 503, retryDelay: "30s");
        var client = t.CreateClient(time: TimeProvider.System); // a real 30 s wait
        using var cts = new CancellationTokenSource();

        var call = client.EmbedAsync(["x"], "RETRIEVAL_DOCUMENT", null, cts.Token);
        await CancelOnceRequested(() => t.RequestsTo(Embed).Count(), cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Single(t.RequestsTo(Embed));
    }

    /// <summary>Cancels shortly after the first request reached the fake (then the call is waiting: for the answer, or to retry).</summary>
    private static async Task CancelOnceRequested(Func<int> requests, CancellationTokenSource cts)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (requests() == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        await Task.Delay(100);
        cts.Cancel();
    }

    [Fact]
    public async Task AlreadyCancelledToken_SendsNothing()
    {
        await using var t = await GeminiTestContext.StartAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t.Client.GetBatchAsync("batches/x", new CancellationToken(true)));

        Assert.Empty(t.Fake.Requests);
    }
}
