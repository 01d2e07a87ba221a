namespace SemanticCore.Storage;

/// <summary>
/// Every row of an index, table by table in the order a copy writes them (a table before the tables that point at it);
/// each sequence is read once, lazily, from one snapshot. Timestamps are UTC; JSON columns are their text.
/// </summary>
internal sealed record IndexRows(
    IEnumerable<SettingRow> Settings,
    IEnumerable<DocumentRow> Documents,
    IEnumerable<BatchJobRow> Jobs,
    IEnumerable<ChunkRow> Chunks,
    IEnumerable<VectorRow> Vectors,
    IEnumerable<RemovedChunkRow> RemovedChunks,
    IEnumerable<FormerChunkRow> FormerChunks,
    IEnumerable<SpendRow> Spend);

/// <summary>How many rows each table of an index holds, as of one moment.</summary>
public sealed record IndexRowCounts(long Settings, long Documents, long Jobs, long Chunks, long Vectors, long RemovedChunks, long FormerChunks, long Spend)
{
    /// <summary>The rows of every table together: what a copy writes.</summary>
    public long Total => Settings + Documents + Jobs + Chunks + Vectors + RemovedChunks + FormerChunks + Spend;
}

internal sealed record SettingRow(string Key, string Value);

internal sealed record DocumentRow(long Id, string SourcePath, string? Title, string ContentHash, string? Metadata, DateTime CreatedAt, DateTime UpdatedAt);

internal sealed record BatchJobRow(
    string Id, string? RemoteName, string Status, string Provider, string Model, int Dimensions, string? InputFile, string? OutputFile,
    int RequestCount, int SucceededCount, int FailedCount, int RetriedCount, long TokenCount, string? Stats, string? ErrorMessage,
    bool RemoteFilesLeft, DateTime CreatedAt, DateTime? SubmittedAt, DateTime? CompletedAt, DateTime UpdatedAt);

internal sealed record ChunkRow(
    long Id, long? DocumentId, int Ordinal, string Content, string? ChunkType, string? Language, string? Metadata, string? ContentHash,
    string Status, string? BatchJobId, string? ErrorMessage, int RetryCount, DateTime? CreatedAt, DateTime? UpdatedAt);

/// <summary>A chunk's vector, its float32 values exactly as stored.</summary>
internal sealed record VectorRow(long ChunkId, string Model, int Dimensions, float[] Vector, DateTime CreatedAt);

internal sealed record RemovedChunkRow(string BatchJobId, long ChunkId, DateTime RemovedAt);

internal sealed record FormerChunkRow(string BatchJobId, long ChunkId);

internal sealed record SpendRow(long Id, DateTime At, string Kind, string Model, long Tokens, double? Cost, double? InteractiveCost, string? BatchJobId);

/// <summary>An index's rows as of one moment, read while other sessions keep writing; disposing ends the read.</summary>
internal interface IIndexSnapshot : IDisposable
{
    /// <summary>How many rows each table holds in the snapshot.</summary>
    IndexRowCounts Count();

    /// <summary>The snapshot's rows, each table read in id order when its sequence is enumerated (one table at a time).</summary>
    IndexRows Rows();
}

/// <summary>Writes whole tables into an index in one transaction: nothing is kept unless <see cref="Commit"/> is reached.</summary>
internal interface IIndexBulkWriter : IDisposable
{
    /// <summary>True when the index holds no document, chunk or batch job (read inside the writer's transaction).</summary>
    bool IsEmpty();

    /// <summary>Writes every row with its own id, replacing settings of the same key; counters of new ids move past the ids written.</summary>
    void Write(IndexRows rows);

    /// <summary>Keeps what <see cref="Write"/> wrote.</summary>
    void Commit();
}
