using System.Text;
using System.Text.Json;
using FakeGemini;

namespace SemanticCore.Tests.Gemini;

/// <summary>The fake itself answers like the service where the client does not go.</summary>
public sealed class FakeGeminiServerTests
{
    private static async Task<(int Status, JsonElement Body)> PostAsync(FakeGeminiServer fake, HttpClient http, string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fake.Endpoint, path))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-goog-api-key", FakeGeminiServer.DefaultKey);
        using var response = await http.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return ((int)response.StatusCode, body);
    }

    private static string Request(string text, string model = "models/gemini-embedding-001") =>
        $"{{\"model\":\"{model}\",\"content\":{{\"parts\":[{{\"text\":\"{text}\"}}]}},\"taskType\":\"RETRIEVAL_QUERY\",\"outputDimensionality\":8}}";

    [Fact]
    public async Task EmbedContent_ReturnsOneUnnormalizedVector()
    {
        await using var fake = await FakeGeminiServer.StartAsync();
        using var http = new HttpClient();

        var (status, body) = await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:embedContent", Request("hello"));

        Assert.Equal(200, status);
        var values = body.GetProperty("embedding").GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(FakeVectors.VectorFor("hello", 8), values);
    }

    [Fact]
    public async Task BatchEmbedContents_RefusesMoreThan100_AndAForeignModel()
    {
        await using var fake = await FakeGeminiServer.StartAsync();
        using var http = new HttpClient();
        var tooMany = "{\"requests\":[" + string.Join(",", Enumerable.Range(0, 101).Select(i => Request($"t{i}"))) + "]}";

        var (status, body) = await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:batchEmbedContents", tooMany);
        var (status2, _) = await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:batchEmbedContents",
            "{\"requests\":[" + Request("x", "models/other-embedding") + "]}");

        Assert.Equal(400, status);
        Assert.Equal("INVALID_ARGUMENT", body.GetProperty("error").GetProperty("status").GetString());
        Assert.Contains("at most 100", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, status2);
    }

    [Fact]
    public async Task InjectedFailures_CarryTheRealDetails()
    {
        await using var fake = await FakeGeminiServer.StartAsync();
        using var http = new HttpClient();
        fake.FailNextRequests(":embedContent", 1, 429, retryDelay: "37s", perDayQuota: true);

        var (status, body) = await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:embedContent", Request("x"));
        var (after, _) = await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:embedContent", Request("x"));

        Assert.Equal((429, 200), (status, after));
        var details = body.GetProperty("error").GetProperty("details").EnumerateArray().ToArray();
        Assert.Contains(details, d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.RetryInfo" && d.GetProperty("retryDelay").GetString() == "37s");
        Assert.Contains(details, d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.QuotaFailure"
            && d.GetProperty("violations")[0].GetProperty("quotaId").GetString()!.Contains("PerDay", StringComparison.Ordinal));
    }
    /// <summary>One seed, one sequence of requests: the same faults, each recorded with its call path; a disabled plan injects none.</summary>
    [Fact]
    public async Task FaultPlan_IsDeterministicPerSeed_AndRecordsWhatItInjected()
    {
        async Task<(List<string> Faults, int Embedded, int Answered)> RunAsync(int seed)
        {
            await using var fake = await FakeGeminiServer.StartAsync();
            using var http = new HttpClient();
            var plan = new FaultPlan(seed, 0.5) { SlowAnswer = TimeSpan.FromMilliseconds(1), QuotaRetryDelay = "0s" };
            fake.Faults = plan;
            var answered = 0;
            for (var i = 0; i < 40; i++)
            {
                try
                {
                    if ((await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:embedContent", Request($"text {i}"))).Status == 200) answered++;
                }
                catch (Exception e) when (e is HttpRequestException or JsonException)
                {
                    // A reset or a body cut short.
                }
            }

            Assert.Equal(40, plan.Requests[PathKind.Embed]);
            Assert.All(plan.Injected, f => Assert.Equal(PathKind.Embed, f.Path));
            Assert.Equal(plan.Injected.Count, plan.InjectedByPath()[PathKind.Embed].Values.Sum());
            plan.Enabled = false;
            Assert.Equal(200, (await PostAsync(fake, http, "/v1beta/models/gemini-embedding-001:embedContent", Request("healed"))).Status);
            Assert.Equal(40, plan.Requests[PathKind.Embed]);
            return (plan.Injected.Select(f => $"{f.Sequence} {f.Kind}").ToList(), fake.InteractiveEmbeddings.Count, answered);
        }

        var first = await RunAsync(7);
        var again = await RunAsync(7);
        var other = await RunAsync(8);

        Assert.InRange(first.Faults.Count, 10, 30);
        Assert.Equal(first, again with { Faults = first.Faults });
        Assert.Equal(first.Faults, again.Faults);
        Assert.NotEqual(first.Faults, other.Faults);
        // Every answer that arrived was carried out; some were carried out and their answer lost, none counted twice.
        Assert.True(first.Embedded > first.Answered, $"{first.Embedded} embedded, {first.Answered} answered");
        Assert.True(first.Embedded <= 41);
    }
}
