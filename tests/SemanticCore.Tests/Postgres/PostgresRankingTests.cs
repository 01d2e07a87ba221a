using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Search;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Postgres;

/// <summary>Ranking where a PostgreSQL index's data is: keywords over the stored tsvector, vectors exact and through HNSW.</summary>
public sealed class PostgresRankingTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-pgranking-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>The same notes imported (embedded at once, Local provider) into an SQLite and a PostgreSQL index: the same chunk ids in both.</summary>
    private async Task<(SemanticIndex Sqlite, SemanticIndex Postgres)> TwinIndexes(int notes)
    {
        var paths = Enumerable.Range(0, notes).Select(i =>
        {
            var path = Path.Combine(folder, $"note-{i:D3}.md");
            File.WriteAllText(path, $"# Note {i}\n\nThe {Topics[i % Topics.Length]} runbook, step {i}: check the {Topics[(i * 7) % Topics.Length]} first.\n");
            return path;
        }).ToList();
        var request = new IndexSettingsRequest(EmbeddingProviderKind.Local);
        var indexes = new[] { SemanticIndex.Open(Path.Combine(folder, "index.db"), true, request), SemanticIndex.Open(PostgresFactAttribute.NewIndex(), true, request) };
        foreach (var index in indexes)
        {
            using var importer = new DocumentImporter(index);
            foreach (var path in paths) await importer.ImportAsync(path, new LocalEmbeddingProvider(index.Settings), CancellationToken.None);
        }

        return (indexes[0], indexes[1]);
    }

    private static readonly string[] Topics = ["backup", "certificate", "firewall", "batch key", "disk quota", "printer", "VPN", "mailbox"];

    [PostgresFact]
    public async Task Keyword_and_exact_vector_hits_are_those_of_the_SQLite_index_and_query_syntax_is_searched_as_words()
    {
        var (sqlite, postgres) = await TwinIndexes(40);
        using (sqlite)
        using (postgres)
        {
            foreach (var words in new[] { new[] { "firewall", "runbook" }, ["OR", "NOT", "firewall"], ["'", "\"", "certificate*"], ["nothing-matches-this"] })
            {
                var clean = words.SelectMany(KeywordQuery.Words).ToList();
                Assert.Equal(sqlite.Ranking.TopKeywordHits(clean, new SearchFilter(), 10).Select(h => h.ChunkId).Order(),
                    postgres.Ranking.TopKeywordHits(clean, new SearchFilter(), 10).Select(h => h.ChunkId).Order());
            }

            var query = await new LocalEmbeddingProvider(sqlite.Settings).EmbedQueryAsync("check the VPN first", CancellationToken.None);
            var exactSqlite = sqlite.Ranking.TopVectorHits(query, new SearchFilter(), 10, keepInMemory: false, CancellationToken.None);
            var exactPostgres = postgres.Ranking.TopVectorHits(query, new SearchFilter(), 10, keepInMemory: false, CancellationToken.None);
            Assert.Equal(exactSqlite.Hits.Select(h => h.ChunkId), exactPostgres.Hits.Select(h => h.ChunkId));
            Assert.Equal(exactSqlite.Hits.Select(h => Math.Round(h.Score, 4)), exactPostgres.Hits.Select(h => Math.Round(h.Score, 4)));
            Assert.Equal(exactSqlite.Scored, exactPostgres.Scored);
        }
    }

    [PostgresFact]
    public async Task Through_HNSW_a_filter_that_rejects_the_nearest_vectors_still_gets_its_hits()
    {
        var (sqlite, postgres) = await TwinIndexes(300);
        using (sqlite)
        using (postgres)
        {
            Assert.NotNull(postgres.Ranking.SetVectorIndex(VectorIndexKind.Hnsw));
            Assert.Null(postgres.Ranking.SetVectorIndex(VectorIndexKind.Hnsw)); // already there
            // 300 rows are few enough for the planner to prefer scanning and sorting them all: make it go through the graph, as on a large index.
            using (var noScan = new Npgsql.NpgsqlCommand("SET enable_seqscan = off; SET enable_sort = off", (Npgsql.NpgsqlConnection)postgres.Connection)) noScan.ExecuteNonQuery();
            var query = await new LocalEmbeddingProvider(sqlite.Settings).EmbedQueryAsync("check the printer first", CancellationToken.None);
            // Five notes of 300, far from the query's nearest ones: an HNSW scan that stopped at ef_search candidates would find none.
            var keep = new SearchFilter { DocumentPathMatches = p => p.EndsWith("7.md", StringComparison.Ordinal) && p.Contains("note-1", StringComparison.Ordinal) };

            var approximate = postgres.Ranking.TopVectorHits(query, keep, 5, keepInMemory: false, CancellationToken.None);
            var exact = sqlite.Ranking.TopVectorHits(query, keep, 5, keepInMemory: false, CancellationToken.None);

            Assert.Equal(5, exact.Hits.Count);
            Assert.Equal(exact.Hits.Select(h => h.ChunkId).Order(), approximate.Hits.Select(h => h.ChunkId).Order());
            Assert.NotNull(postgres.Ranking.SetVectorIndex(VectorIndexKind.None));
            Assert.Equal(exact.Hits.Select(h => h.ChunkId), postgres.Ranking.TopVectorHits(query, keep, 5, false, CancellationToken.None).Hits.Select(h => h.ChunkId));
        }
    }

    [Fact]
    public void An_SQLite_index_refuses_an_HNSW_index_and_has_none_to_drop()
    {
        using var index = SemanticIndex.Open(Path.Combine(folder, "exact.db"), true, new IndexSettingsRequest(EmbeddingProviderKind.Local));
        Assert.Equal("VectorIndexUnsupported", Assert.Throws<SemanticCoreException>(() => index.Ranking.SetVectorIndex(VectorIndexKind.Hnsw)).ErrorId);
        Assert.Null(index.Ranking.SetVectorIndex(VectorIndexKind.None));
    }
}
