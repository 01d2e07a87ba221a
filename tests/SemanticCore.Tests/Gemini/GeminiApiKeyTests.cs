using FakeGemini;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

public sealed class GeminiApiKeyTests
{
    private const string SecretKey = "AIzaSy-THIS-KEY-MUST-NEVER-LEAK-42";

    [Fact]
    public void ApiKey_FormatsAsStars()
    {
        var key = new ApiKey(SecretKey);

        Assert.Equal("***", key.ToString());
        Assert.Equal("key=***", $"key={key}");
        Assert.DoesNotContain(SecretKey, Assert.Throws<ArgumentException>(() => new ApiKey("bad key")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidKey_IsGeminiInvalidApiKey_NotRetried_AndTheKeyAppearsNowhere()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var client = t.CreateClient(key: SecretKey);

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => client.EmbedAsync(["text"], "RETRIEVAL_DOCUMENT"));

        Assert.Equal(400, e.StatusCode);
        Assert.Equal("API_KEY_INVALID", e.Reason);
        Assert.True(e.IsInvalidApiKey);
        Assert.Single(t.Fake.Requests); // a 400 is never retried
        var error = e.ToSemanticCoreException();
        Assert.Equal("GeminiInvalidApiKey", error.ErrorId);
        Assert.Equal(FailureKind.AuthenticationError, error.Kind);
        Assert.Contains("rejected the API key", error.Message, StringComparison.Ordinal);
        Assert.Contains("Set-SemanticKeyring", error.Message, StringComparison.Ordinal);
        Assert.Contains("API key not valid", error.Message, StringComparison.Ordinal); // the API's own words
        foreach (var text in new[] { e.Message, e.ToString(), error.Message, error.ToString() })
        {
            Assert.DoesNotContain(SecretKey, text, StringComparison.Ordinal);
        }

        var request = Assert.Single(t.Fake.Requests);
        Assert.DoesNotContain(SecretKey, request.Path + request.QueryString, StringComparison.Ordinal);
        Assert.Equal(SecretKey, request.Header("x-goog-api-key"));
    }

    [Fact]
    public async Task InvalidKey_InAnArrayWrappedErrorBody_IsRecognizedToo()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.WrapErrorsInArray = true;

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.CreateClient(key: SecretKey).GetBatchAsync("batches/x"));

        Assert.Equal("GeminiInvalidApiKey", e.ToSemanticCoreException().ErrorId);
    }

    [Fact]
    public async Task TheKeyTravelsOnlyInTheHeader_OfEveryRequest()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.ValidKeys = new HashSet<string> { SecretKey };
        var client = t.CreateClient(key: SecretKey);

        await client.EmbedAsync(["hello"], "RETRIEVAL_DOCUMENT");
        var input = new MemoryStream();
        var writer = new BatchInputWriter(input);
        writer.Write("1", "hello world");
        writer.Flush();
        input.Position = 0;
        var file = await client.UploadFileAsync(input, input.Length, "job-1");
        var batch = await client.CreateBatchAsync("job-1", file.Name);
        await client.GetBatchAsync(batch.Name);
        var done = await client.GetBatchAsync(batch.Name);
        await using (var output = await client.DownloadFileAsync(done.ResponsesFileName!))
        {
            await foreach (var _ in BatchOutputReader.ReadAsync(output)) { }
        }

        await foreach (var _ in client.ListBatchesAsync()) { }
        await client.DeleteFileAsync(file.Name);
        await client.DeleteBatchAsync(batch.Name);

        var requests = t.Fake.Requests;
        Assert.True(requests.Count >= 10);
        Assert.All(requests, r =>
        {
            Assert.Equal(SecretKey, r.Header("x-goog-api-key"));
            Assert.DoesNotContain("key=", r.QueryString, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(SecretKey, r.Path + r.QueryString + r.Body, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Fake_RecordsAndRefusesAKeyInTheQueryString()
    {
        await using var t = await GeminiTestContext.StartAsync();

        var response = await t.Http.GetAsync(new Uri(t.Fake.Endpoint, $"/v1beta/batches?key={FakeGeminiServer.DefaultKey}"));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("API_KEY_INVALID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("key=", Assert.Single(t.Fake.Requests).QueryString, StringComparison.Ordinal);
    }
}
