using System.Text.Json;
using SemanticCore.Embedding;

namespace SemanticCore.Gemini;

public sealed partial class GeminiClient
{
    /// <summary>The API refuses more than 100 requests in one batchEmbedContents call.</summary>
    public const int MaxTextsPerEmbedCall = 100;

    /// <summary>The only size the API normalizes itself.</summary>
    private const int NativeDimensions = 3072;

    /// <summary>
    /// Interactive embeddings: <c>:batchEmbedContents</c> in groups of at most 100, results in input
    /// order, L2-normalized (the API only normalizes 3072-dimension vectors).
    /// </summary>
    /// <param name="taskType">RETRIEVAL_DOCUMENT for chunks, RETRIEVAL_QUERY for queries...</param>
    /// <param name="title">Sent only with RETRIEVAL_DOCUMENT (the API ignores or refuses it otherwise).</param>
    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string taskType, string? title = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentException.ThrowIfNullOrWhiteSpace(taskType);
        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrEmpty(texts[i])) throw new ArgumentException($"Text {i} is empty: the API cannot embed it.", nameof(texts));
        }

        if (taskType != "RETRIEVAL_DOCUMENT") title = null;
        var operation = $"POST {ModelPath}:batchEmbedContents";
        var url = Url($"/v1beta/{ModelPath}:batchEmbedContents");
        var results = new float[texts.Count][];
        for (var offset = 0; offset < texts.Count; offset += MaxTextsPerEmbedCall)
        {
            var count = Math.Min(MaxTextsPerEmbedCall, texts.Count - offset);
            var body = EmbedRequestBody(texts, offset, count, taskType, title);
            var vectors = await SendAsync(operation, _retry, () => JsonRequest(HttpMethod.Post, url, body),
                (response, token) => ParseJsonAsync(response, ParseEmbeddings, token), cancellationToken).ConfigureAwait(false);

            if (vectors.Count != count) throw InvalidResponse(operation, $"Sent {count} texts but received {vectors.Count} embeddings.");
            for (var i = 0; i < count; i++)
            {
                var vector = vectors[i];
                if (vector.Length != Options.Dimensions)
                    throw InvalidResponse(operation, $"Embedding {offset + i} has {vector.Length} dimensions instead of {Options.Dimensions}.");
                results[offset + i] = Options.Dimensions == NativeDimensions ? vector : Vectors.Normalize(vector);
            }
        }

        return results;
    }

    private byte[] EmbedRequestBody(IReadOnlyList<string> texts, int offset, int count, string taskType, string? title) => JsonBody(json =>
    {
        var model = ModelPath;
        json.WriteStartObject();
        json.WriteStartArray("requests");
        for (var i = offset; i < offset + count; i++)
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteStartObject("content");
            json.WriteStartArray("parts");
            json.WriteStartObject();
            json.WriteString("text", texts[i]);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString("taskType", taskType);
            if (title is not null) json.WriteString("title", title);
            json.WriteNumber("outputDimensionality", Options.Dimensions);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary><c>{"embeddings":[{"values":[...]}]}</c>.</summary>
    private static List<float[]> ParseEmbeddings(JsonElement root)
    {
        var vectors = new List<float[]>();
        if (!root.TryGetProperty("embeddings", out var embeddings) || embeddings.ValueKind != JsonValueKind.Array)
            throw new JsonException("The response has no \"embeddings\" array.");
        foreach (var embedding in embeddings.EnumerateArray())
        {
            if (embedding.ValueKind != JsonValueKind.Object || !embedding.TryGetProperty("values", out var values) || values.ValueKind != JsonValueKind.Array)
                throw new JsonException("An embedding has no \"values\" array.");
            var vector = new float[values.GetArrayLength()];
            var i = 0;
            foreach (var value in values.EnumerateArray()) vector[i++] = value.GetSingle();
            vectors.Add(vector);
        }

        return vectors;
    }
}
