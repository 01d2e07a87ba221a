using SemanticCore.Embedding;
using SemanticCore.Ingestion;
using SemanticCore.Model;
using SemanticCore.Search;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Storage;

/// <summary>What an index's ranking store answers: the top hits for words or a vector within a filter, and the hits' details.</summary>
public sealed class RankingStoreTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-ranking-").FullName;

    private string Database => Path.Combine(folder, "index.db");

    /// <summary>An index of a Markdown guide (prose and a PowerShell block, embedded) and a text note (Pending).</summary>
    private async Task<SemanticIndex> IndexOfGuideAndNote()
    {
        var guide = Path.Combine(folder, "guide.md");
        File.WriteAllText(guide, """
            # Rotation

            Do not rotate the batch key on Fridays: a job may still hold it.

            ```powershell
            Set-SemanticKeyring -BatchApiKey $key # rotate the key
            ```
            """);
        var note = Path.Combine(folder, "note.txt");
        File.WriteAllText(note, "Rotate the key after the drill, never before it.");
        var index = SemanticIndex.Open(Database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local));
        using var importer = new DocumentImporter(index);
        await importer.ImportAsync(guide, new LocalEmbeddingProvider(index.Settings), CancellationToken.None);
        importer.Queue(note);
        importer.Commit();
        return index;
    }

    public static TheoryData<string, string[]> Filters => new()
    {
        { "none", ["guide.md/Text", "guide.md/Code", "note.txt/Text"] },
        { "path", ["note.txt/Text"] },
        { "type", ["guide.md/Code"] },
        { "language", ["guide.md/Code"] },
        { "no document", [] },
    };

    private static SearchFilter Filter(string name) => name switch
    {
        "path" => new SearchFilter { DocumentPathMatches = p => p.EndsWith("note.txt", StringComparison.Ordinal) },
        "type" => new SearchFilter { ChunkTypes = new HashSet<ChunkType> { ChunkType.Code } },
        "language" => new SearchFilter { Languages = new HashSet<string> { "PowerShell" } },
        "no document" => new SearchFilter { DocumentPathMatches = _ => false },
        _ => new SearchFilter(),
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Keyword_hits_are_the_chunks_the_filter_keeps_that_hold_a_word(string filter, string[] expected)
    {
        using var index = await IndexOfGuideAndNote();

        var hits = index.Ranking.TopKeywordHits(["rotate", "key"], Filter(filter), k: 10);

        Assert.Equal(expected.Order(), Describe(index, hits).Order());
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task Vector_hits_are_the_embedded_chunks_the_filter_keeps_alike_from_memory_and_from_the_index(string filter, string[] expected)
    {
        using var index = await IndexOfGuideAndNote();
        var query = await new LocalEmbeddingProvider(index.Settings).EmbedQueryAsync("rotate the key", CancellationToken.None);

        var streamed = index.Ranking.TopVectorHits(query, Filter(filter), k: 10, keepInMemory: false, CancellationToken.None);
        var inMemory = index.Ranking.TopVectorHits(query, Filter(filter), k: 10, keepInMemory: true, CancellationToken.None);

        var embedded = expected.Where(e => e.StartsWith("guide.md", StringComparison.Ordinal)).Order();
        Assert.Equal(embedded, Describe(index, streamed.Hits).Order());
        Assert.Equal(streamed.Hits, inMemory.Hits);
        Assert.Equal((embedded.Count(), 2L), (streamed.Scored, streamed.Vectors));
        Assert.Equal((streamed.Scored, streamed.Vectors), (inMemory.Scored, inMemory.Vectors));
        Assert.Equal(streamed.Hits.OrderByDescending(h => h.Score).ThenBy(h => h.ChunkId), streamed.Hits);
    }

    [Fact]
    public async Task An_operator_of_the_stores_syntax_is_searched_as_a_word()
    {
        using var index = await IndexOfGuideAndNote();

        var hits = index.Ranking.TopKeywordHits(["not", "near", "or"], new SearchFilter(), k: 10);

        var hit = Assert.Single(hits);
        Assert.Contains("Do not rotate", index.Ranking.Details([hit.ChunkId])[hit.ChunkId].Content);
    }

    [Fact]
    public async Task Details_leave_out_a_chunk_that_no_longer_exists()
    {
        using var index = await IndexOfGuideAndNote();
        var hit = index.Ranking.TopKeywordHits(["drill"], new SearchFilter(), k: 1).Single();

        var details = index.Ranking.Details([hit.ChunkId, long.MaxValue]);

        var chunk = Assert.Single(details).Value;
        Assert.Equal((Path.Combine(folder, "note.txt"), ChunkType.Text, EmbeddingStatus.Pending), (chunk.DocumentPath, chunk.ChunkType, chunk.Status));
    }

    [Fact]
    public void An_index_with_nothing_embedded_has_no_searchable_vectors_and_a_second_count_comes_from_memory()
    {
        File.WriteAllText(Path.Combine(folder, "note.txt"), "Nothing embedded yet.");
        using var index = SemanticIndex.Open(Database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local));
        using (var importer = new DocumentImporter(index))
        {
            importer.Queue(Path.Combine(folder, "note.txt"));
            importer.Commit();
        }

        var checkedOnly = index.Ranking.CountSearchableVectors(keepInMemory: false, CancellationToken.None);
        var loaded = index.Ranking.CountSearchableVectors(keepInMemory: true, CancellationToken.None);
        var again = index.Ranking.CountSearchableVectors(keepInMemory: true, CancellationToken.None);
        index.Ranking.ForgetVectorsInMemory();
        var forgotten = index.Ranking.CountSearchableVectors(keepInMemory: true, CancellationToken.None);

        Assert.Equal(new VectorInventory(false, null, false), checkedOnly);
        Assert.Equal(new VectorInventory(false, 0, false), loaded);
        Assert.Equal(new VectorInventory(false, 0, true), again);
        Assert.Equal(new VectorInventory(false, 0, false), forgotten);
        Assert.Equal(1, index.Ranking.CountChunks());
    }

    /// <summary>Each hit as "file/type", read back through the store's details.</summary>
    private static IEnumerable<string> Describe(SemanticIndex index, IReadOnlyList<(long ChunkId, double Score)> hits)
    {
        var details = index.Ranking.Details(hits.Select(h => h.ChunkId).ToList());
        return hits.Select(h => $"{Path.GetFileName(details[h.ChunkId].DocumentPath)}/{details[h.ChunkId].ChunkType}");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
