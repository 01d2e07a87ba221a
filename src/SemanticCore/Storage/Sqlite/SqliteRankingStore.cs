using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Model;
using SemanticCore.Search;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// Ranks the chunks of an SQLite index: BM25 over the FTS5 keyword index, and exact cosine over the searchable
/// vectors, streamed from the file or held in memory by <see cref="VectorCache"/>.
/// </summary>
internal sealed class SqliteRankingStore(SqliteConnection connection, IDocumentStore documents, string databasePath, IndexSettings settings) : IRankingStore
{
    /// <summary>BM25 weights of the keyword index's columns: chunk text, section (headings), document title.</summary>
    private const string Bm25Weights = "1.0, 0.75, 0.5";

    public long CountChunks() => Read(() => (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks")!);

    public IReadOnlyList<(long ChunkId, double Score)> TopKeywordHits(IReadOnlyList<string> words, SearchFilter filter, int k) => Read(() =>
    {
        var resolved = SqliteSearchFilter.Resolve(documents, filter);
        if (resolved.MatchesNothing || words.Count == 0) return [];
        using var command = connection.CreateCommand();
        var conditions = resolved.SqlConditions(command).ToList();
        command.CommandText = $"""
            SELECT f.rowid, bm25(chunks_fts, {Bm25Weights}) AS score
            FROM chunks_fts f {(conditions.Count > 0 ? "JOIN chunks c ON c.id = f.rowid" : "")}
            WHERE chunks_fts MATCH $match{string.Concat(conditions.Select(c => " AND " + c))}
            ORDER BY score, f.rowid
            LIMIT $depth
            """;
        command.Parameters.AddWithValue("$match", MatchExpression(words));
        command.Parameters.AddWithValue("$depth", k);
        using var reader = command.ExecuteReader();
        var ranking = new List<(long, double)>();
        // FTS5's bm25() is negative, lower is better: shown as a positive score, higher is better.
        while (reader.Read()) ranking.Add((reader.GetInt64(0), -reader.GetDouble(1)));
        return (IReadOnlyList<(long, double)>)ranking;
    });

    /// <summary>The FTS5 MATCH expression of plain words: each quoted as a string, joined with OR, so no word is ever syntax.</summary>
    internal static string MatchExpression(IReadOnlyList<string> words) =>
        // A word holds no '"' (it is a separator), so quoting it needs no escaping.
        string.Join(" OR ", words.Select(w => "\"" + w + "\""));

    public VectorInventory CountSearchableVectors(bool keepInMemory, CancellationToken cancellationToken) => Read(() =>
    {
        if (!keepInMemory) return new VectorInventory(VectorRows.Any(connection, settings), null, false);
        var cached = VectorCache.Get(connection, databasePath, settings, cancellationToken, out var fromCache);
        return new VectorInventory(cached.Count > 0, cached.Count, fromCache);
    });

    public VectorRanking TopVectorHits(float[] query, SearchFilter filter, int k, bool keepInMemory, CancellationToken cancellationToken) => Read(() =>
    {
        var resolved = SqliteSearchFilter.Resolve(documents, filter);
        var top = new TopScores(k);
        if (keepInMemory)
        {
            var cached = VectorCache.Get(connection, databasePath, settings, cancellationToken, out _);
            var inMemory = cached.Score(query, resolved, top);
            return new VectorRanking(top.Ranked(), inMemory, cached.Count);
        }

        long scored = 0;
        var read = VectorRows.Read(connection, settings, (in VectorOwner owner, ReadOnlySpan<float> vector) =>
        {
            if (!resolved.Allows(owner.DocumentId, owner.ChunkType, owner.Language)) return;
            top.Offer(owner.ChunkId, TensorPrimitives.Dot(query, vector));
            scored++;
        }, cancellationToken);
        return new VectorRanking(top.Ranked(), scored, read);
    });

    public void ForgetVectorsInMemory() => VectorCache.Evict(databasePath);

    /// <summary>An SQLite index scores every vector in memory with SIMD: exact, and there is no other index to build.</summary>
    public string? SetVectorIndex(VectorIndexKind kind) => kind == VectorIndexKind.None
        ? null
        : throw new SemanticCoreException("VectorIndexUnsupported", FailureKind.InvalidOperation,
            $"The index '{databasePath}' is an SQLite file: its searches are exact, over vectors held in memory. An HNSW index is for PostgreSQL indexes (docs/postgres.md).");

    public IReadOnlyDictionary<long, ChunkDetails> Details(IReadOnlyCollection<long> chunkIds) => Read(() =>
    {
        var rows = new Dictionary<long, ChunkDetails>();
        if (chunkIds.Count == 0) return rows;
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT c.id, c.document_id, d.source_path, d.title, {Schema.SectionOf("c.metadata")}, c.chunk_type, c.language, c.content, c.embedding_status
            FROM chunks c LEFT JOIN documents d ON d.id = c.document_id
            WHERE c.id IN (SELECT value FROM json_each($ids))
            """;
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(chunkIds));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows[reader.GetInt64(0)] = new ChunkDetails(
                reader.IsDBNull(1) ? null : reader.GetInt64(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                ChunkTypeNames.FromStorageName(reader.IsDBNull(5) ? null : reader.GetString(5)),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.GetString(7),
                Enum.Parse<EmbeddingStatus>(reader.GetString(8)));
        }

        return (IReadOnlyDictionary<long, ChunkDetails>)rows;
    });

    /// <summary>Runs a read, its SQLite failures as the module's ErrorIds.</summary>
    private T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (SqliteException ex)
        {
            throw SqliteFailures.Map(ex, databasePath, "IndexReadFailed", FailureKind.ReadError);
        }
    }
}
