using System.Text;
using System.Text.Json;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// Import-SemanticDocument on a Gemini index: -Mode Sync embeds now through batchEmbedContents with the
/// DEFAULT key; -Mode Auto queues for a batch job when a batch key is configured, and embeds now otherwise.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class GeminiImportModeTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private void WriteDocument(string path, int sections, string tag)
    {
        var text = new StringBuilder($"# {tag}\n\n");
        for (var i = 0; i < sections; i++) text.Append($"## Section {i}\n\nParagraph {i} of {tag}: rotate key {i} and verify the audit entry {i * 7}.\n\n");
        dir.Write(path, text.ToString());
    }

    [Fact]
    public async Task A_Sync_import_that_fails_part_way_keeps_what_was_embedded_and_never_pays_for_it_again()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteDocument("kb/big.md", 250, "Big guide");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        gemini.Server.FailNextRequests("batchEmbedContents", 1, 400, after: 2); // the third group of 100 is refused

        var run = ps.Run("Import-SemanticDocument -Path kb/big.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys);

        var error = Assert.Single(run.Errors);
        Assert.Equal("GeminiBadRequest", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("200 chunk(s) embedded before the failure are stored", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal(200L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal(200L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));
        Assert.Equal(50L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
        Assert.Equal(3, gemini.Server.Requests.Count);

        // The next import embeds nothing again: the file is unchanged, and its 50 chunks wait for a batch job.
        Assert.Equal("Unchanged", ps.Run("Import-SemanticDocument -Path kb/big.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors().Single().Text("Status"));
        Assert.Equal(3, gemini.Server.Requests.Count);
    }

    [Fact]
    public async Task Sync_mode_embeds_in_calls_of_at_most_100_with_the_default_key_and_stores_unit_vectors()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteDocument("kb/big.md", 250, "Big guide");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();

        var result = ps.Run("Import-SemanticDocument -Path kb/big.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors().Single();

        Assert.Equal(250L, result.Long("Chunks"));
        Assert.Equal(0L, result.Long("Pending"));
        Assert.Equal(250L, result.Long("Embedded"));
        Assert.Equal(250L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));

        // The calls: batchEmbedContents only, at most 100 requests each, RETRIEVAL_DOCUMENT, 768, the default key.
        var requests = gemini.Server.Requests;
        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("/v1beta/models/gemini-embedding-001:batchEmbedContents", r.Path);
            Assert.Equal(GeminiFake.DefaultKey, r.Header("x-goog-api-key"));
        });
        var sizes = new List<int>();
        var sent = new List<string>();
        foreach (var request in requests)
        {
            using var body = JsonDocument.Parse(request.Body!);
            var items = body.RootElement.GetProperty("requests").EnumerateArray().ToList();
            sizes.Add(items.Count);
            foreach (var item in items)
            {
                Assert.Equal("RETRIEVAL_DOCUMENT", item.GetProperty("taskType").GetString());
                Assert.Equal(768, item.GetProperty("outputDimensionality").GetInt32());
                Assert.Equal("models/gemini-embedding-001", item.GetProperty("model").GetString());
                sent.Add(item.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()!);
            }
        }

        Assert.Equal([100, 100, 50], sizes);
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        Assert.Empty(gemini.Server.UploadedFiles);

        // Vectors: 768 float32, unit length, the (normalized) embedding of exactly the text that was sent for the chunk.
        var rows = Db.Rows(Database, "SELECT json_extract(c.metadata, '$._vector_source'), v.model, v.dimensions, v.vector FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id");
        Assert.Equal(250, rows.Count);
        Assert.Equal(rows.Select(r => (string)r[0]!).Order(), sent.Order());
        Assert.All(rows, r =>
        {
            Assert.Equal("gemini-embedding-001", r[1]);
            Assert.Equal(768L, r[2]);
            var blob = (byte[])r[3]!;
            Assert.Equal(768 * 4, blob.Length);
            var actual = Enumerable.Range(0, 768).Select(i => BitConverter.ToSingle(blob, i * 4)).ToArray();
            Assert.Equal(1.0, Math.Sqrt(actual.Sum(v => (double)v * v)), 4);
            var raw = FakeVectors.VectorFor((string)r[0]!, 768);
            var norm = Math.Sqrt(raw.Sum(v => (double)v * v));
            for (var i = 0; i < 768; i++) Assert.Equal((float)(raw[i] / norm), actual[i], 1e-5f);
        });
    }

    [Fact]
    public async Task Auto_mode_queues_for_a_batch_job_when_the_session_has_a_batch_key()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteDocument("kb/guide.md", 6, "Guide");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Set-SemanticKeyring -BatchApiKey $BatchKey -ApiKey $ApiKey", keys).AssertNoErrors();

        var result = ps.Run("Import-SemanticDocument -Path kb/guide.md -Database index.db -Verbose", keys).AssertNoErrors();

        var imported = result.Single();
        Assert.Equal(6L, imported.Long("Chunks"));
        Assert.Equal(6L, imported.Long("Pending"));
        Assert.Equal(0L, imported.Long("Embedded"));
        Assert.Contains(result.Verbose, v => v.EndsWith("mode Async.", StringComparison.Ordinal));
        Assert.Equal(6L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));
        Assert.Empty(gemini.Server.Requests);
    }

    [Fact]
    public async Task Auto_mode_without_a_batch_key_embeds_now_with_the_default_key()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteDocument("kb/guide.md", 6, "Guide");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();

        var result = ps.Run("Import-SemanticDocument -Path kb/guide.md -Database index.db -ApiKey $ApiKey -Verbose", keys).AssertNoErrors();

        var imported = result.Single();
        Assert.Equal(6L, imported.Long("Chunks"));
        Assert.Equal(0L, imported.Long("Pending"));
        Assert.Equal(6L, imported.Long("Embedded"));
        Assert.Contains(result.Verbose, v => v.EndsWith("mode Sync.", StringComparison.Ordinal));
        Assert.Equal(6L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        var request = Assert.Single(gemini.Server.Requests);
        Assert.EndsWith(":batchEmbedContents", request.Path, StringComparison.Ordinal);
        Assert.Equal(GeminiFake.DefaultKey, request.Header("x-goog-api-key"));
        Assert.Equal(0, gemini.Server.BatchCreateCount);
    }

    [Fact]
    public async Task Auto_mode_with_only_a_default_key_in_the_keyring_embeds_now_with_that_key()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteDocument("kb/guide.md", 6, "Guide");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Set-SemanticKeyring -ApiKey $ApiKey", GeminiFake.KeyVariables()).AssertNoErrors();

        var imported = ps.Run("Import-SemanticDocument -Path kb/guide.md -Database index.db").AssertNoErrors().Single();

        Assert.Equal(0L, imported.Long("Pending"));
        Assert.Equal(6L, imported.Long("Embedded"));
        var request = Assert.Single(gemini.Server.Requests);
        Assert.Equal(GeminiFake.DefaultKey, request.Header("x-goog-api-key"));
    }

    [Fact]
    public async Task Auto_mode_queues_for_a_batch_job_when_the_batch_key_is_in_the_environment()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", GeminiFake.BatchKey), ("GEMINI_API_KEY", GeminiFake.DefaultKey), ("GOOGLE_API_KEY", null));
        WriteDocument("kb/guide.md", 6, "Guide");
        using var ps = module.NewSession(dir.Path);

        var imported = ps.Run("Import-SemanticDocument -Path kb/guide.md -Database index.db").AssertNoErrors().Single();

        Assert.Equal(6L, imported.Long("Pending"));
        Assert.Equal(0L, imported.Long("Embedded"));
        Assert.Empty(gemini.Server.Requests);
    }

    public void Dispose() => dir.Dispose();
}
