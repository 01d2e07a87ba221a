using System.Management.Automation;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The dedicated batch key (DESIGN "Non-negotiables: Keys"): batch work never runs on the default key,
/// a missing batch key stops the command before anything is written or sent, and no key ever shows up
/// in a stream, an error, the database or a URL.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class BatchKeyTests(ModuleFixture module) : IDisposable
{
    private const string InvalidKey = "invalid-key-9d2c7b1e3a5f";

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private static void AssertBatchKeyMissing(PsResult result, string database)
    {
        var error = BatchTestKit.AssertTerminating(result, "BatchApiKeyMissing", ErrorCategory.AuthenticationError);
        var message = error.Exception.Message;
        Assert.StartsWith("Batch operations require a dedicated API key", message, StringComparison.Ordinal);
        // It says how to provide one: the parameter, the keyring and the environment variable.
        Assert.Contains("-BatchApiKey", message, StringComparison.Ordinal);
        Assert.Contains("Set-SemanticKeyring -BatchApiKey", message, StringComparison.Ordinal);
        Assert.Contains("$env:GEMINI_BATCH_API_KEY", message, StringComparison.Ordinal);
        Assert.Equal(database, error.TargetObject);
        Assert.Empty(result.Output);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public async Task Flush_without_a_batch_key_stops_before_writing_or_sending_even_with_a_default_key_everywhere()
    {
        await using var gemini = await GeminiFake.StartAsync();
        var chunks = BatchTestKit.WriteCorpus(dir, "kb", documents: 3, sections: 5);
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async", keys).AssertNoErrors();

        // The default key is available from every source it can come from: it must still not be used for batch work.
        using var env = BatchTestKit.Environment(("GEMINI_API_KEY", GeminiFake.DefaultKey), ("GOOGLE_API_KEY", GeminiFake.DefaultKey), ("GEMINI_BATCH_API_KEY", null));
        ps.Run("Set-SemanticKeyring -ApiKey $ApiKey", keys).AssertNoErrors();
        var before = Db.FileState(Database);

        var flushed = ps.Run("Invoke-BatchFlush -Database index.db", keys);

        AssertBatchKeyMissing(flushed, Database);
        Assert.Equal(before, Db.FileState(Database));
        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND batch_job_id IS NULL"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM batch_jobs"));
    }

    [Fact]
    public async Task Sync_without_a_batch_key_stops_before_writing_or_sending_even_with_a_default_key_everywhere()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.AutoComplete = false;
        BatchTestKit.WriteCorpus(dir, "kb", documents: 3, sections: 5);
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async", keys).AssertNoErrors();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        var requestsBefore = gemini.Server.Requests.Count;

        using var env = BatchTestKit.Environment(("GEMINI_API_KEY", GeminiFake.DefaultKey), ("GOOGLE_API_KEY", GeminiFake.DefaultKey), ("GEMINI_BATCH_API_KEY", null));
        ps.Run("Set-SemanticKeyring -ApiKey $ApiKey", keys).AssertNoErrors();
        var before = Db.FileState(Database);

        AssertBatchKeyMissing(ps.Run("Sync-BatchJob -Database index.db", keys), Database);
        AssertBatchKeyMissing(ps.Run($"Sync-BatchJob -Database index.db -Id {job.Text("Id")} -Wait -PollInterval 1", keys), Database);
        AssertBatchKeyMissing(ps.Run("Get-BatchJob -Database index.db -Active | Sync-BatchJob", keys), Database);

        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal(requestsBefore, gemini.Server.Requests.Count);
        Assert.Equal("Submitted", Db.Scalar<string>(Database, "SELECT status FROM batch_jobs"));
        // Everything the fake ever saw came with the batch key, never the default one.
        Assert.All(gemini.Server.Requests, r => Assert.Equal(GeminiFake.BatchKey, r.Header("x-goog-api-key")));
    }

    [Fact]
    public async Task No_key_appears_in_any_stream_error_database_file_or_url_of_a_whole_verbose_flow()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        var secrets = new[] { GeminiFake.BatchKey, GeminiFake.DefaultKey, InvalidKey };
        BatchTestKit.WriteCorpus(dir, "kb", documents: 3, sections: 5);
        dir.Write("sync/interactive.md", "# Interactive\n\n## One\n\nEmbedded now with the default key.\n\n## Two\n\nAnd this one too.\n");
        dir.Write("bad/rejected.md", "# Rejected\n\n## One\n\nThis import uses an invalid default key.\n");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        keys["BadKey"] = GeminiFake.Secure(InvalidKey);
        const string Noisy = "$VerbosePreference = 'Continue'; $DebugPreference = 'Continue'\n";
        var runs = new List<PsResult>();
        PsResult Run(string script) { var r = ps.Run(Noisy + script, keys); runs.Add(r); return r; }

        // -Debug makes a warning ask to continue; the new index's warning (a relative -Database) is shown instead.
        Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async -Verbose -Debug -WarningAction Continue").AssertNoErrors();

        // An invalid batch key: the flush reports it per job and releases the chunks.
        var rejectedFlush = Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BadKey -Verbose -Debug");
        BatchTestKit.AssertErrors(rejectedFlush, "GeminiInvalidApiKey", ErrorCategory.AuthenticationError, 1);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Pending'"));

        var job = Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey -Verbose -Debug").AssertNoErrors().Single();

        // An invalid batch key on sync: one error for the job, which stays as it was.
        var rejectedSync = Run($"Sync-BatchJob -Database index.db -Id {job.Text("Id")} -BatchApiKey $BadKey -Verbose -Debug");
        BatchTestKit.AssertErrors(rejectedSync, "GeminiInvalidApiKey", ErrorCategory.AuthenticationError, 1);

        var synced = Run("Sync-BatchJob -Database index.db -Wait -PollInterval 1 -BatchApiKey $BatchKey -Verbose -Debug").AssertNoErrors().Single();
        Assert.Equal("Completed", synced.Text("Status"));

        var interactive = Run("Import-SemanticDocument -Path sync/interactive.md -Database index.db -Mode Sync -ApiKey $ApiKey -Verbose -Debug").AssertNoErrors().Single();
        Assert.Equal(0L, interactive.Long("Pending"));

        var rejectedImport = Run("Import-SemanticDocument -Path bad/rejected.md -Database index.db -Mode Sync -ApiKey $BadKey -Verbose -Debug");
        BatchTestKit.AssertErrors(rejectedImport, "GeminiInvalidApiKey", ErrorCategory.AuthenticationError, 1);

        Assert.True(runs.Sum(r => r.Verbose.Count) > 0, "the verbose stream was captured");

        // 1. Every stream and every error record.
        foreach (var run in runs)
        {
            var text = run.AllText + "\n" + string.Join("\n", run.Errors.Select(BatchTestKit.ErrorTexts)) + BatchTestKit.ErrorTexts(run.Terminating);
            foreach (var secret in secrets) Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        // 2. Every file the module left in the test directory: the index, its WAL and shared memory, any spool.
        var files = Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories);
        Assert.Contains(Database, files);
        foreach (var file in files)
        {
            var bytes = BatchTestKit.ReadShared(file);
            foreach (var secret in secrets) BatchTestKit.AssertNotInBytes(secret, bytes, file);
        }

        // 3. Every request: the key in x-goog-api-key only; never in the URL, another header or the body.
        var requests = gemini.Server.Requests;
        Assert.NotEmpty(requests);
        foreach (var request in requests)
        {
            var key = request.Header("x-goog-api-key");
            Assert.Contains(key, secrets);
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, request.Path + request.QueryString, StringComparison.Ordinal);
                Assert.DoesNotContain(secret, request.Body ?? "", StringComparison.Ordinal);
                Assert.All(request.Headers.Where(h => !h.Key.Equals("x-goog-api-key", StringComparison.OrdinalIgnoreCase)),
                    h => Assert.DoesNotContain(secret, h.Value, StringComparison.Ordinal));
            }

            // Interactive calls use the default key (or the invalid one given as -ApiKey); batch calls the batch key.
            if (BatchTestKit.IsInteractiveEmbed(request)) Assert.NotEqual(GeminiFake.BatchKey, key);
            else Assert.NotEqual(GeminiFake.DefaultKey, key);
        }

        Assert.Contains(requests, r => r.Header("x-goog-api-key") == InvalidKey && r.Path.StartsWith("/upload/", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Header("x-goog-api-key") == InvalidKey && r.Path.StartsWith("/v1beta/batches/", StringComparison.Ordinal));
        Assert.Contains(requests, r => r.Header("x-goog-api-key") == InvalidKey && BatchTestKit.IsInteractiveEmbed(r));
        Assert.Contains(requests, r => r.Header("x-goog-api-key") == GeminiFake.DefaultKey && BatchTestKit.IsInteractiveEmbed(r));
        foreach (var (name, content) in gemini.Server.UploadedFiles)
        {
            foreach (var secret in secrets) BatchTestKit.AssertNotInBytes(secret, content, "uploaded file " + name);
        }
    }

    public void Dispose() => dir.Dispose();
}
