namespace SemanticCore.Storage;

/// <summary>How a semantic search finds the nearest vectors: by scoring every one (exact), or through an HNSW graph (approximate, fast).</summary>
public enum VectorIndexKind
{
    /// <summary>No vector index: every search is exact.</summary>
    None,

    /// <summary>pgvector's HNSW index (PostgreSQL indexes only).</summary>
    Hnsw,
}
