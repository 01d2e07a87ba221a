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
