using SemanticCore.Chunking;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Ingestion;

/// <summary>
/// Imports document files into an index incrementally: an unchanged file writes nothing; a changed
/// one keeps the chunks whose embedded text did not change (with their vectors and statuses), adds
/// the new ones (Pending, or embedded now in Sync mode) and removes the ones that disappeared.
/// Text that was already embedded is never paid for again.
/// </summary>
public sealed class DocumentImporter(SemanticIndex index, ChunkingOptions? options = null)
{
    /// <summary>Bumped when chunking changes, so re-importing an unchanged file re-chunks it once.</summary>
    public const string ChunkerVersion = "1";

    private readonly ChunkingOptions options = options ?? ChunkingOptions.Default;

    /// <param name="path">The document's full path.</param>
    /// <param name="embedder">Embeds new chunks now (Sync); null leaves them Pending for a batch flush (Async).</param>
    public async Task<ImportResult> ImportAsync(string path, IEmbeddingProvider? embedder, CancellationToken cancellationToken)
    {
        try
        {
            return await ImportCoreAsync(path, embedder, cancellationToken).ConfigureAwait(false);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // Locked past the busy timeout, disk full, I/O error: this document is not imported (its transaction rolled back).
            throw new SemanticCoreException("DatabaseWriteFailed", FailureKind.ResourceUnavailable,
                $"Could not store '{path}' in the index '{index.DatabasePath}': {ex.Message}", ex);
        }
    }

    private async Task<ImportResult> ImportCoreAsync(string path, IEmbeddingProvider? embedder, CancellationToken cancellationToken)
    {
        var document = DocumentReader.Read(path);
        var connection = index.Connection;

        var stored = DocumentStore.FindDocument(connection, path);
        if (stored is not null && stored.ContentHash == document.ContentHash && stored.Chunker == ChunkerVersion)
        {
            return Result(stored.Id, path, TitleOf(stored.Id), ImportStatus.Unchanged, default);
        }

        var chunked = DocumentChunker.Chunk(document.Text, Path.GetExtension(path), Path.GetFileNameWithoutExtension(path), options);

        // Embed outside the write transaction: a slow network must not hold the database lock.
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (embedder is not null)
        {
            var existing = stored is null ? [] : DocumentStore.ChunkKeys(connection, stored.Id);
            var toEmbed = ChunkPlan.Make(existing, chunked.Chunks).Added.DistinctBy(d => d.ContentHash).ToList();
            if (toEmbed.Count > 0)
            {
                var embedded = await embedder.EmbedDocumentsAsync(toEmbed.Select(d => d.VectorSource).ToList(), cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < toEmbed.Count; i++) vectors[toEmbed[i].ContentHash] = embedded[i];
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var transaction = connection.BeginTransaction();
        // Planned again inside the transaction: another process may have imported the file meanwhile.
        stored = DocumentStore.FindDocument(connection, path);
        var plan = ChunkPlan.Make(stored is null ? [] : DocumentStore.ChunkKeys(connection, stored.Id), chunked.Chunks);
        var now = Timestamps.Now();
        var documentId = DocumentStore.SaveDocument(connection, stored?.Id, path, chunked.Title, document.ContentHash, ChunkerVersion, now);
        DocumentStore.DeleteChunks(connection, plan.Removed);
        DocumentStore.MoveChunks(connection, plan.Moved, now);
        DocumentStore.InsertChunks(connection, documentId, plan.Added, vectors, index.Settings, now);
        transaction.Commit();

        var status = stored is null ? ImportStatus.Added : ImportStatus.Updated;
        var embeddedCount = plan.Added.Count(d => vectors.ContainsKey(d.ContentHash));
        return Result(documentId, path, chunked.Title, status, (plan.Added.Count, plan.Kept, plan.Removed.Count, embeddedCount));
    }

    private ImportResult Result(long id, string path, string title, ImportStatus status, (int Added, int Kept, int Removed, int Embedded) change)
    {
        var (chunks, pending) = DocumentStore.Counts(index.Connection, id);
        return new ImportResult
        {
            Id = id,
            Path = path,
            Title = title,
            Chunks = chunks,
            Pending = pending,
            Added = change.Added,
            Kept = status == ImportStatus.Unchanged ? chunks : change.Kept,
            Removed = change.Removed,
            Embedded = change.Embedded,
            Status = status,
            Database = index.DatabasePath,
        };
    }

    private string TitleOf(long documentId) =>
        Sql.Scalar(index.Connection, "SELECT title FROM documents WHERE id = $id", ("$id", documentId)) as string ?? "";
}

/// <summary>How a document's existing chunks map onto its new drafts, matched by embedded-text hash.</summary>
internal sealed record ChunkPlan(List<ChunkDraft> Added, List<long> Removed, List<(long Id, int Ordinal)> Moved, int Kept)
{
    public static ChunkPlan Make(IReadOnlyList<StoredChunkKey> existing, IReadOnlyList<ChunkDraft> drafts)
    {
        // A queue per hash: the same text twice in a document is two chunks, matched one to one.
        var available = new Dictionary<string, Queue<StoredChunkKey>>(StringComparer.Ordinal);
        foreach (var key in existing.Where(k => k.ContentHash is not null))
        {
            if (!available.TryGetValue(key.ContentHash!, out var queue)) available[key.ContentHash!] = queue = new();
            queue.Enqueue(key);
        }

        var added = new List<ChunkDraft>();
        var moved = new List<(long, int)>();
        var kept = new HashSet<long>();
        foreach (var draft in drafts)
        {
            if (available.TryGetValue(draft.ContentHash, out var queue) && queue.TryDequeue(out var match))
            {
                kept.Add(match.Id);
                if (match.Ordinal != draft.Ordinal) moved.Add((match.Id, draft.Ordinal));
            }
            else
            {
                added.Add(draft);
            }
        }

        var removed = existing.Where(k => !kept.Contains(k.Id)).Select(k => k.Id).ToList();
        return new ChunkPlan(added, removed, moved, kept.Count);
    }
}
