using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>The chunks and their embedding statuses: <c>Get-ChunkStatus</c>'s reads and <c>Reset-ChunkStatus</c>'s requeue.</summary>
internal interface IChunkStore
{
    /// <summary>The chunks that pass <paramref name="filter"/>, ordered by document path, ordinal and id, streamed (never all in memory).</summary>
    IEnumerable<Chunk> Find(ChunkFilter filter);

    /// <summary>One row per status (all four, zeros included, in lifecycle order) and a Total row, for the chunks that pass <paramref name="filter"/>.</summary>
    IReadOnlyList<ChunkStatusSummary> Summarize(ChunkFilter filter);

    /// <summary>
    /// Atomically, the Failed chunks among <paramref name="ids"/> (with <paramref name="force"/>: Ready and Pending ones too)
    /// become Pending with RetryCount 0 and no error; a Ready chunk loses its vector, since it is to be embedded again.
    /// Submitted chunks are never touched, even when a job claimed them meanwhile: a job holds them. Returns the ids requeued.
    /// </summary>
    /// <exception cref="SemanticCoreException">DatabaseWriteFailed (or the store's own cause): nothing was changed.</exception>
    IReadOnlyList<long> Requeue(IReadOnlyCollection<long> ids, bool force);
}
