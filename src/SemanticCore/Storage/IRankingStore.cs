using SemanticCore.Model;
using SemanticCore.Search;

namespace SemanticCore.Storage;

/// <summary>
/// Where a search ranks chunks: each store ranks where its data is and hands back the top k chunk ids with their
/// scores (higher is better), best first, equal scores by chunk id. A failure to read leaves as IndexReadFailed
/// (or the ErrorId of its cause: IndexLocked, IndexCorrupt...).
/// </summary>
internal interface IRankingStore
{
    /// <summary>How many chunks the index holds, every one of them in the keyword index (Pending included).</summary>
    long CountChunks();

    /// <summary>The top <paramref name="k"/> chunks the filter allows that hold any of <paramref name="words"/>, ranked by BM25 over text, section and title.</summary>
    /// <param name="words">Plain words (<see cref="KeywordQuery.Words"/>): the store quotes them in its own syntax, never parsing them as syntax.</param>
    IReadOnlyList<(long ChunkId, double Score)> TopKeywordHits(IReadOnlyList<string> words, SearchFilter filter, int k);

    /// <summary>How many searchable vectors (Ready, the index's model and dimension) the index holds, read as <see cref="TopVectorHits"/> would read them.</summary>
    /// <param name="keepInMemory">Keep the vectors in this process's memory for later queries, when the store holds any there.</param>
    VectorInventory CountSearchableVectors(bool keepInMemory, CancellationToken cancellationToken);

    /// <summary>The top <paramref name="k"/> searchable vectors the filter allows by dot product with <paramref name="query"/> (cosine: the vectors are normalized), and how many were scored.</summary>
    /// <param name="keepInMemory">Keep the vectors in this process's memory for later queries, when the store holds any there.</param>
    VectorRanking TopVectorHits(float[] query, SearchFilter filter, int k, bool keepInMemory, CancellationToken cancellationToken);

    /// <summary>Forgets this index's vectors held in this process's memory (none when the store holds none there).</summary>
    void ForgetVectorsInMemory();

    /// <summary>
    /// Builds (<see cref="VectorIndexKind.Hnsw"/>) or drops (<see cref="VectorIndexKind.None"/>) the index semantic searches
    /// go through; returns what it did in a sentence, or null when the index was already so.
    /// </summary>
    /// <exception cref="SemanticCoreException">VectorIndexUnsupported: the store ranks its vectors another way.</exception>
    string? SetVectorIndex(VectorIndexKind kind);

    /// <summary>What a search shows of each chunk in <paramref name="chunkIds"/>, by chunk id; a chunk deleted meanwhile (by another process) is missing.</summary>
    IReadOnlyDictionary<long, ChunkDetails> Details(IReadOnlyCollection<long> chunkIds);
}

/// <summary>The searchable vectors a search found before ranking by meaning.</summary>
/// <param name="Count">How many there are; null when they were only checked for, not read.</param>
/// <param name="FromMemory">True when they were already in this process's memory.</param>
internal sealed record VectorInventory(bool Any, long? Count, bool FromMemory);

/// <summary>The vectors ranked by meaning: the top hits, how many vectors the filter let be scored, and how many were read.</summary>
internal sealed record VectorRanking(IReadOnlyList<(long ChunkId, double Score)> Hits, long Scored, long Vectors);

/// <summary>What a search hit shows of its chunk and document.</summary>
internal sealed record ChunkDetails(long? DocumentId, string? DocumentPath, string? Title, string? Section, ChunkType ChunkType,
    string? Language, string Content, EmbeddingStatus Status);
