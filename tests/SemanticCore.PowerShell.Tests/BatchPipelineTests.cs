using System.Text;
using System.Text.Json;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

[Collection(ModuleCollection.Name)]
public sealed class BatchPipelineTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    [Fact]
    public async Task A_thousand_chunks_go_out_in_one_job_and_come_back_with_per_line_failures_recorded()
    {
        await using var gemini = await GeminiFake.StartAsync();
        BatchTestKit.WriteCorpus(dir, "kb", documents: 100, sections: 10); // exactly 1,000 chunks
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();

        var imported = ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async", keys).AssertNoErrors();
        Assert.Equal(1000, imported.Output.Sum(o => o.Long("Pending")));

        var flushed = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal("SemanticCore.Model.BatchJob", flushed.TypeName());
        Assert.Equal("Submitted", flushed.Text("Status"));
        Assert.Equal(1000L, flushed.Long("Requests"));
        Assert.Equal(1, gemini.Server.BatchCreateCount);
        Assert.Equal(1000L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Submitted'"));

        // The uploaded JSONL: one line per chunk, key = chunk id, the stored text, the task and the dimension.
        var uploaded = Assert.Single(gemini.Server.UploadedFiles).Value;
        var lines = Encoding.UTF8.GetString(uploaded).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1000, lines.Length);
        var stored = Db.Rows(Database, "SELECT id, json_extract(metadata, '$._vector_source') FROM chunks")
            .ToDictionary(r => r[0]!.ToString()!, r => (string)r[1]!);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            var request = json.RootElement.GetProperty("request");
            Assert.Equal(stored[json.RootElement.GetProperty("key").GetString()!], request.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
            Assert.Equal("RETRIEVAL_DOCUMENT", request.GetProperty("taskType").GetString());
            Assert.Equal(768, request.GetProperty("outputDimensionality").GetInt32());
        }

        // The service answers with a mix of failures: 400 (too long), 429, 503, and one key missing.
        var ids = stored.Keys.Select(long.Parse).Order().ToList();
        var tooLong = ids.Where((_, i) => i % 50 == 1).ToHashSet();
        var rateLimited = ids.Where((_, i) => i % 50 == 2).ToHashSet();
        var unavailable = ids.Where((_, i) => i % 50 == 3).ToHashSet();
        var missing = ids[500];
        gemini.Server.LineOutcomeFor = (key, _) =>
        {
            var id = long.Parse(key);
            return tooLong.Contains(id) ? LineOutcome.TooLong400
                : rateLimited.Contains(id) ? LineOutcome.RateLimited429
                : unavailable.Contains(id) ? LineOutcome.Unavailable503
                : id == missing ? LineOutcome.Missing
                : LineOutcome.Success;
        };

        var synced = ps.Run("Get-BatchJob -Database index.db -Active | Sync-BatchJob -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal("CompletedWithErrors", synced.Text("Status"));
        Assert.Equal(1000L - 20 - 20 - 20 - 1, synced.Long("Succeeded"));
        Assert.Equal(20L, synced.Long("Failed"));
        Assert.Equal(41L, synced.Long("Retried"));
        Assert.True(synced.Long("Tokens") > 0);
        Assert.Equal(1000L - 61, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));

        var failed = Db.Rows(Database, "SELECT id, error_message, retry_count FROM chunks WHERE embedding_status = 'Failed'");
        Assert.Equal(tooLong, failed.Select(r => (long)r[0]!).ToHashSet());
        Assert.All(failed, r => Assert.StartsWith("400 INVALID_ARGUMENT: ", (string)r[1]!));
        var pending = Db.Rows(Database, "SELECT id, error_message, retry_count, batch_job_id FROM chunks WHERE embedding_status = 'Pending'");
        Assert.Equal(rateLimited.Concat(unavailable).Append(missing).ToHashSet(), pending.Select(r => (long)r[0]!).ToHashSet());
        Assert.All(pending, r => Assert.Equal(1L, r[2]));
        Assert.All(pending, r => Assert.Equal(synced.Text("Id"), r[3])); // they keep the id of the job they were last sent in
        Assert.Contains(pending, r => ((string)r[1]!).StartsWith("429 RESOURCE_EXHAUSTED", StringComparison.Ordinal));
        Assert.Contains(pending, r => ((string)r[1]!).StartsWith("503 UNAVAILABLE", StringComparison.Ordinal));
        Assert.Equal("Missing from the batch output", pending.Single(r => (long)r[0]! == missing)[1]);

        // Vectors: 768 float32, unit length, for exactly the Ready chunks.
        var vectors = Db.Rows(Database, "SELECT v.dimensions, v.vector FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.embedding_status = 'Ready'");
        Assert.Equal(939, vectors.Count);
        Assert.All(vectors, r =>
        {
            Assert.Equal(768L, r[0]);
            var blob = (byte[])r[1]!;
            var norm = Math.Sqrt(Enumerable.Range(0, 768).Sum(i => Math.Pow(BitConverter.ToSingle(blob, i * 4), 2)));
            Assert.Equal(1.0, norm, 4);
        });

        // Triage is plain PowerShell filtering over typed objects.
        var triage = ps.Run("Get-ChunkStatus -Database index.db -Status Failed | Where-Object ErrorMessage -match 'INVALID_ARGUMENT'").AssertNoErrors();
        Assert.Equal(20, triage.Output.Count);

        // The remote input and output files are deleted once the results are stored.
        var job = gemini.Server.Batches.Single();
        Assert.Contains(job.InputFileName, gemini.Server.DeletedFiles);
        Assert.Contains(job.ResponsesFileName, gemini.Server.DeletedFiles);

        // A second sync changes nothing, and asks the service nothing.
        var requestsBefore = gemini.Server.Requests.Count;
        var before = Db.FileState(Database);
        var again = ps.Run($"Sync-BatchJob -Id {synced.Text("Id")} -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        var all = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Equal("CompletedWithErrors", again.Text("Status"));
        Assert.Empty(all.Output);
        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal(requestsBefore, gemini.Server.Requests.Count);

        // The key went only into the x-goog-api-key header.
        Assert.All(gemini.Server.Requests, r =>
        {
            Assert.DoesNotContain(GeminiFake.BatchKey, r.Path + r.QueryString);
            Assert.Equal(GeminiFake.BatchKey, r.Header("x-goog-api-key"));
        });
    }

    public void Dispose() => dir.Dispose();
}
