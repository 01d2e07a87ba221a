using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>Interactive embedding through Gemini's batchEmbedContents (full price, immediate), paced by the client.</summary>
/// <param name="progress">Hears of each wait for the tokens-per-minute budget.</param>
public sealed class GeminiEmbeddingProvider(GeminiClient client, IndexSettings settings, IProgress<OperationProgress>? progress = null) : IEmbeddingProvider
{
    public IndexSettings Settings { get; } = settings;

    public Task EmbedDocumentsAsync(IReadOnlyList<string> texts, Action<int, IReadOnlyList<float[]>> embedded, CancellationToken cancellationToken) =>
        Call(async () =>
        {
            await client.EmbedInGroupsAsync(texts, "RETRIEVAL_DOCUMENT", null, embedded, progress, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public async Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken)
    {
        float[]? vector = null;
        await Call(async () =>
        {
            await client.EmbedInGroupsAsync([text], "RETRIEVAL_QUERY", null, (_, v) => vector = v[0], progress, cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        return vector!;
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (GeminiApiException ex)
        {
            throw ex.ToSemanticCoreException();
        }
    }
}
