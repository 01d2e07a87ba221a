using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>Interactive embedding: texts in, L2-normalized vectors out, in request order.</summary>
public interface IEmbeddingProvider
{
    /// <summary>The provider, model and dimension of the vectors it returns.</summary>
    IndexSettings Settings { get; }

    /// <summary>
    /// Embeds chunk texts for retrieval (Gemini: RETRIEVAL_DOCUMENT), handing each call's vectors, with the index of its
    /// first text, to <paramref name="embedded"/> as the call returns: a failure part-way leaves the caller what was
    /// embedded (and paid for) before it, call by call.
    /// </summary>
    Task EmbedDocumentsAsync(IReadOnlyList<string> texts, Action<int, IReadOnlyList<float[]>> embedded, CancellationToken cancellationToken);

    /// <summary>Embeds a search query (Gemini: RETRIEVAL_QUERY).</summary>
    Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken);
}
