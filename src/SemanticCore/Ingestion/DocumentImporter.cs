using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Ingestion;

/// <summary>
/// Imports document files into an index incrementally: an unchanged file writes nothing; a changed
/// one keeps the chunks whose embedded text did not change (with their vectors and statuses), adds
/// the new ones (Pending, or embedded now in Sync mode) and removes the ones that disappeared.
/// Text that was already embedded is never paid for again.
/// </summary>
/// <remarks>
/// Queued imports (<see cref="Queue"/>, Async mode) share one transaction over many files, each under
/// its own savepoint: a commit per small file would cost more than the file (and leave the keyword
/// index a segment per file to merge). Their new chunks are staged and enter <c>chunks</c> in one statement
/// at the commit (see <see cref="DocumentStore.StageChunks"/>). Nothing of a queued file is visible to
/// others, or reported, before <see cref="Commit"/>; disposing the importer without it rolls them back.
/// </remarks>
public sealed class DocumentImporter(SemanticIndex index, ChunkingOptions? options = null) : IDisposable
{
    /// <summary>Bumped when chunking changes, so re-importing an unchanged file re-chunks it once.</summary>
    public const string ChunkerVersion = "1";

    /// <summary>How many queued files, or how long, one transaction holds before it is due for a commit.</summary>
    public const int FilesPerTransaction = 500;
    public static readonly TimeSpan TransactionTime = TimeSpan.FromMilliseconds(500);

    private readonly ChunkingOptions options = options ?? ChunkingOptions.Default;
    private readonly List<ImportResult> queued = [];
    private readonly HashSet<string> staged = new(StringComparer.Ordinal);
    private SqliteTransaction? shared;
    private long sharedSince;

    /// <summary>Files queued and not committed yet.</summary>
    public int QueuedCount => queued.Count;

    /// <summary>True when the queued files should be committed now (count or time).</summary>
    public bool CommitDue => queued.Count >= FilesPerTransaction || (shared is not null && Stopwatch.GetElapsedTime(sharedSince) >= TransactionTime);

    /// <summary>Imports a file in its own transaction, embedding its new chunks first when an embedder is given (Sync).</summary>
    /// <param name="path">The document's full path.</param>
    /// <param name="embedder">Embeds new chunks now (Sync); null leaves them Pending for a batch flush (Async).</param>
    /// <param name="cap">The command's interactive spending cap: chunks past it are not embedded and stay Pending.</param>
    public async Task<ImportResult> ImportAsync(string path, IEmbeddingProvider? embedder, CancellationToken cancellationToken, CostCap? cap = null)
    {
        if (queued.Count > 0) throw new InvalidOperationException("Commit the queued files before importing one in its own transaction.");
        try
        {
            var document = DocumentReader.Read(path);
            if (Unchanged(path, document) is { } unchanged) return unchanged;
            var chunked = Chunk(path, document);

            // Embed outside the write transaction: a slow network must not hold the database lock.
            var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
            SemanticCoreException? failed = null;
            try
            {
                if (embedder is not null) await EmbedAsync(path, chunked, embedder, cap, vectors, cancellationToken).ConfigureAwait(false);
            }
            catch (SemanticCoreException ex) when (vectors.Count > 0)
            {
                // Part of the file was embedded (and billed) before the failure: store it, the rest Pending.
                failed = ex;
            }

            cancellationToken.ThrowIfCancellationRequested();
            using var transaction = index.Connection.BeginTransaction();
            var result = Store(path, document, chunked, vectors);
            transaction.Commit();
            if (failed is not null)
            {
                throw new SemanticCoreException(failed.ErrorId, failed.Kind,
                    $"'{path}' was imported in part: {failed.Message} The {result.Embedded} chunk(s) embedded before the failure are stored (Ready); " +
                    $"the other {result.Added - result.Embedded} are Pending for a batch job (Invoke-BatchFlush), so nothing is paid for twice.", failed);
            }

            return result;
        }
        catch (SqliteException ex)
        {
            throw WriteFailed(path, ex);
        }
    }

    /// <summary>
    /// Stores a file's chunks as Pending in the shared transaction (Async mode). Its result comes from
    /// <see cref="Commit"/>; a failure of this file alone (unreadable, SQLite) is thrown here and leaves
    /// the other queued files as they are.
    /// </summary>
    public void Queue(string path)
    {
        var document = DocumentReader.Read(path);
        try
        {
            // The same file twice in one transaction: its first chunks must be in place to be compared with.
            if (staged.Contains(path)) InsertStaged();
            if (Unchanged(path, document) is { } unchanged)
            {
                queued.Add(unchanged);
                return;
            }

            var chunked = Chunk(path, document);
            if (shared is null)
            {
                shared = index.Connection.BeginTransaction();
                sharedSince = Stopwatch.GetTimestamp();
            }

            StoreUnderSavepoint(shared, path, document, chunked);
        }
        catch (SqliteException ex)
        {
            throw WriteFailed(path, ex);
        }
    }

    /// <summary>Stores one queued file; if it fails, only its own changes are rolled back.</summary>
    private void StoreUnderSavepoint(SqliteTransaction transaction, string path, DocumentText document, ChunkedDocument chunked)
    {
        const string savepoint = "document";
        transaction.Save(savepoint);
        try
        {
            queued.Add(Store(path, document, chunked, [], stage: true));
            transaction.Release(savepoint);
            staged.Add(path);
        }
        catch (SqliteException)
        {
            try
            {
                transaction.Rollback(savepoint);
                transaction.Release(savepoint);
            }
            catch (SqliteException)
            {
                // The transaction itself is gone (SQLite rolled it back): the queued files are lost with it, and Commit says so.
            }

            throw;
        }
    }

    /// <summary>Commits the queued files and returns their results, in the order they were queued.</summary>
    /// <exception cref="SemanticCoreException">DatabaseWriteFailed: nothing queued was stored.</exception>
    public IReadOnlyList<ImportResult> Commit()
    {
        var results = queued.ToList();
        queued.Clear();
        var transaction = shared;
        shared = null;
        if (transaction is null) return results;
        using (transaction)
        {
            try
            {
                InsertStaged();
                transaction.Commit();
            }
            catch (SqliteException ex)
            {
                var mapped = SqliteFailures.Map(ex, index.DatabasePath, "DatabaseWriteFailed");
                throw new SemanticCoreException(mapped.ErrorId, mapped.Kind,
                    $"Could not store {results.Count} document(s) ({string.Join(", ", results.Take(3).Select(r => r.Path))}{(results.Count > 3 ? ", ..." : "")}): {mapped.Message}", ex);
            }
            finally
            {
                // Committed or rolled back, the staged rows are gone with the transaction.
                staged.Clear();
            }
        }

        return results;
    }

    /// <summary>Rolls back what was queued and not committed.</summary>
    public void Dispose()
    {
        queued.Clear();
        staged.Clear();
        shared?.Dispose();
        shared = null;
    }

    private void InsertStaged()
    {
        if (staged.Count == 0) return;
        DocumentStore.InsertStagedChunks(index.Connection);
        staged.Clear();
    }

    /// <summary>
    /// What importing the file would do, worked out exactly as the import works it out (read, chunk, match
    /// with the stored chunks), with nothing written: a result with <see cref="ImportResult.WhatIf"/> set. With a
    /// <paramref name="cap"/> (a Sync import), the chunks within it are forecast as Embedded and the rest as Pending.
    /// </summary>
    public ImportResult Forecast(string path, CostCap? cap = null)
    {
        var document = DocumentReader.Read(path);
        try
        {
            if (staged.Contains(path)) InsertStaged();
            if (Unchanged(path, document) is { } unchanged) return Forecast(unchanged);
            var chunked = Chunk(path, document);
            var stored = DocumentStore.FindDocument(index.Connection, path);
            var existing = stored is null ? [] : DocumentStore.ChunkKeys(index.Connection, stored.Id);
            var plan = ChunkPlan.Make(existing, chunked.Chunks);
            var pendingKept = stored is null ? 0 : DocumentStore.Counts(index.Connection, stored.Id).Pending - CountPending(plan.Removed);
            var embedded = cap is null ? 0 : Embedded(plan.Added, WithinCap(plan.Added, index.Settings, cap));
            return new ImportResult
            {
                Id = stored?.Id ?? 0,
                Path = path,
                Title = chunked.Title,
                Chunks = plan.Kept + plan.Added.Count,
                Pending = pendingKept + plan.Added.Count - embedded,
                Added = plan.Added.Count,
                Embedded = embedded,
                Kept = plan.Kept,
                Removed = plan.Removed.Count,
                EstimatedTokens = Tokens(plan.Added),
                State = stored is null ? ImportStatus.Added : ImportStatus.Updated,
                WhatIf = true,
                Database = index.DatabasePath,
            };
        }
        catch (SqliteException ex)
        {
            throw WriteFailed(path, ex);
        }
    }

    /// <summary>The forecast for an index that does not exist yet: the file would be Added, with all its chunks (those within <paramref name="cap"/> embedded).</summary>
    public static ImportResult ForecastForNewIndex(string path, string databasePath, IndexSettings settings, CostCap? cap = null, ChunkingOptions? options = null)
    {
        var document = DocumentReader.Read(path);
        var chunked = Chunk(path, document, options ?? ChunkingOptions.Default);
        var embedded = cap is null ? 0 : Embedded(chunked.Chunks, WithinCap(chunked.Chunks, settings, cap));
        return new ImportResult
        {
            Id = 0,
            Path = path,
            Title = chunked.Title,
            Chunks = chunked.Chunks.Count,
            Pending = chunked.Chunks.Count - embedded,
            Added = chunked.Chunks.Count,
            Embedded = embedded,
            EstimatedTokens = Tokens(chunked.Chunks),
            State = ImportStatus.Added,
            WhatIf = true,
            Database = databasePath,
            IndexCreated = true,
        };
    }

    private static ImportResult Forecast(ImportResult unchanged) => new()
    {
        Id = unchanged.Id,
        Path = unchanged.Path,
        Title = unchanged.Title,
        Chunks = unchanged.Chunks,
        Pending = unchanged.Pending,
        Kept = unchanged.Kept,
        State = ImportStatus.Unchanged,
        WhatIf = true,
        Database = unchanged.Database,
    };

    private int CountPending(List<long> chunkIds) => chunkIds.Count == 0 ? 0 : Convert.ToInt32(Sql.Scalar(index.Connection,
        "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND id IN (SELECT value FROM json_each($ids))",
        ("$ids", System.Text.Json.JsonSerializer.Serialize(chunkIds))));

    private static long Tokens(IEnumerable<ChunkDraft> drafts) => drafts.Sum(d => (long)TokenEstimator.Estimate(d.VectorSource));

    /// <summary>The result of a file that did not change since its last import (nothing to write), else null.</summary>
    private ImportResult? Unchanged(string path, DocumentText document) =>
        DocumentStore.FindDocument(index.Connection, path) is { } stored && stored.ContentHash == document.ContentHash && stored.Chunker == ChunkerVersion
            ? Result(stored.Id, path, TitleOf(stored.Id), ImportStatus.Unchanged, default)
            : null;

    private ChunkedDocument Chunk(string path, DocumentText document) => Chunk(path, document, options);

    /// <summary>Chunks a file's text; a file the parser can't take (Markdig's nesting limit, say) is that file's error alone.</summary>
    private static ChunkedDocument Chunk(string path, DocumentText document, ChunkingOptions options)
    {
        try
        {
            return DocumentChunker.Chunk(document.Text, Path.GetExtension(path), Path.GetFileNameWithoutExtension(path), options);
        }
        catch (MarkdownTooComplexException ex)
        {
            throw new SemanticCoreException("MarkdownTooComplex", FailureKind.InvalidData, $"'{path}' {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is not (SemanticCoreException or OutOfMemoryException or OperationCanceledException))
        {
            var tooDeep = ex is ArgumentException && ex.Message.Contains("depth limit", StringComparison.OrdinalIgnoreCase);
            throw new SemanticCoreException(tooDeep ? "MarkdownTooDeep" : "DocumentParseFailed", FailureKind.InvalidData,
                tooDeep
                    ? $"'{path}' nests Markdown too deeply to index (quotes, lists or brackets past the parser's depth limit)."
                    : $"'{path}' could not be chunked: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Embeds the file's new chunks (those within <paramref name="cap"/>) into <paramref name="vectors"/> as the embedder
    /// hands each call's vectors over (it groups the calls), so that a failure part-way leaves the chunks already embedded,
    /// and paid for, in hand. Each call is recorded in the spend ledger once it succeeded.
    /// </summary>
    private async Task EmbedAsync(string path, ChunkedDocument chunked, IEmbeddingProvider embedder, CostCap? cap, Dictionary<string, float[]> vectors,
        CancellationToken cancellationToken)
    {
        var stored = DocumentStore.FindDocument(index.Connection, path);
        var existing = stored is null ? [] : DocumentStore.ChunkKeys(index.Connection, stored.Id);
        var toEmbed = WithinCap(ChunkPlan.Make(existing, chunked.Chunks).Added, embedder.Settings, cap);
        await embedder.EmbedDocumentsAsync(toEmbed.Select(d => d.VectorSource).ToList(), (first, embedded) =>
        {
            for (var i = 0; i < embedded.Count; i++) vectors[toEmbed[first + i].ContentHash] = embedded[i];
            try
            {
                index.Spend.RecordCall(SpendKind.Interactive, embedder.Settings,
                    toEmbed.Skip(first).Take(embedded.Count).Sum(d => (long)TokenEstimator.Estimate(d.VectorSource)));
            }
            catch (SqliteException)
            {
                // The index is locked or full: the call goes unrecorded, but its vectors, paid for, are kept and stored.
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The distinct texts of <paramref name="added"/> to embed now: all of them, or those the cap lets through.</summary>
    private static List<ChunkDraft> WithinCap(IEnumerable<ChunkDraft> added, IndexSettings settings, CostCap? cap)
    {
        var distinct = added.DistinctBy(d => d.ContentHash);
        if (cap is null) return distinct.ToList();
        var taken = new List<ChunkDraft>();
        foreach (var draft in distinct)
        {
            if (cap.TryTake(settings, TokenEstimator.Estimate(draft.VectorSource))) taken.Add(draft);
        }

        return taken;
    }

    /// <summary>How many of <paramref name="added"/> get a vector when <paramref name="toEmbed"/> are embedded (a repeated text shares its vector).</summary>
    private static int Embedded(IEnumerable<ChunkDraft> added, List<ChunkDraft> toEmbed)
    {
        var hashes = toEmbed.Select(d => d.ContentHash).ToHashSet(StringComparer.Ordinal);
        return added.Count(d => hashes.Contains(d.ContentHash));
    }

    /// <summary>Writes the document and its chunk changes (new ones staged when <paramref name="stage"/>); the caller holds the transaction.</summary>
    private ImportResult Store(string path, DocumentText document, ChunkedDocument chunked, Dictionary<string, float[]> vectors, bool stage = false)
    {
        var connection = index.Connection;
        // Planned again inside the transaction: another process may have imported the file meanwhile.
        var stored = DocumentStore.FindDocument(connection, path);
        var plan = ChunkPlan.Make(stored is null ? [] : DocumentStore.ChunkKeys(connection, stored.Id), chunked.Chunks);
        var now = Timestamps.Now();
        var documentId = DocumentStore.SaveDocument(connection, stored?.Id, path, chunked.Title, document.ContentHash, ChunkerVersion, now);
        DocumentStore.DeleteChunks(connection, plan.Removed, now);
        DocumentStore.MoveChunks(connection, plan.Moved, now);
        if (stage) DocumentStore.StageChunks(connection, documentId, plan.Added, now);
        else DocumentStore.InsertChunks(connection, documentId, plan.Added, vectors, index.Settings, now);

        var status = stored is null ? ImportStatus.Added : ImportStatus.Updated;
        var embeddedCount = plan.Added.Count(d => vectors.ContainsKey(d.ContentHash));
        return Result(documentId, path, chunked.Title, status, (plan.Added.Count, plan.Kept, plan.Removed.Count, embeddedCount), stagedChunks: stage ? plan.Added.Count : 0, Tokens(plan.Added));
    }

    private SemanticCoreException WriteFailed(string path, SqliteException ex)
    {
        // Locked past the busy timeout, disk full, damaged, read-only: this document is not imported (its changes rolled back).
        var mapped = SqliteFailures.Map(ex, index.DatabasePath, "DatabaseWriteFailed");
        return new SemanticCoreException(mapped.ErrorId, mapped.Kind, $"Could not store '{path}': {mapped.Message}", ex);
    }

    /// <param name="stagedChunks">New Pending chunks of this document not yet in <c>chunks</c>.</param>
    private ImportResult Result(long id, string path, string title, ImportStatus status, (int Added, int Kept, int Removed, int Embedded) change,
        int stagedChunks = 0, long estimatedTokens = 0)
    {
        var (chunks, pending) = DocumentStore.Counts(index.Connection, id);
        chunks += stagedChunks;
        pending += stagedChunks;
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
            EstimatedTokens = estimatedTokens,
            State = status,
            Database = index.DatabasePath,
            IndexCreated = index.Created,
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
