using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The Files API's changing taste in upload types: a refused type ("Unsupported MIME type") made no file, so the flush
/// offers the input as the next documented type, remembers in the index the one accepted, and, when every type is
/// refused, reports the service's own words with the chunks Pending again.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class UploadMimeTypeTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();
    private readonly Dictionary<string, object?> keys = GeminiFake.KeyVariables();

    private string Database => dir.Combine("index.db");

    private PsSession NewIndex(int documents)
    {
        BatchTestKit.WriteCorpus(dir, "kb", documents, sections: 10, "mime");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async").AssertNoErrors();
        return ps;
    }

    private string? RememberedType() =>
        Db.Rows(Database, "SELECT value FROM settings WHERE key = 'upload_mime_type'").Select(r => (string?)r[0]).SingleOrDefault();

    [Theory]
    [InlineData(MimeTypeRefusal.AtFinalize)]
    [InlineData(MimeTypeRefusal.AtStart)]
    public async Task A_service_that_takes_only_text_plain_costs_one_refused_upload_in_all_and_the_index_remembers_the_type(MimeTypeRefusal refusedAt)
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AcceptedUploadMimeTypes = ["text/plain"];
        gemini.Server.RefuseUploadMimeTypeAt = refusedAt;
        using var ps = module.NewSession(dir.Path);

        // Four flushes, each of a document imported just before it.
        var jobs = new List<System.Management.Automation.PSObject>();
        for (var round = 0; round < 4; round++)
        {
            BatchTestKit.WriteCorpus(dir, $"kb{round}", 1, sections: 10, $"round{round}");
            ps.Run($"Import-SemanticDocument -Path kb{round}/*.md -Database index.db -Mode Async").AssertNoErrors();
            jobs.Add(ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single());
        }

        Assert.Equal(4, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("Submitted", j.Text("Status")));
        Assert.Equal(["application/jsonl"], gemini.Server.RefusedUploadMimeTypes);
        Assert.All(gemini.Server.Files, f => Assert.Equal("text/plain", f.MimeType));
        Assert.Equal("text/plain", RememberedType());

        ps.Run("Sync-BatchJob -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Equal(40L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
    }

    [Fact]
    public async Task When_every_type_is_refused_the_flush_reports_the_services_message_and_the_chunks_are_pending_again()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AcceptedUploadMimeTypes = ["application/vnd.example-only"];
        using var ps = NewIndex(documents: 2);

        var refused = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        Assert.Null(refused.Terminating);
        Assert.Empty(refused.Output);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("GeminiBadRequest", error.ErrorId());
        Assert.Contains("400 INVALID_ARGUMENT", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("Unsupported MIME type: text/plain", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("every input type was refused: application/jsonl, text/plain", error.Exception.Message, StringComparison.Ordinal);
        Assert.Equal(["application/jsonl", "text/plain"], gemini.Server.RefusedUploadMimeTypes);
        Assert.Empty(gemini.Server.Files);
        Assert.Equal(0, gemini.Server.BatchCreateCount);
        Assert.Null(RememberedType());
        Assert.Equal(20L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND retry_count = 0"));
        Assert.Equal("Failed", Db.Scalar<string>(Database, "SELECT status FROM batch_jobs"));

        // Nothing lost: once the service takes a type again, the same chunks go out in one job.
        gemini.Server.AcceptedUploadMimeTypes = null;
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal(20L, job.Long("Requests"));
        Assert.Equal("application/jsonl", RememberedType());
    }

    /// <summary>
    /// Refused at the finalize, the session is gone, so the query the client sends to learn how much the session holds
    /// fails as well: the error still carries the service's own status and message, not the query's.
    /// </summary>
    [Fact]
    public async Task A_refused_upload_keeps_the_services_own_message_when_the_session_query_fails_too()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AcceptedUploadMimeTypes = [];
        using var ps = NewIndex(documents: 1);

        var refused = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys);

        var error = Assert.Single(refused.Errors);
        Assert.Equal("GeminiBadRequest", error.ErrorId());
        Assert.Contains("Unsupported MIME type", error.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("Upload session not found", error.Exception.Message, StringComparison.Ordinal); // the query's failure, as context
        Assert.DoesNotContain("GeminiNotFound", BatchTestKit.ErrorTexts(error), StringComparison.Ordinal);
        Assert.Contains(gemini.Server.Requests, r => r.Header("X-Goog-Upload-Command") == "query");
    }

    public void Dispose() => dir.Dispose();
}
