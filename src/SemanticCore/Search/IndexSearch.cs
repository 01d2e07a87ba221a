using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Search;

/// <summary>
/// Searches an index: BM25 over the FTS5 keyword index (every chunk, Pending included), exact cosine
/// over the Ready vectors of the index's model and dimension, or both fused by reciprocal rank fusion.
/// </summary>
public static class IndexSearch
{
    /// <summary>The k of reciprocal rank fusion, as Elastic, OpenSearch and Azure AI Search use it.</summary>
    public const int FusionK = 60;

    /// <summary>How deep each ranking is read before fusing: a hit ranked 30th by one and 2nd by the other must be seen.</summary>
    private const int FusionDepth = 50;

    /// <summary>BM25 weights of the keyword index's columns: chunk text, section (headings), document title.</summary>
    private const string Bm25Weights = "1.0, 0.75, 0.5";

    /// <param name="embedder">Makes the query's embedder; called only when the query is ranked by meaning (it may throw ApiKeyMissing).</param>
    /// <exception cref="SemanticCoreException">SearchQueryEmpty; the embedder's failures in Semantic mode; IndexReadFailed.</exception>
    public static async Task<SearchOutcome> SearchAsync(SemanticIndex index, SearchRequest request, Func<IEmbeddingProvider> embedder,
        CancellationToken cancellationToken)
    {
        var match = KeywordQuery.ToMatchExpression(request.Query)
            ?? throw new SemanticCoreException("SearchQueryEmpty", FailureKind.InvalidArgument,
                "The query has no words to search for (only spaces, punctuation or symbols).");
        try
        {
            float[]? queryVector = null;
            string? fallback = null;
            VectorSet? cached = null;
            var fromCache = false;
            if (request.Mode != SearchMode.Keyword)
            {
                if (request.UseCache) cached = VectorCache.Get(index, cancellationToken, out fromCache);
                // An index with nothing embedded yet answers from keywords without paying for a query embedding.
                if (cached?.Count > 0 || (cached is null && VectorRows.Any(index.Connection, index.Settings)))
                {
                    try
                    {
                        var provider = embedder();
                        queryVector = await provider.EmbedQueryAsync(request.Query, cancellationToken).ConfigureAwait(false);
                        RecordQuery(index, provider.Settings, request.Query);
                    }
                    catch (SemanticCoreException ex) when (request.Mode == SearchMode.Hybrid)
                    {
                        fallback = ex.Message;
                    }
                }
            }

            if (!request.UseCache) VectorCache.Evict(index.DatabasePath);
            return Rank(index, request, match, queryVector, cached, fromCache, fallback, cancellationToken);
        }
        catch (SqliteException ex)
        {
            throw SqliteFailures.Map(ex, index.DatabasePath, "IndexReadFailed", FailureKind.ReadError);
        }
    }

    /// <summary>Records the query's embedding call in the spend ledger.</summary>
    private static void RecordQuery(SemanticIndex index, IndexSettings settings, string query)
    {
        try
        {
            index.Spend.RecordCall(SpendKind.Query, settings, TokenEstimator.Estimate(query));
        }
        catch (SqliteException)
        {
            // A search still answers from an index it cannot write to (a read-only file, a lock held past the busy timeout).
        }
    }

    private static SearchOutcome Rank(SemanticIndex index, SearchRequest request, string match, float[]? queryVector, VectorSet? cached,
        bool fromCache, string? fallback, CancellationToken cancellationToken)
    {
        var connection = index.Connection;
        var depth = request.Mode == SearchMode.Hybrid ? Math.Max(request.Top, FusionDepth) : request.Top;
        var filter = SearchFilter.Resolve(index.Documents, request);
        var chunks = (long)Sql.Scalar(connection, "SELECT COUNT(*) FROM chunks")!;

        List<(long Id, double Score)>? keyword = null, semantic = null;
        long? scored = null;
        long? vectors = cached?.Count;
        if (request.Mode != SearchMode.Semantic)
        {
            keyword = filter.MatchesNothing ? [] : KeywordRanking(connection, match, filter, depth);
        }

        if (queryVector is not null)
        {
            if (queryVector.Length != index.Settings.Dimensions)
            {
                throw new SemanticCoreException("QueryEmbeddingMismatch", FailureKind.InvalidData,
                    $"The query's embedding has {queryVector.Length} dimensions; the index's vectors have {index.Settings.Dimensions}.");
            }

            var top = new TopScores(depth);
            if (cached is not null)
            {
                scored = cached.Score(queryVector, filter, top);
            }
            else
            {
                scored = ScoreFromFile(index, queryVector, filter, top, out var read, cancellationToken);
                vectors = read;
            }

            semantic = top.Ranked();
        }

        var ranked = request.Mode switch
        {
            SearchMode.Keyword => Single(keyword!, SearchMatch.Keyword),
            SearchMode.Semantic => Single(semantic ?? [], SearchMatch.Semantic),
            _ => Fuse(keyword!, semantic ?? []),
        };
        var kept = ranked.Where(r => request.MinScore is not { } min || r.Score >= min).Take(request.Top).ToList();
        var statistics = new SearchStatistics
        {
            Chunks = chunks,
            KeywordSearched = keyword is not null,
            VectorsScored = scored,
            NotReady = chunks - vectors,
            FromCache = fromCache,
            Fallback = fallback,
        };
        return new SearchOutcome(Hits(index, request.Query, kept), statistics);
    }

    private static List<(long Id, double Score)> KeywordRanking(SqliteConnection connection, string match, SearchFilter filter, int depth)
    {
        using var command = connection.CreateCommand();
        var conditions = filter.SqlConditions(command).ToList();
        command.CommandText = $"""
            SELECT f.rowid, bm25(chunks_fts, {Bm25Weights}) AS score
            FROM chunks_fts f {(conditions.Count > 0 ? "JOIN chunks c ON c.id = f.rowid" : "")}
            WHERE chunks_fts MATCH $match{string.Concat(conditions.Select(c => " AND " + c))}
            ORDER BY score, f.rowid
            LIMIT $depth
            """;
        command.Parameters.AddWithValue("$match", match);
        command.Parameters.AddWithValue("$depth", depth);
        using var reader = command.ExecuteReader();
        var ranking = new List<(long, double)>();
        // FTS5's bm25() is negative, lower is better: shown as a positive score, higher is better.
        while (reader.Read()) ranking.Add((reader.GetInt64(0), -reader.GetDouble(1)));
        return ranking;
    }

    private static long ScoreFromFile(SemanticIndex index, float[] query, SearchFilter filter, TopScores top, out long vectors,
        CancellationToken cancellationToken)
    {
        long scored = 0;
        vectors = VectorRows.Read(index.Connection, index.Settings, (in VectorOwner owner, ReadOnlySpan<float> vector) =>
        {
            if (!filter.Allows(owner.DocumentId, owner.ChunkType, owner.Language)) return;
            top.Offer(owner.ChunkId, TensorPrimitives.Dot(query, vector));
            scored++;
        }, cancellationToken);
        return scored;
    }

    private sealed record Ranked(long Id, double Score, int? KeywordRank, int? SemanticRank);

    private sealed record ChunkDetails(long? DocumentId, string? DocumentPath, string? Title, string? Section, ChunkType ChunkType,
        string? Language, string Content, EmbeddingStatus Status);

    private static List<Ranked> Single(List<(long Id, double Score)> ranking, SearchMatch by) =>
        ranking.Select((r, i) => new Ranked(r.Id, r.Score, by == SearchMatch.Keyword ? i + 1 : null, by == SearchMatch.Semantic ? i + 1 : null)).ToList();

    /// <summary>Reciprocal rank fusion: each ranking adds 1/(k + rank) for the hits it holds.</summary>
    private static List<Ranked> Fuse(List<(long Id, double Score)> keyword, List<(long Id, double Score)> semantic)
    {
        var fused = new Dictionary<long, Ranked>();
        for (var i = 0; i < keyword.Count; i++) fused[keyword[i].Id] = new Ranked(keyword[i].Id, 1.0 / (FusionK + i + 1), i + 1, null);
        for (var i = 0; i < semantic.Count; i++)
        {
            var id = semantic[i].Id;
            var score = 1.0 / (FusionK + i + 1);
            fused[id] = fused.TryGetValue(id, out var k) ? k with { Score = k.Score + score, SemanticRank = i + 1 } : new Ranked(id, score, null, i + 1);
        }

        return fused.Values
            .OrderByDescending(r => r.Score)
            .ThenBy(r => Math.Min(r.KeywordRank ?? int.MaxValue, r.SemanticRank ?? int.MaxValue))
            .ThenBy(r => r.Id)
            .ToList();
    }

    private static List<SearchHit> Hits(SemanticIndex index, string query, List<Ranked> ranked)
    {
        if (ranked.Count == 0) return [];
        using var command = index.Connection.CreateCommand();
        command.CommandText = $"""
            SELECT c.id, c.document_id, d.source_path, d.title, {Schema.SectionOf("c.metadata")}, c.chunk_type, c.language, c.content, c.embedding_status
            FROM chunks c LEFT JOIN documents d ON d.id = c.document_id
            WHERE c.id IN (SELECT value FROM json_each($ids))
            """;
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(ranked.Select(r => r.Id)));
        var rows = new Dictionary<long, ChunkDetails>();
        using (var reader = command.ExecuteReader())
        {
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
        }

        // A chunk deleted between ranking and reading (another process) is left out; ranks stay consecutive.
        var hits = new List<SearchHit>(ranked.Count);
        foreach (var r in ranked)
        {
            if (!rows.TryGetValue(r.Id, out var chunk)) continue;
            hits.Add(new SearchHit
            {
                Rank = hits.Count + 1,
                Score = r.Score,
                Match = (r.KeywordRank is null ? SearchMatch.None : SearchMatch.Keyword) | (r.SemanticRank is null ? SearchMatch.None : SearchMatch.Semantic),
                KeywordRank = r.KeywordRank,
                SemanticRank = r.SemanticRank,
                ChunkId = r.Id,
                DocumentId = chunk.DocumentId,
                DocumentPath = chunk.DocumentPath,
                Title = chunk.Title,
                Section = chunk.Section,
                Type = chunk.ChunkType,
                Language = chunk.Language,
                Content = chunk.Content,
                State = chunk.Status,
                Query = query,
                Database = index.DatabasePath,
            });
        }

        return hits;
    }
}
