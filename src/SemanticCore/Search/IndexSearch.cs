using System.Data.Common;
using SemanticCore.Chunking;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Search;

/// <summary>
/// Searches an index: by keywords (BM25, every chunk, Pending included), by meaning (cosine over the Ready vectors
/// of the index's model and dimension), or both fused by reciprocal rank fusion; the index's store ranks each.
/// </summary>
public static class IndexSearch
{
    /// <summary>The k of reciprocal rank fusion, as Elastic, OpenSearch and Azure AI Search use it.</summary>
    public const int FusionK = 60;

    /// <summary>How deep each ranking is read before fusing: a hit ranked 30th by one and 2nd by the other must be seen.</summary>
    private const int FusionDepth = 50;

    /// <param name="embedder">Makes the query's embedder; called only when the query is ranked by meaning (it may throw ApiKeyMissing).</param>
    /// <exception cref="SemanticCoreException">SearchQueryEmpty; the embedder's failures in Semantic mode; IndexReadFailed.</exception>
    public static async Task<SearchOutcome> SearchAsync(SemanticIndex index, SearchRequest request, Func<IEmbeddingProvider> embedder,
        CancellationToken cancellationToken)
    {
        var words = KeywordQuery.Words(request.Query);
        if (words.Count == 0)
        {
            throw new SemanticCoreException("SearchQueryEmpty", FailureKind.InvalidArgument,
                "The query has no words to search for (only spaces, punctuation or symbols).");
        }

        float[]? queryVector = null;
        string? fallback = null;
        VectorInventory? inventory = null;
        if (request.Mode != SearchMode.Keyword)
        {
            inventory = index.Ranking.CountSearchableVectors(request.UseCache, cancellationToken);
            // An index with nothing embedded yet answers from keywords without paying for a query embedding.
            if (inventory.Any)
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

        if (!request.UseCache) index.Ranking.ForgetVectorsInMemory();
        return Rank(index, request, words, queryVector, inventory, fallback, cancellationToken);
    }

    /// <summary>Records the query's embedding call in the spend ledger.</summary>
    private static void RecordQuery(SemanticIndex index, IndexSettings settings, string query)
    {
        try
        {
            index.Spend.RecordCall(SpendKind.Query, settings, TokenEstimator.Estimate(query));
        }
        catch (DbException)
        {
            // A search still answers from an index it cannot write to (a read-only file, a lock held past the busy timeout).
        }
    }

    private static SearchOutcome Rank(SemanticIndex index, SearchRequest request, IReadOnlyList<string> words, float[]? queryVector,
        VectorInventory? inventory, string? fallback, CancellationToken cancellationToken)
    {
        var ranking = index.Ranking;
        var depth = request.Mode == SearchMode.Hybrid ? Math.Max(request.Top, FusionDepth) : request.Top;
        var filter = SearchFilter.Of(request);
        var chunks = ranking.CountChunks();

        IReadOnlyList<(long Id, double Score)>? keyword = null, semantic = null;
        long? scored = null;
        var vectors = inventory?.Count;
        if (request.Mode != SearchMode.Semantic) keyword = ranking.TopKeywordHits(words, filter, depth);

        if (queryVector is not null)
        {
            if (queryVector.Length != index.Settings.Dimensions)
            {
                throw new SemanticCoreException("QueryEmbeddingMismatch", FailureKind.InvalidData,
                    $"The query's embedding has {queryVector.Length} dimensions; the index's vectors have {index.Settings.Dimensions}.");
            }

            var ranked = ranking.TopVectorHits(queryVector, filter, depth, request.UseCache, cancellationToken);
            (semantic, scored, vectors) = (ranked.Hits, ranked.Scored, ranked.Vectors);
        }

        var fused = request.Mode switch
        {
            SearchMode.Keyword => Single(keyword!, SearchMatch.Keyword),
            SearchMode.Semantic => Single(semantic ?? [], SearchMatch.Semantic),
            _ => Fuse(keyword!, semantic ?? []),
        };
        var kept = fused.Where(r => request.MinScore is not { } min || r.Score >= min).Take(request.Top).ToList();
        var statistics = new SearchStatistics
        {
            Chunks = chunks,
            KeywordSearched = keyword is not null,
            VectorsScored = scored,
            NotReady = chunks - vectors,
            FromCache = inventory?.FromMemory ?? false,
            Fallback = fallback,
        };
        return new SearchOutcome(Hits(index, request.Query, kept), statistics);
    }

    private sealed record Ranked(long Id, double Score, int? KeywordRank, int? SemanticRank);

    private static List<Ranked> Single(IReadOnlyList<(long Id, double Score)> ranking, SearchMatch by) =>
        ranking.Select((r, i) => new Ranked(r.Id, r.Score, by == SearchMatch.Keyword ? i + 1 : null, by == SearchMatch.Semantic ? i + 1 : null)).ToList();

    /// <summary>Reciprocal rank fusion: each ranking adds 1/(k + rank) for the hits it holds.</summary>
    private static List<Ranked> Fuse(IReadOnlyList<(long Id, double Score)> keyword, IReadOnlyList<(long Id, double Score)> semantic)
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
        var rows = index.Ranking.Details(ranked.Select(r => r.Id).ToList());

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
