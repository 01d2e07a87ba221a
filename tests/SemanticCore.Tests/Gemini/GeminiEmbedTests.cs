using System.Net;
using System.Numerics.Tensors;
using System.Text.Json;
using FakeGemini;
using SemanticCore.Embedding;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

public sealed class GeminiEmbedTests
{
    [Fact]
    public async Task Embed_250Texts_SendsThreeCallsOfAtMost100_KeepsOrder_NormalizesAt768()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var texts = Enumerable.Range(0, 250).Select(i => $"chunk number {i} about topic {i % 7}").ToArray();

        var vectors = await t.Client.EmbedAsync(texts, "RETRIEVAL_DOCUMENT");

        var calls = t.RequestsTo(":batchEmbedContents");
        Assert.Equal(3, calls.Length);
        Assert.Equal([100, 100, 50], calls.Select(c => JsonDocument.Parse(c.Body!).RootElement.GetProperty("requests").GetArrayLength()));
        Assert.Equal(250, vectors.Count);
        for (var i = 0; i < texts.Length; i++)
        {
            var expected = Vectors.Normalize(FakeVectors.VectorFor(texts[i], 768));
            Assert.Equal(expected, vectors[i]);
            Assert.Equal(1f, TensorPrimitives.Norm(vectors[i]), 1e-5f);
        }
    }

    [Fact]
    public async Task Embed_SendsTheDocumentedRequestShape()
    {
        await using var t = await GeminiTestContext.StartAsync();

        await t.Client.EmbedAsync(["first", "second"], "RETRIEVAL_DOCUMENT", "My title");
        await t.Client.EmbedAsync(["a query"], "RETRIEVAL_QUERY", "ignored for queries");

        var calls = t.RequestsTo(":batchEmbedContents");
        Assert.All(calls, c => Assert.Equal("/v1beta/models/gemini-embedding-001:batchEmbedContents", c.Path));
        var document = JsonDocument.Parse(calls[0].Body!).RootElement.GetProperty("requests")[1];
        Assert.Equal("models/gemini-embedding-001", document.GetProperty("model").GetString());
        Assert.Equal("second", document.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal("RETRIEVAL_DOCUMENT", document.GetProperty("taskType").GetString());
        Assert.Equal("My title", document.GetProperty("title").GetString());
        Assert.Equal(768, document.GetProperty("outputDimensionality").GetInt32());
        var query = JsonDocument.Parse(calls[1].Body!).RootElement.GetProperty("requests")[0];
        Assert.Equal("RETRIEVAL_QUERY", query.GetProperty("taskType").GetString());
        Assert.False(query.TryGetProperty("title", out _));
    }

    [Fact]
    public async Task Embed_3072_IsReturnedAsTheApiSentIt()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var client = t.CreateClient(t.Options with { Dimensions = 3072 });

        var vectors = await client.EmbedAsync(["full size"], "RETRIEVAL_DOCUMENT");

        var raw = FakeVectors.VectorFor("full size", 3072);
        Assert.Equal(raw, vectors[0]);
        Assert.NotEqual(1f, TensorPrimitives.Norm(vectors[0]), 1e-3f); // the fake does not normalize: nor did the client
    }

    [Fact]
    public async Task Embed_NoTexts_MakesNoCall()
    {
        await using var t = await GeminiTestContext.StartAsync();

        var vectors = await t.Client.EmbedAsync([], "RETRIEVAL_DOCUMENT");

        Assert.Empty(vectors);
        Assert.Empty(t.Fake.Requests);
    }

    [Theory]
    [InlineData("{\"embeddings\":[{\"values\":[1,0]}]}", "received 1 embeddings")]
    [InlineData("{\"embeddings\":[{\"values\":[1,0]},{\"values\":[1,0,0]}]}", "3 dimensions instead of 2")]
    [InlineData("{\"embedding\":{\"values\":[1,0]}}", "not the expected JSON")]
    public async Task Embed_ResponseOfTheWrongShape_IsAnInvalidResponse(string body, string expected)
    {
        using var http = new HttpClient(new CannedHandler(HttpStatusCode.OK, body));
        var client = new GeminiClient(http, new ApiKey("k"), new GeminiOptions { Dimensions = 2, BaseRetryDelay = TimeSpan.Zero });

        var e = await Assert.ThrowsAsync<GeminiApiException>(() => client.EmbedAsync(["a", "b"], "RETRIEVAL_DOCUMENT"));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal("GeminiInvalidResponse", e.ToSemanticCoreException().ErrorId);
        Assert.Equal(FailureKind.InvalidData, e.ToSemanticCoreException().Kind);
    }

    private sealed class CannedHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body) });
    }
}
