using System.Text;
using System.Text.Json;
using FakeGemini;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

public sealed class GeminiBatchTests
{
    /// <summary>Writes and uploads a batch input with keys k0..k{n-1}.</summary>
    internal static async Task<GeminiFile> UploadInputAsync(GeminiClient client, int lines, string displayName = "input")
    {
        var input = new MemoryStream();
        var writer = new BatchInputWriter(input);
        for (var i = 0; i < lines; i++) writer.Write($"k{i}", TextOf(i));
        writer.Flush();
        input.Position = 0;
        return await client.UploadFileAsync(input, writer.BytesWritten, displayName);
    }

    internal static string TextOf(int i) => $"text of chunk {i} with a few words";

    [Fact]
    public async Task CreateThenPoll_GoesPendingRunningSucceeded_WithTheOutputFile()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 3);

        var created = await t.Client.CreateBatchAsync("local-job-1", input.Name);
        var first = await t.Client.GetBatchAsync(created.Name);
        var second = await t.Client.GetBatchAsync(created.Name);

        var create = Assert.Single(t.RequestsTo(":asyncBatchEmbedContent"));
        Assert.Equal("/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent", create.Path);
        var batch = JsonDocument.Parse(create.Body!).RootElement.GetProperty("batch");
        Assert.Equal("local-job-1", batch.GetProperty("displayName").GetString());
        Assert.Equal(input.Name, batch.GetProperty("inputConfig").GetProperty("fileName").GetString());

        Assert.StartsWith("batches/", created.Name, StringComparison.Ordinal);
        Assert.Equal(BatchState.Pending, created.State);
        Assert.False(created.Done);
        Assert.False(created.IsTerminal);
        Assert.Equal("local-job-1", created.DisplayName);
        Assert.Equal("models/gemini-embedding-001", created.Model);
        Assert.Equal(input.Name, created.InputFileName);
        Assert.Equal(3, created.RequestCount);
        Assert.Null(created.ResponsesFileName);
        Assert.NotNull(created.CreateTime);

        Assert.Equal(BatchState.Running, first.State);
        Assert.Equal(BatchState.Succeeded, second.State);
        Assert.True(second.Done);
        Assert.True(second.IsTerminal);
        Assert.Equal((3L, 3L, 0L), (second.RequestCount, second.SuccessfulCount, second.FailedCount)); // failed omitted = 0
        Assert.NotNull(second.EndTime);
        Assert.Equal($"files/batch-{created.Name["batches/".Length..]}", second.ResponsesFileName);
        Assert.Null(second.ErrorMessage);
    }

    [Fact]
    public async Task ListBatches_FollowsPageTokens()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 1);
        var created = new List<string>();
        for (var i = 0; i < 5; i++) created.Add((await t.Client.CreateBatchAsync($"job-{i}", input.Name)).Name);

        var listed = new List<BatchOperation>();
        await foreach (var b in t.Client.ListBatchesAsync(pageSize: 2)) listed.Add(b);

        Assert.Equal(created, listed.Select(b => b.Name));
        Assert.Equal(["job-0", "job-1", "job-2", "job-3", "job-4"], listed.Select(b => b.DisplayName));
        var pages = t.RequestsTo("/v1beta/batches?");
        Assert.Equal(3, pages.Length);
        Assert.DoesNotContain("pageToken", pages[0].QueryString, StringComparison.Ordinal);
        Assert.All(pages.Skip(1), p => Assert.Contains("pageToken=", p.QueryString, StringComparison.Ordinal));
        Assert.All(pages, p => Assert.Contains("pageSize=2", p.QueryString, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CancelAndDelete()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.AutoComplete = false;
        var input = await UploadInputAsync(t.Client, 2);
        var job = await t.Client.CreateBatchAsync("to-cancel", input.Name);

        await t.Client.CancelBatchAsync(job.Name);
        var cancelled = await t.Client.GetBatchAsync(job.Name);
        await t.Client.DeleteBatchAsync(job.Name);
        await t.Client.DeleteBatchAsync(job.Name); // already gone: fine
        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.GetBatchAsync(job.Name));

        var cancel = Assert.Single(t.RequestsTo(":cancel"));
        Assert.Equal(("POST", $"/v1beta/{job.Name}:cancel", "{}"), (cancel.Method, cancel.Path, cancel.Body));
        Assert.Equal(BatchState.Cancelled, cancelled.State);
        Assert.True(cancelled.Done);
        Assert.Null(cancelled.ResponsesFileName);
        Assert.Empty(t.Fake.Batches);
        Assert.Equal("GeminiNotFound", e.ToSemanticCoreException().ErrorId);
        Assert.Equal(FailureKind.ObjectNotFound, e.ToSemanticCoreException().Kind);
    }

    [Fact]
    public async Task FailedAndExpiredJobs_HaveNoOutput_FailedCarriesTheOperationError()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.AutoComplete = false;
        var input = await UploadInputAsync(t.Client, 2);
        var failing = await t.Client.CreateBatchAsync("a", input.Name);
        var expiring = await t.Client.CreateBatchAsync("b", input.Name);
        var waiting = await t.Client.CreateBatchAsync("c", input.Name);

        t.Fake.Fail(failing.Name, "Internal error while processing the batch.");
        t.Fake.Expire(expiring.Name);
        var failed = await t.Client.GetBatchAsync(failing.Name);
        var expired = await t.Client.GetBatchAsync(expiring.Name);
        var polled = new List<BatchState>();
        for (var i = 0; i < 4; i++) polled.Add((await t.Client.GetBatchAsync(waiting.Name)).State);
        t.Fake.Complete(waiting.Name);
        var completed = await t.Client.GetBatchAsync(waiting.Name);

        Assert.Equal(BatchState.Failed, failed.State);
        Assert.Equal("Internal error while processing the batch.", failed.ErrorMessage);
        Assert.Null(failed.ResponsesFileName);
        Assert.Equal(BatchState.Expired, expired.State);
        Assert.True(expired.IsTerminal);
        Assert.Null(expired.ResponsesFileName);
        Assert.All(polled, s => Assert.Equal(BatchState.Running, s)); // AutoComplete off: stays running
        Assert.Equal(BatchState.Succeeded, completed.State);
        Assert.NotNull(completed.ResponsesFileName);
    }

    [Fact]
    public async Task Create_WithAnInvalidInputLine_IsABadRequest()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var data = Encoding.UTF8.GetBytes("{\"request\":{\"content\":{\"parts\":[{\"text\":\"no key\"}]}}}\n");
        var file = await t.Client.UploadFileAsync(new MemoryStream(data), data.Length, "bad");

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.CreateBatchAsync("bad", file.Name));

        Assert.Equal("GeminiBadRequest", e.ToSemanticCoreException().ErrorId);
        Assert.Contains("line 1", e.ApiMessage, StringComparison.Ordinal);
        Assert.Equal(0, t.Fake.BatchCreateCount);
    }

    [Fact]
    public async Task Create_WhoseAnswerIsLost_IsNotRepeated_AndIsFoundAgainByDisplayName()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 2);
        t.Fake.CrashAfterCreate = true;

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.CreateBatchAsync("local-7", input.Name));
        t.Fake.CrashAfterCreate = false;
        var found = await t.Client.FindBatchesAsync("local-7");

        Assert.True(e.IsTransportFailure);
        Assert.Single(t.RequestsTo(":asyncBatchEmbedContent"));
        Assert.Equal(1, t.Fake.BatchCreateCount);
        Assert.Equal(t.Fake.Batches.Single().Name, Assert.Single(found).Name);
    }

    [Fact]
    public async Task Create_IsNotRetriedOn503()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 1);
        t.Fake.FailNextRequests(":asyncBatchEmbedContent", 1, 503);

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.CreateBatchAsync("once", input.Name));

        Assert.Equal(503, e.StatusCode);
        Assert.Single(t.RequestsTo(":asyncBatchEmbedContent"));
        Assert.Empty(t.Time.Delays);
    }

    [Fact]
    public async Task Create_IsRetriedOn429_WhereTheServerDidNothing()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 1);
        t.Fake.FailNextRequests(":asyncBatchEmbedContent", 1, 429, retryDelay: "2s");

        var job = await t.Client.CreateBatchAsync("after-429", input.Name);

        Assert.Equal(2, t.RequestsTo(":asyncBatchEmbedContent").Length);
        Assert.Equal(1, t.Fake.BatchCreateCount);
        Assert.Equal([TimeSpan.FromSeconds(2)], t.Time.Delays);
        Assert.Equal("after-429", job.DisplayName);
    }

    [Fact]
    public async Task Create_IsRetriedWhenTheConnectionCannotBeOpened()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var client = t.CreateClient(t.Options with { Endpoint = ClosedPort(), MaxAttempts = 3 });

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => client.CreateBatchAsync("x", "files/abc"));

        Assert.True(e.IsTransportFailure);
        Assert.Equal(2, t.Time.Delays.Count); // three attempts
        Assert.Equal("GeminiUnavailable", e.ToSemanticCoreException().ErrorId);
        Assert.Equal(FailureKind.ConnectionError, e.ToSemanticCoreException().Kind);
    }

    internal static Uri ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }

    [Fact]
    public async Task Fake_ExposesJobsAndFiles()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 2);
        var job = await t.Client.CreateBatchAsync("seen", input.Name);

        var info = Assert.Single(t.Fake.Batches);
        Assert.Equal((job.Name, "seen", "BATCH_STATE_PENDING", input.Name, 2), (info.Name, info.DisplayName, info.State, info.InputFileName, info.RequestCount));
        Assert.Equal(input.Name, Assert.Single(t.Fake.Files).Name);
        Assert.Equal(1, t.Fake.BatchCreateCount);
        Assert.Null(t.Fake.OutputOf(job.Name));
    }

    [Fact]
    public async Task A_create_past_the_enqueued_token_cap_is_refused_once_as_a_full_queue_and_not_retried()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var first = await UploadInputAsync(t.Client, 20, "first");
        var second = await UploadInputAsync(t.Client, 20, "second");
        t.Fake.EnqueuedTokenLimit = t.Fake.EnqueuedTokens + 250; // room for one input of 20 lines, not two

        await t.Client.CreateBatchAsync("job-1", first.Name);
        var refused = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.CreateBatchAsync("job-2", second.Name));

        Assert.True(refused.IsBatchQueueFull);
        Assert.Equal(429, refused.StatusCode);
        Assert.Equal("RESOURCE_EXHAUSTED", refused.Status);
        Assert.Contains("You exceeded your current quota", refused.ApiMessage, StringComparison.Ordinal);
        Assert.Equal(2, t.RequestsTo(":asyncBatchEmbedContent").Length); // the refused create was sent once
        Assert.Empty(t.Time.Delays);
        Assert.Equal(1, t.Fake.QueueFullRefusals);
        Assert.Single(t.Fake.Batches);
    }

    [Fact]
    public async Task A_rate_limit_429_on_create_is_not_a_full_queue_and_is_retried()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var input = await UploadInputAsync(t.Client, 3);
        t.Fake.FailNextRequests(":asyncBatchEmbedContent", 1, 429, retryDelay: "2s");

        var created = await t.Client.CreateBatchAsync("job-1", input.Name);

        Assert.StartsWith("batches/", created.Name, StringComparison.Ordinal);
        Assert.Equal(2, t.RequestsTo(":asyncBatchEmbedContent").Length);
        Assert.Equal([TimeSpan.FromSeconds(2)], t.Time.Delays);
    }
}
