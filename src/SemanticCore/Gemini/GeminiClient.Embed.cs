using System.Text.Json;
using SemanticCore.Chunking;
using SemanticCore.Embedding;

namespace SemanticCore.Gemini;

public sealed partial class GeminiClient
{
    /// <summary>The API refuses more than 100 requests in one batchEmbedContents call.</summary>
    public const int MaxTextsPerEmbedCall = 100;

    /// <summary>The only size the API normalizes itself.</summary>
    private const int NativeDimensions = 3072;

    /// <summary>
    /// Interactive embeddings: <c>:batchEmbedContents</c> in paced groups (see <see cref="EmbedInGroupsAsync"/>),
    /// results in input order, L2-normalized (the API only normalizes 3072-dimension vectors).
    /// </summary>
    /// <param name="taskType">RETRIEVAL_DOCUMENT for chunks, RETRIEVAL_QUERY for queries...</param>
    /// <param name="title">Sent only with RETRIEVAL_DOCUMENT (the API ignores or refuses it otherwise).</param>
    public async Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string taskType, string? title = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var results = new float[texts.Count][];
        await EmbedInGroupsAsync(texts, taskType, title, (first, vectors) =>
        {
            for (var i = 0; i < vectors.Count; i++) results[first + i] = vectors[i];
        }, null, cancellationToken).ConfigureAwait(false);
        return results;
    }

    /// <summary>
    /// Embeds <paramref name="texts"/> with <c>:batchEmbedContents</c>, handing each call's L2-normalized vectors to
    /// <paramref name="embedded"/> (with the index of its first text) as the call returns, so a failure part-way leaves
    /// the earlier groups (embedded, and paid for) with the caller.
    /// </summary>
    /// <remarks>
    /// A call carries at most 100 texts and the tokens its <see cref="EmbedPacer"/> allows, and waits for room in the
    /// pacer's window. A per-minute 429 waits as the service asks (RetryInfo, else a doubling backoff), halves the
    /// groups, and tries again, up to <see cref="GeminiOptions.MaxAttempts"/> times in a row; a per-day 429 ends the call.
    /// </remarks>
    /// <param name="progress">Hears of each wait for the budget.</param>
    public async Task EmbedInGroupsAsync(IReadOnlyList<string> texts, string taskType, string? title, Action<int, IReadOnlyList<float[]>> embedded,
        IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(embedded);
        ArgumentException.ThrowIfNullOrWhiteSpace(taskType);
        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrEmpty(texts[i])) throw new ArgumentException($"Text {i} is empty: the API cannot embed it.", nameof(texts));
        }

        if (taskType != "RETRIEVAL_DOCUMENT") title = null;
        var operation = $"POST {ModelPath}:batchEmbedContents";
        var url = Url($"/v1beta/{ModelPath}:batchEmbedContents");
        var tokens = texts.Select(t => TokenEstimator.Estimate(t)).ToArray();
        var refusals = 0;
        for (var offset = 0; offset < texts.Count;)
        {
            var count = _pacer.NextGroup(tokens.AsSpan(offset), MaxTextsPerEmbedCall);
            var groupTokens = tokens.Skip(offset).Take(count).Sum();
            var booking = await _pacer.ReserveAsync(groupTokens, wait => progress?.Report(new OperationProgress("Embedding",
                $"Waiting {wait.TotalSeconds:N0} s for the tokens-per-minute budget ({_pacer.TokensPerWindow:N0} tokens per {_pacer.Window.TotalSeconds:N0} s, ${GeminiOptions.TokensPerMinuteVariable})")),
                cancellationToken).ConfigureAwait(false);
            var body = EmbedRequestBody(texts, offset, count, taskType, title);
            List<float[]> vectors;
            try
            {
                vectors = await SendAsync(operation, _retryEmbed, () => JsonRequest(HttpMethod.Post, url, body),
                    (response, token) => ParseJsonAsync(response, ParseEmbeddings, token), cancellationToken).ConfigureAwait(false);
            }
            catch (GeminiApiException e) when (e is { StatusCode: 429, IsPerDayQuota: false } && ++refusals < Options.MaxAttempts)
            {
                _pacer.Throttled(RateLimitWait(e, refusals), count, groupTokens);
                continue;
            }
            finally
            {
                _pacer.Complete(booking);
            }

            refusals = 0;
            if (vectors.Count != count) throw InvalidResponse(operation, $"Sent {count} texts but received {vectors.Count} embeddings.");
            for (var i = 0; i < count; i++)
            {
                if (vectors[i].Length != Options.Dimensions)
                    throw InvalidResponse(operation, $"Embedding {offset + i} has {vectors[i].Length} dimensions instead of {Options.Dimensions}.");
                if (Options.Dimensions != NativeDimensions) vectors[i] = Vectors.Normalize(vectors[i]);
            }

            embedded(offset, vectors);

            offset += count;
        }
    }

    /// <summary>The service's RetryInfo / Retry-After, else a backoff doubling from the first retry wait; within the longest wait.</summary>
    private TimeSpan RateLimitWait(GeminiApiException e, int refusals)
    {
        var wait = e.RetryDelay ?? Options.BaseRetryDelay * Math.Pow(2, Math.Min(refusals - 1, 16));
        return wait < Options.MaxRetryDelay ? wait : Options.MaxRetryDelay;
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
