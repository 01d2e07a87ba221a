namespace SemanticCore.Model;

/// <summary>A chunk's place in the embedding lifecycle: Pending -> Submitted -> Ready, or Failed.</summary>
public enum EmbeddingStatus
{
    Pending,
    Submitted,
    Ready,
    Failed,
}
