using System.Data.Common;
using SemanticCore.Chunking;

namespace SemanticCore.Storage;

/// <summary>
/// An import's unit of work, whichever store keeps it: one transaction (begun at the first write) over many documents,
/// each under its own savepoint, and the count of the new chunks a staging batch holds back until the commit. A commit
/// per small file would cost more than the file.
/// </summary>
internal abstract class ImportBatch(DbConnection connection, IImportReads documents, bool stageNewChunks) : IImportBatch, IDocumentWriter
{
    /// <summary>The paths whose new chunks are staged and not in <c>chunks</c> yet.</summary>
    private readonly HashSet<string> staged = new(StringComparer.Ordinal);
    /// <summary>How many chunks each document has staged, so that reads count them.</summary>
    private readonly Dictionary<long, int> stagedChunks = [];
    /// <summary>What the document being written staged, undone from <see cref="stagedChunks"/> if its write rolls back.</summary>
    private readonly List<(long DocumentId, int Count)> stagedByWrite = [];
    private DbTransaction? transaction;

    /// <summary>Whether new chunks wait, Pending, until the commit.</summary>
    protected bool StagesNewChunks => stageNewChunks;

    public T Read<T>(string path, Func<IImportReads, T> read)
    {
        try
        {
            // The same file twice in one batch: its first chunks must be in place to be compared with.
            if (staged.Contains(path)) InsertStaged();
            return read(this);
        }
        catch (DbException ex)
        {
            throw WriteFailed(path, ex);
        }
    }

    public T Write<T>(string path, Func<IDocumentWriter, T> write)
    {
        const string savepoint = "document";
        try
        {
            if (staged.Contains(path)) InsertStaged();
            transaction ??= connection.BeginTransaction();
            transaction.Save(savepoint);
        }
        catch (DbException ex)
        {
            throw WriteFailed(path, ex);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                stagedByWrite.Clear();
                var result = write(this);
                transaction.Release(savepoint);
                if (stageNewChunks) staged.Add(path);
                return result;
            }
            catch (Exception ex)
            {
                foreach (var (documentId, count) in stagedByWrite) stagedChunks[documentId] -= count;
                // A transient failure (a deadlock's victim: another host held the same rows in another order) is rolled back
                // with this document's changes only, and their locks: the document is written again, at most three times in all.
                var again = ex is DbException { IsTransient: true } && attempt < 3;
                try
                {
                    transaction.Rollback(savepoint);
                    if (!again) transaction.Release(savepoint);
                }
                catch (DbException)
                {
                    // The transaction itself is gone (the store rolled it back, or the connection broke): the batch's documents
                    // are lost with it, and Commit says so.
                    again = false;
                }

                if (again) continue;
                if (ex is DbException store) throw WriteFailed(path, store);
                throw;
            }
        }
    }

    public void Commit()
    {
        var committing = transaction;
        transaction = null;
        if (committing is null) return;
        using (committing)
        {
            try
            {
                InsertStaged();
                committing.Commit();
            }
            catch (DbException ex)
            {
                throw StoreFailed(ex);
            }
            finally
            {
                // Committed or rolled back, the staged rows are gone with the transaction.
                staged.Clear();
                stagedChunks.Clear();
            }
        }
    }

    /// <summary>Rolls back what was written and not committed.</summary>
    public void Dispose()
    {
        staged.Clear();
        stagedChunks.Clear();
        transaction?.Dispose();
        transaction = null;
    }

    public StoredDocument? Find(string path) => documents.Find(path);

    public IReadOnlyList<StoredChunkKey> ChunkKeys(long documentId) => documents.ChunkKeys(documentId);

    public (int Chunks, int Pending) Counts(long documentId)
    {
        var (chunks, pending) = documents.Counts(documentId);
        var waiting = stagedChunks.GetValueOrDefault(documentId);
        return (chunks + waiting, pending + waiting);
    }

    public abstract long SaveDocument(long? existingId, string path, string title, string contentHash, string chunker, string now);

    public abstract void DeleteChunks(IReadOnlyCollection<long> ids, string now);

    public abstract void MoveChunks(IEnumerable<(long Id, int Ordinal)> moves, string now);

    public abstract void AddChunks(long documentId, IReadOnlyList<ChunkDraft> drafts, IReadOnlyDictionary<string, float[]> vectors, string now);

    /// <summary>Counts chunks a document staged (see <see cref="MoveStaged"/>), so that this batch's reads see them.</summary>
    protected void CountStaged(long documentId, int count)
    {
        stagedChunks[documentId] = stagedChunks.GetValueOrDefault(documentId) + count;
        stagedByWrite.Add((documentId, count));
    }

    /// <summary>Moves the staged chunks into <c>chunks</c>, in the order they were staged, and empties the stage.</summary>
    protected abstract void MoveStaged();

    /// <summary>A store failure as the module's ErrorId (DatabaseWriteFailed, or the store's own cause).</summary>
    protected abstract SemanticCoreException StoreFailed(DbException exception);

    private void InsertStaged()
    {
        if (staged.Count == 0) return;
        MoveStaged();
        staged.Clear();
        stagedChunks.Clear();
    }

    private SemanticCoreException WriteFailed(string path, DbException ex)
    {
        // Locked, disk full, server gone: this document is not imported (its changes rolled back).
        var mapped = StoreFailed(ex);
        return new SemanticCoreException(mapped.ErrorId, mapped.Kind, $"Could not store '{path}': {mapped.Message}", ex);
    }
}
