using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>Interactive embedding through Gemini's batchEmbedContents (full price, immediate).</summary>
public sealed class GeminiEmbeddingProvider(GeminiClient client, IndexSettings settings) : IEmbeddingProvider
{
    public IndexSettings Settings { get; } = settings;

    public Task<IReadOnlyList<float[]>> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        Call(() => client.EmbedAsync(texts, "RETRIEVAL_DOCUMENT", null, cancellationToken));

    public async Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken) =>
        (await Call(() => client.EmbedAsync([text], "RETRIEVAL_QUERY", null, cancellationToken)).ConfigureAwait(false))[0];

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
