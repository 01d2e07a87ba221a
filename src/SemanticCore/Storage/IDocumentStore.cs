using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>The stored documents: lookups, the queries of <c>Get-SemanticDocument</c>, removal, and the import's unit of work.</summary>
internal interface IDocumentStore : IImportReads
{
    /// <summary>The ids of the documents whose full path <paramref name="matches"/> (PowerShell wildcards are matched by the caller).</summary>
    HashSet<long> MatchingIds(Func<string, bool> matches);

    /// <summary>The documents that pass <paramref name="filter"/>, with their chunk counts per status, in path order, streamed.</summary>
    IEnumerable<SemanticDocument> Find(DocumentFilter filter);

    /// <summary>
    /// Removes a document with its chunks, their vectors and keyword entries, atomically. Chunks an active batch job
    /// holds are recorded as removed from it first, so its sync counts them as removed. Null when there is no such document
    /// (another process removed it first).
    /// </summary>
    /// <exception cref="SemanticCoreException">DatabaseWriteFailed (or the store's own cause): nothing was removed.</exception>
    DocumentRemoval? Remove(long documentId);

    /// <summary>
    /// Starts an import's unit of work. With <paramref name="stageNewChunks"/> (Async imports of many files) new chunks are
    /// Pending and may enter the chunks only at <see cref="IImportBatch.Commit"/>, in the order they were written.
    /// </summary>
    IImportBatch BeginImport(bool stageNewChunks);
}

/// <summary>What an import plans with: a document by path, its chunk keys and counts.</summary>
internal interface IImportReads
{
    /// <summary>The document stored at this full path, or null.</summary>
    StoredDocument? Find(string path);

    /// <summary>The keys of a document's chunks, in ordinal order.</summary>
    IReadOnlyList<StoredChunkKey> ChunkKeys(long documentId);

    /// <summary>How many chunks a document has, and how many of them are Pending.</summary>
    (int Chunks, int Pending) Counts(long documentId);
}

/// <summary>
/// An import's writes, document by document: nothing written is visible to others before <see cref="Commit"/>, and
/// disposing without it discards them all. A store failure leaves as a <see cref="SemanticCoreException"/>
/// (DatabaseWriteFailed, or the store's own cause such as IndexLocked or DiskFull).
/// </summary>
internal interface IImportBatch : IDisposable
{
    /// <summary>Runs reads about the document at <paramref name="path"/>; they see this batch's own writes. A failure names the path.</summary>
    T Read<T>(string path, Func<IImportReads, T> read);

    /// <summary>
    /// Writes one document's changes in isolation: if <paramref name="write"/> throws, only its changes are rolled back and
    /// the batch goes on with the others. A store failure names the path.
    /// </summary>
    T Write<T>(string path, Func<IDocumentWriter, T> write);

    /// <summary>Makes every document written visible at once; on failure nothing written is stored.</summary>
    void Commit();
}

/// <summary>One document's writes inside an <see cref="IImportBatch"/>; its reads see them.</summary>
internal interface IDocumentWriter : IImportReads
{
    /// <summary>Stores a document's row: a new one (<paramref name="existingId"/> null) or an update of its own; returns its id.</summary>
    long SaveDocument(long? existingId, string path, string title, string contentHash, string chunker, string now);

    /// <summary>Deletes chunks (with their vectors and keyword entries); those an active job holds are recorded as removed from it.</summary>
    void DeleteChunks(IReadOnlyCollection<long> ids, string now);

    /// <summary>Gives kept chunks their new ordinals.</summary>
    void MoveChunks(IEnumerable<(long Id, int Ordinal)> moves, string now);

    /// <summary>
    /// Adds new chunks in draft order: Ready with their vector (by content hash) when one is given, else Pending for the
    /// next flush. A staging batch takes no vectors: its chunks are all Pending.
    /// </summary>
    void AddChunks(long documentId, IReadOnlyList<ChunkDraft> drafts, IReadOnlyDictionary<string, float[]> vectors, string now);
}
