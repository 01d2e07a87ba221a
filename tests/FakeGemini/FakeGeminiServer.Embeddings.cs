using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FakeGemini;

public sealed partial class FakeGeminiServer
{
    private const int MaxBatchEmbedRequests = 100;

    private static readonly HashSet<string> TaskTypes =
    [
        "TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION",
        "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY",
    ];

    private int? _embedTokensPerWindow;
    private TimeSpan _embedTokenWindow = TimeSpan.FromMinutes(1);
    private readonly List<(DateTimeOffset At, int Tokens)> _embedSpends = [];
    private int _embedCallsRateLimited;

    /// <summary>
    /// The input tokens batchEmbedContents takes per <see cref="EmbedTokenWindow"/> (every text of a call counts, as the
    /// service counts them: here as <see cref="CountTokens"/> does for batch inputs); past it, the real per-minute
    /// 429 with RetryInfo. Null (the default): no limit.
    /// </summary>
    public int? EmbedTokensPerWindow { get => Read(ref _embedTokensPerWindow); set => Write(ref _embedTokensPerWindow, value); }

    /// <summary>The sliding window of <see cref="EmbedTokensPerWindow"/>: the service's minute, or seconds in a test.</summary>
    public TimeSpan EmbedTokenWindow { get => Read(ref _embedTokenWindow); set => Write(ref _embedTokenWindow, value); }

    /// <summary>The tokens of each batchEmbedContents call taken so far, in order.</summary>
    public IReadOnlyList<int> EmbedCallTokens { get { lock (_gate) return _embedSpends.Select(s => s.Tokens).ToArray(); } }

    /// <summary>batchEmbedContents calls refused by <see cref="EmbedTokensPerWindow"/>.</summary>
    public int EmbedCallsRateLimited { get { lock (_gate) return _embedCallsRateLimited; } }

    /// <summary>Counts a call's tokens against the window, or refuses it with the per-minute 429 when they do not fit.</summary>
    private void SpendEmbedTokens(string model, JsonArray requests)
    {
        var tokens = requests.Sum(r => r is JsonObject request && RequestText(request) is { } text ? (int)CountTokens(text) : 0);
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            if (_embedTokensPerWindow is { } limit)
            {
                var inWindow = _embedSpends.Where(s => s.At > now - _embedTokenWindow).ToList();
                var total = inWindow.Sum(s => s.Tokens);
                if (total + tokens > limit)
                {
                    // Free once enough of the window's calls have left it (never, for a call over the limit on its own: a full window).
                    var freeAt = now + _embedTokenWindow;
                    foreach (var spend in inWindow)
                    {
                        total -= spend.Tokens;
                        if (total + tokens <= limit && tokens <= limit)
                        {
                            freeAt = spend.At + _embedTokenWindow;
                            break;
                        }
                    }

                    _embedCallsRateLimited++;
                    throw FakeApiError.EmbedTokensPerMinute(model, limit, freeAt - now);
                }
            }

            _embedSpends.Add((now, tokens));
        }
    }

    // POST /v1beta/models/{model}:batchEmbedContents {"requests":[...]} -> {"embeddings":[{"values":[...]}]}
    private Task BatchEmbedContentsAsync(HttpContext context, string model, byte[] body)
    {
        CheckModel(model);
        var requests = Field(ParseObject(body), "requests") as JsonArray ?? throw FakeApiError.BadRequest("* BatchEmbedContentsRequest.requests: field is required.");
        if (requests.Count == 0) throw FakeApiError.BadRequest("* BatchEmbedContentsRequest.requests: at least one request is required.");
        if (requests.Count > MaxBatchEmbedRequests)
            throw FakeApiError.BadRequest($"* BatchEmbedContentsRequest.requests: at most {MaxBatchEmbedRequests} requests can be in one batch");

        var embeddings = new JsonArray();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i] as JsonObject ?? throw FakeApiError.BadRequest($"* BatchEmbedContentsRequest.requests[{i}]: must be an object.");
            var requestModel = StringField(request, "model");
            if (requestModel != "models/" + model)
                throw FakeApiError.BadRequest($"* BatchEmbedContentsRequest.requests[{i}].model: model must be 'models/{model}', got '{requestModel}'.");
            embeddings.Add(new JsonObject { ["values"] = Embed(request, $"requests[{i}]") });
        }

        SpendEmbedTokens(model, requests);
        return WriteJsonAsync(context, new JsonObject { ["embeddings"] = embeddings });
    }

    // POST /v1beta/models/{model}:embedContent {request} -> {"embedding":{"values":[...]}}
    private Task EmbedContentAsync(HttpContext context, string model, byte[] body)
    {
        CheckModel(model);
        var values = Embed(ParseObject(body), "request");
        return WriteJsonAsync(context, new JsonObject { ["embedding"] = new JsonObject { ["values"] = values } });
    }

    private static JsonArray Embed(JsonObject request, string where)
    {
        var text = RequestText(request);
        if (string.IsNullOrEmpty(text)) throw FakeApiError.BadRequest($"* {where}.content: contents is not specified");
        var taskType = StringField(request, "taskType", "task_type");
        if (taskType is not null && !TaskTypes.Contains(taskType)) throw FakeApiError.BadRequest($"* {where}.taskType: invalid value '{taskType}'.");
        if (StringField(request, "title") is not null && taskType != "RETRIEVAL_DOCUMENT")
            throw FakeApiError.BadRequest($"* {where}.title: a title is only allowed with taskType RETRIEVAL_DOCUMENT.");
        var values = new JsonArray();
        foreach (var value in FakeVectors.VectorFor(text, Dimensions(request))) values.Add(value);
        return values;
    }

    /// <summary>The text of content.parts[] (concatenated, as the service embeds all parts).</summary>
    private static string? RequestText(JsonObject request)
    {
        if (Field(request, "content") is not JsonObject content || Field(content, "parts") is not JsonArray parts) return null;
        return string.Concat(parts.Select(p => StringField(p as JsonObject, "text")));
    }

    /// <summary>outputDimensionality: 3072 when absent, 1..3072 allowed.</summary>
    private static int Dimensions(JsonObject request)
    {
        var node = Field(request, "outputDimensionality", "output_dimensionality");
        if (node is null) return 3072;
        if (node is not JsonValue value || !value.TryGetValue<int>(out var dimensions) || dimensions is < 1 or > 3072)
            throw FakeApiError.BadRequest("* outputDimensionality: must be between 1 and 3072.");
        return dimensions;
    }

    private static void CheckModel(string model)
    {
        if (!model.Contains("embedding", StringComparison.Ordinal))
            throw FakeApiError.NotFound($"models/{model} is not found for API version v1beta, or is not supported for embedding.");
    }
}
