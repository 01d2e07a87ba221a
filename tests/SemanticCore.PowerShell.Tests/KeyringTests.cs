using System.Management.Automation;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// Where the batch key comes from (SemanticCmdlet.ResolveKey): -BatchApiKey, else the session keyring
/// (Set-SemanticKeyring, per runspace), else $env:GEMINI_BATCH_API_KEY.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class KeyringTests(ModuleFixture module) : IDisposable
{
    private const string WrongKey = "wrong-batch-key-5a1e8c3d7b";

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private static Dictionary<string, object?> Keys()
    {
        var keys = GeminiFake.KeyVariables();
        keys["WrongKey"] = GeminiFake.Secure(WrongKey);
        return keys;
    }

    /// <summary>Imports a new batch of documents (Pending) so that the next flush has work.</summary>
    private int AddPending(PsSession ps, string tag)
    {
        var chunks = BatchTestKit.WriteCorpus(dir, tag, documents: 2, sections: 6, tag: tag);
        ps.Run($"Import-SemanticDocument -Path {tag}/*.md -Database index.db -Mode Async").AssertNoErrors();
        return chunks;
    }

    private static void AssertMissing(PsResult result) =>
        Assert.StartsWith("Batch operations require a dedicated API key",
            BatchTestKit.AssertTerminating(result, "BatchApiKeyMissing", ErrorCategory.AuthenticationError).Exception.Message, StringComparison.Ordinal);

    /// <summary>The requests the fake received since <paramref name="from"/>, all with <paramref name="key"/>.</summary>
    private static void AssertAllSentWith(GeminiFake gemini, int from, string key)
    {
        var sent = gemini.Server.Requests.Skip(from).ToList();
        Assert.NotEmpty(sent);
        Assert.All(sent, r => Assert.Equal(key, r.Header("x-goog-api-key")));
    }

    [Fact]
    public async Task The_session_keyring_supplies_the_batch_key_until_it_is_cleared()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        using var ps = module.NewSession(dir.Path);
        var keys = Keys();
        var first = AddPending(ps, "first");

        var set = ps.Run("Set-SemanticKeyring -BatchApiKey $BatchKey", keys).AssertNoErrors();
        Assert.Empty(set.Output);
        var job = ps.Run("Invoke-BatchFlush -Database index.db").AssertNoErrors().Single();
        Assert.Equal("Submitted", job.Text("Status"));
        Assert.Equal((long)first, job.Long("Requests"));
        var synced = ps.Run("Sync-BatchJob -Database index.db").AssertNoErrors().Single();
        Assert.Equal("Completed", synced.Text("Status"));
        AssertAllSentWith(gemini, 0, GeminiFake.BatchKey);

        ps.Run("Set-SemanticKeyring -Clear").AssertNoErrors();
        AddPending(ps, "second");
        var requests = gemini.Server.Requests.Count;
        var before = Db.FileState(Database);

        AssertMissing(ps.Run("Invoke-BatchFlush -Database index.db"));
        AssertMissing(ps.Run("Sync-BatchJob -Database index.db"));
        Assert.Equal(requests, gemini.Server.Requests.Count);
        Assert.Equal(before, Db.FileState(Database));
    }

    [Fact]
    public async Task The_environment_variable_is_the_fallback_and_the_keyring_wins_over_it()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = module.NewSession(dir.Path);
        var keys = Keys();
        AddPending(ps, "first");

        using (BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", GeminiFake.BatchKey)))
        {
            Assert.Equal("Submitted", ps.Run("Invoke-BatchFlush -Database index.db").AssertNoErrors().Single().Text("Status"));
        }

        AssertAllSentWith(gemini, 0, GeminiFake.BatchKey);

        // Unset again: nothing left to use.
        AddPending(ps, "second");
        AssertMissing(ps.Run("Invoke-BatchFlush -Database index.db"));

        // A wrong key in the environment loses to the right one in the session keyring.
        var from = gemini.Server.Requests.Count;
        using (BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", WrongKey)))
        {
            ps.Run("Set-SemanticKeyring -BatchApiKey $BatchKey", keys).AssertNoErrors();
            Assert.Equal("Submitted", ps.Run("Invoke-BatchFlush -Database index.db").AssertNoErrors().Single().Text("Status"));
        }

        AssertAllSentWith(gemini, from, GeminiFake.BatchKey);
        Assert.Equal(2, gemini.Server.BatchCreateCount);
    }

    [Fact]
    public async Task The_BatchApiKey_parameter_wins_over_a_wrong_key_in_the_session_keyring()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null));
        using var ps = module.NewSession(dir.Path);
        var keys = Keys();
        var chunks = AddPending(ps, "first");
        ps.Run("Set-SemanticKeyring -BatchApiKey $WrongKey", keys).AssertNoErrors();

        // The wrong key really is in the keyring: without the parameter it is sent, and refused.
        var refused = ps.Run("Invoke-BatchFlush -Database index.db", keys);
        BatchTestKit.AssertErrors(refused, "GeminiInvalidApiKey", ErrorCategory.AuthenticationError, 1);
        AssertAllSentWith(gemini, 0, WrongKey);
        Assert.Equal((long)chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));

        var from = gemini.Server.Requests.Count;
        var job = ps.Run("Invoke-BatchFlush -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal("Submitted", job.Text("Status"));
        Assert.Equal((long)chunks, job.Long("Requests"));
        AssertAllSentWith(gemini, from, GeminiFake.BatchKey);
    }

    [Fact]
    public void Set_SemanticKeyring_without_a_key_is_refused()
    {
        using var ps = module.NewSession(dir.Path);

        var result = ps.Run("Set-SemanticKeyring");

        var error = BatchTestKit.AssertTerminating(result, "KeyringNoKeyGiven", ErrorCategory.InvalidArgument);
        Assert.Contains("-BatchApiKey", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task Keys_set_in_one_session_are_not_visible_in_another()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null));
        using var owner = module.NewSession(dir.Path);
        using var other = module.NewSession(dir.Path);
        var keys = Keys();
        var chunks = AddPending(owner, "first");
        owner.Run("Set-SemanticKeyring -BatchApiKey $BatchKey", keys).AssertNoErrors();
        var before = Db.FileState(Database);

        AssertMissing(other.Run("Invoke-BatchFlush -Database index.db"));
        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(before, Db.FileState(Database));

        var job = owner.Run("Invoke-BatchFlush -Database index.db").AssertNoErrors().Single();
        Assert.Equal((long)chunks, job.Long("Requests"));
        AssertAllSentWith(gemini, 0, GeminiFake.BatchKey);

        // Clearing the other session's keyring leaves the owner's alone.
        other.Run("Set-SemanticKeyring -Clear").AssertNoErrors();
        AddPending(owner, "second");
        Assert.Equal("Submitted", owner.Run("Invoke-BatchFlush -Database index.db").AssertNoErrors().Single().Text("Status"));
    }

    [Theory]
    [InlineData("clé-non-ascii-0123456789")]
    [InlineData("key with spaces")]
    public async Task A_key_that_can_never_be_sent_fails_at_once_with_no_request(string key)
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = module.NewSession(dir.Path);
        AddPending(ps, "first");

        using (BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", key)))
        {
            var run = ps.Run("Invoke-BatchFlush -Database index.db -Force");

            Assert.Equal("InvalidApiKeyFormat", run.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
            Assert.DoesNotContain(key, run.AllText);
        }

        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(0L, Db.Scalar<long>(dir.Combine("index.db"), "SELECT COUNT(*) FROM batch_jobs"));
    }

    public void Dispose() => dir.Dispose();
}
