namespace SemanticCore.Batches;

/// <summary>What one page of a job's output says about its chunks, each chunk at most once: as sets, for one transaction.</summary>
/// <param name="Vectors">Chunks that got an embedding (normalized), with the tokens the service reported for it.</param>
/// <param name="Failures">Chunks that failed for good, with the service's words.</param>
/// <param name="Retries">Chunks that failed in a way worth retrying, with the service's words.</param>
internal sealed record ResultPage(
    IReadOnlyList<(long ChunkId, float[] Vector, long Tokens)> Vectors,
    IReadOnlyList<(long ChunkId, string Message)> Failures,
    IReadOnlyList<(long ChunkId, string Message)> Retries);
