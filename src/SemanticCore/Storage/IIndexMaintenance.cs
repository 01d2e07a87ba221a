namespace SemanticCore.Storage;

/// <summary>
/// What Test-SemanticIndex reads, Backup-SemanticIndex copies and Copy-SemanticIndex reads and writes. Every read is read-only; a failure to read
/// leaves as the store's own exception (a <see cref="System.Data.Common.DbException"/>), so each health rule fails alone.
/// </summary>
internal interface IIndexMaintenance
{
    /// <summary>The ids of the chunks whose embedding failed for good, in id order.</summary>
    IReadOnlyList<long> FailedChunkIds();

    /// <summary>The ids of the Pending chunks last changed before <paramref name="cutoff"/>, in id order.</summary>
    IReadOnlyList<long> PendingChunkIdsBefore(DateTimeOffset cutoff);

    /// <summary>The ids of the batch jobs still active (Created, Submitted or Running) that were created before <paramref name="cutoff"/>, oldest first.</summary>
    IReadOnlyList<string> ActiveJobIdsBefore(DateTimeOffset cutoff);

    /// <summary>Chunks the keyword index misses, and entries it holds for chunks that no longer exist, each in id order.</summary>
    KeywordIndexDrift FindKeywordIndexDrift();

    /// <summary>Runs the store's own consistency check of its data and says what it found (no problem when the index is intact).</summary>
    IntegrityReport CheckIntegrity();

    /// <summary>
    /// Writes a copy of the whole index, as of one moment while other processes keep writing, to the new file
    /// <paramref name="file"/> (an index on its own, that opens with -Database), and counts what it holds.
    /// </summary>
    /// <exception cref="IOException">The file can't be created.</exception>
    BackupCounts WriteCopy(string file);

    /// <summary>Starts a read of the whole index as of this moment (a read-only transaction), for a copy.</summary>
    IIndexSnapshot ReadSnapshot();

    /// <summary>Starts the one transaction a copy writes the index in.</summary>
    IIndexBulkWriter BeginBulkWrite();
}

/// <summary>How far the keyword index differs from the chunks.</summary>
internal sealed record KeywordIndexDrift(IReadOnlyList<long> NotIndexed, IReadOnlyList<long> Orphaned);

/// <summary>What a store's consistency check found: its name as the store's documentation calls it, and each problem in its words.</summary>
internal sealed record IntegrityReport(string Check, IReadOnlyList<string> Problems);

/// <summary>What a copy of an index holds.</summary>
internal sealed record BackupCounts(long Documents, long Chunks, long Vectors, int SchemaVersion);
