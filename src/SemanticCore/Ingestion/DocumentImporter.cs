using System.Data.Common;
using System.Diagnostics;
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
/// <remarks>
/// Queued imports (<see cref="Queue"/>, Async mode) share one import batch over many files, each file
/// isolated from the others (see <see cref="IImportBatch"/>); their new chunks are staged until the commit.
/// Nothing of a queued file is visible to others, or reported, before <see cref="Commit"/>; disposing the
/// importer without it rolls them back.
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
    private IImportBatch? batch;
    /// <summary>When the batch first wrote (its transaction's age), or null while it has written nothing.</summary>
    private long? writingSince;

    /// <summary>Files queued and not committed yet.</summary>
    public int QueuedCount => queued.Count;

    /// <summary>True when the queued files should be committed now (count or time).</summary>
    public bool CommitDue => queued.Count >= FilesPerTransaction || (writingSince is { } since && Stopwatch.GetElapsedTime(since) >= TransactionTime);

    /// <summary>Imports a file in its own transaction, embedding its new chunks first when an embedder is given (Sync).</summary>
    /// <param name="path">The document's full path.</param>
    /// <param name="embedder">Embeds new chunks now (Sync); null leaves them Pending for a batch flush (Async).</param>
    /// <param name="cap">The command's interactive spending cap: chunks past it are not embedded and stay Pending.</param>
    public async Task<ImportResult> ImportAsync(string path, IEmbeddingProvider? embedder, CancellationToken cancellationToken, CostCap? cap = null)
    {
        if (queued.Count > 0) throw new InvalidOperationException("Commit the queued files before importing one in its own transaction.");
        var document = DocumentReader.Read(path);
        using var own = index.Documents.BeginImport(stageNewChunks: false);
        if (own.Read(path, reads => Unchanged(reads, path, document)) is { } unchanged) return unchanged;
        var chunked = Chunk(path, document);

        // Embed outside the write transaction: a slow network must not hold the database lock.
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        SemanticCoreException? failed = null;
        try
        {
            if (embedder is not null) await EmbedAsync(own, path, chunked, embedder, cap, vectors, cancellationToken).ConfigureAwait(false);
        }
        catch (SemanticCoreException ex) when (vectors.Count > 0)
        {
            // Part of the file was embedded (and billed) before the failure: store it, the rest Pending.
            failed = ex;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var result = own.Write(path, writer => Store(writer, path, document, chunked, vectors));
        try
        {
            own.Commit();
        }
        catch (SemanticCoreException ex)
        {
            throw NotStored($"'{path}'", ex);
        }

        if (failed is not null)
        {
            throw new SemanticCoreException(failed.ErrorId, failed.Kind,
                $"'{path}' was imported in part: {failed.Message} The {result.Embedded} chunk(s) embedded before the failure are stored (Ready); " +
                $"the other {result.Added - result.Embedded} are Pending for a batch job (Invoke-BatchFlush), so nothing is paid for twice.", failed);
        }

        return result;
    }

    /// <summary>
    /// Stores a file's chunks as Pending in the shared transaction (Async mode). Its result comes from
    /// <see cref="Commit"/>; a failure of this file alone (unreadable, the store's) is thrown here and leaves
    /// the other queued files as they are.
    /// </summary>
    public void Queue(string path)
    {
        var document = DocumentReader.Read(path);
        batch ??= index.Documents.BeginImport(stageNewChunks: true);
        if (batch.Read(path, reads => Unchanged(reads, path, document)) is { } unchanged)
        {
            queued.Add(unchanged);
            return;
        }

        var chunked = Chunk(path, document);
        writingSince ??= Stopwatch.GetTimestamp();
        queued.Add(batch.Write(path, writer => Store(writer, path, document, chunked, [])));
    }

    /// <summary>Commits the queued files and returns their results, in the order they were queued.</summary>
    /// <exception cref="SemanticCoreException">DatabaseWriteFailed: nothing queued was stored.</exception>
    public IReadOnlyList<ImportResult> Commit()
    {
        var results = queued.ToList();
        queued.Clear();
        var committing = batch;
        batch = null;
        writingSince = null;
        if (committing is null) return results;
        using (committing)
        {
            try
            {
                committing.Commit();
            }
            catch (SemanticCoreException ex)
            {
                throw NotStored($"{results.Count} document(s) ({string.Join(", ", results.Take(3).Select(r => r.Path))}{(results.Count > 3 ? ", ..." : "")})", ex);
            }
        }

        return results;
    }

    /// <summary>Rolls back what was queued and not committed.</summary>
    public void Dispose()
    {
        queued.Clear();
        batch?.Dispose();
        batch = null;
        writingSince = null;
    }

    /// <summary>A failed commit as the same failure, saying what was not stored.</summary>
    private static SemanticCoreException NotStored(string what, SemanticCoreException failure) =>
        new(failure.ErrorId, failure.Kind, $"Could not store {what}: {failure.Message}", failure.InnerException ?? failure);

    /// <summary>
    /// What importing the file would do, worked out exactly as the import works it out (read, chunk, match
    /// with the stored chunks), with nothing written: a result with <see cref="ImportResult.WhatIf"/> set. With a
    /// <paramref name="cap"/> (a Sync import), the chunks within it are forecast as Embedded and the rest as Pending.
    /// </summary>
    public ImportResult Forecast(string path, CostCap? cap = null)
    {
        var document = DocumentReader.Read(path);
        if (batch is not null) return batch.Read(path, reads => Forecast(reads, path, document, cap));
        using var reading = index.Documents.BeginImport(stageNewChunks: false);
        return reading.Read(path, reads => Forecast(reads, path, document, cap));
    }

    private ImportResult Forecast(IImportReads reads, string path, DocumentText document, CostCap? cap)
    {
        if (Unchanged(reads, path, document) is { } unchanged) return Forecast(unchanged);
        var chunked = Chunk(path, document);
        var stored = reads.Find(path);
        var existing = stored is null ? [] : reads.ChunkKeys(stored.Id);
        var plan = ChunkPlan.Make(existing, chunked.Chunks);
        var removed = plan.Removed.ToHashSet();
        var pendingKept = existing.Count(k => k.Pending && !removed.Contains(k.Id));
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

    private static long Tokens(IEnumerable<ChunkDraft> drafts) => drafts.Sum(d => (long)TokenEstimator.Estimate(d.VectorSource));

    /// <summary>The result of a file that did not change since its last import (nothing to write), else null.</summary>
    private ImportResult? Unchanged(IImportReads reads, string path, DocumentText document) =>
        reads.Find(path) is { } stored && stored.ContentHash == document.ContentHash && stored.Chunker == ChunkerVersion
            ? Result(reads, stored.Id, path, stored.Title, ImportStatus.Unchanged, default)
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
    private async Task EmbedAsync(IImportBatch own, string path, ChunkedDocument chunked, IEmbeddingProvider embedder, CostCap? cap,
        Dictionary<string, float[]> vectors, CancellationToken cancellationToken)
    {
        var existing = own.Read(path, reads => reads.Find(path) is { } stored ? reads.ChunkKeys(stored.Id) : []);
        var toEmbed = WithinCap(ChunkPlan.Make(existing, chunked.Chunks).Added, embedder.Settings, cap);
        await embedder.EmbedDocumentsAsync(toEmbed.Select(d => d.VectorSource).ToList(), (first, embedded) =>
        {
            for (var i = 0; i < embedded.Count; i++) vectors[toEmbed[first + i].ContentHash] = embedded[i];
            try
            {
                index.Spend.RecordCall(SpendKind.Interactive, embedder.Settings,
                    toEmbed.Skip(first).Take(embedded.Count).Sum(d => (long)TokenEstimator.Estimate(d.VectorSource)));
            }
            catch (DbException)
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

    /// <summary>Writes the document and its chunk changes in the writer's batch.</summary>
    private ImportResult Store(IDocumentWriter writer, string path, DocumentText document, ChunkedDocument chunked, Dictionary<string, float[]> vectors)
    {
        // Planned again inside the batch: another process may have imported the file meanwhile.
        var stored = writer.Find(path);
        var plan = ChunkPlan.Make(stored is null ? [] : writer.ChunkKeys(stored.Id), chunked.Chunks);
        var now = Timestamps.Now();
        var documentId = writer.SaveDocument(stored?.Id, path, chunked.Title, document.ContentHash, ChunkerVersion, now);
        writer.DeleteChunks(plan.Removed, now);
        writer.MoveChunks(plan.Moved, now);
        writer.AddChunks(documentId, plan.Added, vectors, now);

        var status = stored is null ? ImportStatus.Added : ImportStatus.Updated;
        var embeddedCount = plan.Added.Count(d => vectors.ContainsKey(d.ContentHash));
        return Result(writer, documentId, path, chunked.Title, status, (plan.Added.Count, plan.Kept, plan.Removed.Count, embeddedCount), Tokens(plan.Added));
    }

    private ImportResult Result(IImportReads reads, long id, string path, string title, ImportStatus status, (int Added, int Kept, int Removed, int Embedded) change,
        long estimatedTokens = 0)
    {
        var (chunks, pending) = reads.Counts(id);
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
