namespace SemanticCore.Model;

/// <summary>How a search ranks chunks.</summary>
public enum SearchMode
{
    /// <summary>Reciprocal rank fusion of the keyword and the semantic rankings.</summary>
    Hybrid,
    /// <summary>Cosine similarity of the query's embedding with every Ready vector.</summary>
    Semantic,
    /// <summary>BM25 over the full-text index: every chunk, Pending ones included.</summary>
    Keyword,
}

/// <summary>Which rankings found a hit.</summary>
[Flags]
public enum SearchMatch
{
    None = 0,
    Keyword = 1,
    Semantic = 2,
}

/// <summary>One chunk found by <c>Search-SemanticIndex</c>, with its place in its document.</summary>
public sealed class SearchHit
{
    /// <summary>1 for the best hit of the query.</summary>
    public int Rank { get; init; }
    /// <summary>Keyword: BM25 (higher is better); Semantic: cosine similarity (-1..1); Hybrid: the fused score, Σ 1/(60 + rank).</summary>
    public double Score { get; init; }
    /// <summary>"Keyword", "Semantic", or "Keyword, Semantic" (flags).</summary>
    public string MatchedBy => Match.ToString();
    /// <summary>The hit's rank in the keyword ranking, if it was in it.</summary>
    public int? KeywordRank { get; init; }
    /// <summary>The hit's rank in the semantic ranking, if it was in it.</summary>
    public int? SemanticRank { get; init; }
    /// <summary>The source document's full path; null for rows of the earlier layout, which had no documents.</summary>
    public string? DocumentPath { get; init; }
    public string? Title { get; init; }
    /// <summary>The headings above the chunk, "Guide > Install > Linux".</summary>
    public string? Section { get; init; }
    public string ChunkType => Type.ToString();
    public string? Language { get; init; }
    /// <summary>The whole chunk.</summary>
    public string Content { get; init; } = "";
    public required long ChunkId { get; init; }
    public long? DocumentId { get; init; }
    public string Status => State.ToString();
    public required string Query { get; init; }
    public required string Database { get; init; }

    internal SearchMatch Match { get; init; }
    internal ChunkType Type { get; init; }
    internal EmbeddingStatus State { get; init; }

    public override string ToString() => $"{Rank}. {DocumentPath}{(Section is null ? "" : " § " + Section)}";
}
