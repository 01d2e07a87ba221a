using Npgsql;
using NpgsqlTypes;
using Pgvector;
using SemanticCore.Model;
using SemanticCore.Search;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// Ranks the chunks of a PostgreSQL index where they are: keywords by <c>ts_rank_cd</c> over the stored tsvector (GIN),
/// meaning by pgvector's inner product, exact by default and through the HNSW index once one is built.
/// </summary>
internal sealed class PostgresRankingStore(NpgsqlConnection connection, string displayName, IndexSettings settings) : IRankingStore
{
    /// <summary>ts_rank_cd's weights of the D, C (title), B (section) and A (text) parts, as the SQLite index weights its columns.</summary>
    private const string RankWeights = "'{0.1, 0.5, 0.75, 1.0}'";

    public long CountChunks() => Read(() => Scalar<long>("SELECT count(*) FROM chunks"));

    public IReadOnlyList<(long ChunkId, double Score)> TopKeywordHits(IReadOnlyList<string> words, SearchFilter filter, int k) => Read(() =>
    {
        using var command = new NpgsqlCommand { Connection = connection };
        if (words.Count == 0 || PostgresFilter.Conditions(connection, filter, command) is not { } conditions) return [];
        // Each word a parameter of plainto_tsquery, joined with OR: no word is ever parsed as query syntax.
        var query = string.Join(" || ", words.Select((word, i) =>
        {
            command.Parameters.AddWithValue($"w{i}", word);
            return $"plainto_tsquery('{PostgresSchema.TextSearchConfig}', @w{i})";
        }));
        command.CommandText = $"""
            SELECT c.id, ts_rank_cd({RankWeights}, c.search, q) AS score
            FROM chunks c, (SELECT {query} AS q) AS t
            WHERE c.search @@ q{conditions}
            ORDER BY score DESC, c.id
            LIMIT @k
            """;
        command.Parameters.AddWithValue("k", k);
        return (IReadOnlyList<(long, double)>)Rows(command, r => (r.GetInt64(0), (double)r.GetFloat(1)));
    });

    public VectorInventory CountSearchableVectors(bool keepInMemory, CancellationToken cancellationToken) => Read(() =>
    {
        using var command = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE {Searchable})", connection);
        AddSettings(command);
        return new VectorInventory(command.ExecuteScalar() is true, null, false);
    });

    public VectorRanking TopVectorHits(float[] query, SearchFilter filter, int k, bool keepInMemory, CancellationToken cancellationToken) => Read(() =>
    {
        using var command = new NpgsqlCommand { Connection = connection };
        if (PostgresFilter.Conditions(connection, filter, command) is not { } conditions) return new VectorRanking([], 0, 0);
        var hnsw = PostgresVectorIndex.Exists(connection);
        // <#> is the negative inner product (cosine, as the vectors are normalized).
        var distance = PostgresVectorIndex.Distance(settings, "v.embedding", "@query");
        command.CommandText = hnsw
            ? $"""
              SELECT c.id, -({distance}) AS score, 0::bigint
              FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id
              WHERE {Searchable}{conditions}
              ORDER BY {distance}
              LIMIT @k
              """
            : $"""
              SELECT c.id, -({distance}) AS score, count(*) OVER ()
              FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id
              WHERE {Searchable}{conditions}
              ORDER BY {distance}, c.id
              LIMIT @k
              """;
        command.Parameters.AddWithValue("query", new Vector(query));
        command.Parameters.AddWithValue("k", k);
        AddSettings(command);
        using var transaction = hnsw ? connection.BeginTransaction() : null;
        if (hnsw)
        {
            // Iterative scans: a filter that rejects most nearest neighbours still gets k hits (pgvector 0.8).
            using var scan = new NpgsqlCommand($"SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = {Math.Max(40, k * 2)}", connection, transaction);
            scan.ExecuteNonQuery();
        }

        command.Transaction = transaction;
        long scored = 0;
        var hits = Rows(command, r =>
        {
            scored = Math.Max(scored, r.GetInt64(2));
            return (r.GetInt64(0), r.GetDouble(1));
        });
        transaction?.Commit();
        if (hnsw)
        {
            // An approximate scan reads the graph's neighbourhood, not every vector: it orders by distance, ties may differ.
            hits = [.. hits.OrderByDescending(h => h.Item2).ThenBy(h => h.Item1)];
            scored = hits.Count;
        }

        return new VectorRanking(hits, scored, hnsw ? hits.Count : scored);
    });

    /// <summary>A PostgreSQL index keeps no vectors in this process's memory: the server ranks them.</summary>
    public void ForgetVectorsInMemory()
    {
    }

    public string? SetVectorIndex(VectorIndexKind kind) => Read(() => kind == VectorIndexKind.Hnsw
        ? PostgresVectorIndex.Build(connection, settings, displayName) ? "Built the HNSW index of the vectors (semantic searches are approximate from now on)" : null
        : PostgresVectorIndex.Drop(connection) ? "Dropped the HNSW index of the vectors (semantic searches are exact from now on)" : null);

    public IReadOnlyDictionary<long, ChunkDetails> Details(IReadOnlyCollection<long> chunkIds) => Read(() =>
    {
        if (chunkIds.Count == 0) return new Dictionary<long, ChunkDetails>();
        using var command = new NpgsqlCommand($"""
            SELECT c.id, c.document_id, d.source_path, d.title, {PostgresFilter.SectionOf("c.metadata")}, c.chunk_type, c.language, c.content, c.embedding_status
            FROM chunks c LEFT JOIN documents d ON d.id = c.document_id
            WHERE c.id = ANY(@ids)
            """, connection);
        command.Parameters.AddWithValue("ids", chunkIds.ToArray());
        return (IReadOnlyDictionary<long, ChunkDetails>)Rows(command, r => (r.GetInt64(0), new ChunkDetails(
                r.IsDBNull(1) ? null : r.GetInt64(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4),
                ChunkTypeNames.FromStorageName(r.IsDBNull(5) ? null : r.GetString(5)),
                r.IsDBNull(6) ? null : r.GetString(6),
                r.GetString(7),
                Enum.Parse<EmbeddingStatus>(r.GetString(8)))))
            .ToDictionary(p => p.Item1, p => p.Item2);
    });

    /// <summary>The vectors a search may rank: Ready chunks' vectors of the index's model and dimension.</summary>
    private const string Searchable = "c.embedding_status = 'Ready' AND v.model = @model AND v.dimensions = @dimensions";

    private void AddSettings(NpgsqlCommand command)
    {
        command.Parameters.AddWithValue("model", settings.Model);
        command.Parameters.AddWithValue("dimensions", settings.Dimensions);
    }

    private T Scalar<T>(string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<TRow> Rows<TRow>(NpgsqlCommand command, Func<NpgsqlDataReader, TRow> read)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<TRow>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    /// <summary>Runs a read, its PostgreSQL failures as the module's ErrorIds.</summary>
    private T Read<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (NpgsqlException ex)
        {
            throw PostgresFailures.Map(ex, displayName, "IndexReadFailed", FailureKind.ReadError);
        }
    }
}

/// <summary>A search's or a listing's filter as SQL conditions on <c>chunks c</c> of a PostgreSQL index.</summary>
internal static class PostgresFilter
{
    /// <summary>
    /// The conditions (each starting with " AND "), their parameters added to <paramref name="command"/>; null when the
    /// filter keeps no chunk at all (no document matched the path test).
    /// </summary>
    public static string? Conditions(NpgsqlConnection connection, SearchFilter filter, NpgsqlCommand command)
    {
        var conditions = "";
        if (filter.DocumentPathMatches is { } matches)
        {
            var ids = MatchingDocumentIds(connection, matches);
            if (ids.Count == 0) return null;
            command.Parameters.AddWithValue("documents", ids.ToArray());
            conditions += " AND c.document_id = ANY(@documents)";
        }

        if (filter.ChunkTypes is { } types)
        {
            // Every stored name of each type (older names included), compared as stored.
            command.Parameters.AddWithValue("types", NpgsqlDbType.Array | NpgsqlDbType.Text, types.Select(t => t.ToStorageName()).ToArray());
            conditions += " AND lower(coalesce(c.chunk_type, 'text')) = ANY(@types)";
        }

        if (filter.Languages is { } languages)
        {
            command.Parameters.AddWithValue("languages", languages.Select(l => l.ToLowerInvariant()).ToArray());
            conditions += " AND lower(c.language) = ANY(@languages)";
        }

        return conditions;
    }

    /// <summary>The ids of the documents whose full path <paramref name="matches"/>, tested here (PowerShell wildcards).</summary>
    public static List<long> MatchingDocumentIds(NpgsqlConnection connection, Func<string, bool> matches)
    {
        using var command = new NpgsqlCommand("SELECT id, source_path FROM documents", connection);
        using var reader = command.ExecuteReader();
        var ids = new List<long>();
        while (reader.Read())
        {
            if (matches(reader.GetString(1))) ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>The section of a chunk (its breadcrumbs joined with " > ") from its metadata; NULL without breadcrumbs.</summary>
    public static string SectionOf(string metadata) =>
        $"(SELECT string_agg(value, ' > ') FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof({metadata} -> 'breadcrumbs') = 'array' THEN {metadata} -> 'breadcrumbs' END))";
}
