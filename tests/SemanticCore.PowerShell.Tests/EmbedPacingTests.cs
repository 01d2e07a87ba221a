using System.Text.Json;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// -Mode Sync imports under a tokens-per-minute quota: the fake counts every text of a batchEmbedContents call over a
/// 2-second window and answers past it with the real per-minute 429; $env:SEMANTICCORE_GEMINI_TPM (and its window) set
/// to match keeps the client under it, in calls that each fit the budget, waits shown as progress.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class EmbedPacingTests(ModuleFixture module) : IDisposable
{
    private const int Budget = 600;

    private readonly TestDirectory dir = new();
    private readonly Dictionary<string, object?> keys = GeminiFake.KeyVariables();

    private string Database => dir.Combine("index.db");

    private static int TextsIn(FakeGemini.RecordedRequest request)
    {
        using var body = JsonDocument.Parse(request.Body!);
        return body.RootElement.GetProperty("requests").GetArrayLength();
    }

    [Fact]
    public async Task A_sync_import_several_times_the_budget_is_paced_under_it_and_every_chunk_is_ready()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.EmbedTokensPerWindow = Budget;
        gemini.Server.EmbedTokenWindow = TimeSpan.FromSeconds(2);
        using var env = BatchTestKit.Environment(("SEMANTICCORE_GEMINI_TPM", Budget.ToString()), ("SEMANTICCORE_GEMINI_TPM_WINDOW", "2"));
        var chunks = BatchTestKit.WriteCorpus(dir, "kb", documents: 2, sections: 40, "paced");
        using var ps = module.NewSession(dir.Path);

        // Two commands of one session share the window: the second is paced by what the first sent.
        var first = ps.Run("Import-SemanticDocument -Path kb/paced-000.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors();
        var second = ps.Run("Import-SemanticDocument -Path kb/paced-001.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors();

        Assert.Equal(chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Ready'"));
        Assert.Equal(0, gemini.Server.EmbedCallsRateLimited);
        var sent = gemini.Server.EmbedCallTokens;
        Assert.True(sent.Sum() > 3 * Budget, $"The corpus is {sent.Sum()} tokens, not several times the budget.");
        Assert.All(sent, tokens => Assert.InRange(tokens, 1, Budget));
        // 40 chunks a document would fit one call of 100: each is split by tokens instead.
        Assert.True(gemini.Server.Requests.Count >= 4, $"{gemini.Server.Requests.Count} calls");
        Assert.Contains(first.Progress.Concat(second.Progress), p => p.StatusDescription.Contains("tokens-per-minute budget", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_call_the_quota_refuses_is_waited_out_and_split_and_the_import_completes()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.EmbedTokensPerWindow = Budget;
        gemini.Server.EmbedTokenWindow = TimeSpan.FromSeconds(2);
        // No pacing: the first call holds every chunk, far over the quota, and is refused with RetryInfo.
        using var env = BatchTestKit.Environment(("SEMANTICCORE_GEMINI_TPM", "0"), ("SEMANTICCORE_GEMINI_RETRY_DELAY", "0.5"));
        var chunks = BatchTestKit.WriteCorpus(dir, "kb", documents: 1, sections: 40, "split");
        using var ps = module.NewSession(dir.Path);

        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors();

        Assert.Equal(chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.True(gemini.Server.EmbedCallsRateLimited >= 1);
        var sizes = gemini.Server.Requests.Select(TextsIn).ToList();
        Assert.Equal(chunks, sizes[0]);
        Assert.All(sizes.Skip(1), size => Assert.True(size <= chunks / 2, $"A call after the refusal still held {size} texts."));
    }

    [Fact]
    public async Task A_per_day_429_still_stops_the_import_with_GeminiDailyQuotaExhausted()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.FailNextRequests(":batchEmbedContents", 5, 429, retryDelay: "20s", perDayQuota: true);
        BatchTestKit.WriteCorpus(dir, "kb", documents: 1, sections: 5, "daily");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys);

        var error = Assert.Single(run.Errors);
        Assert.Equal("GeminiDailyQuotaExhausted", error.ErrorId());
        Assert.Single(gemini.Server.Requests);
    }

    public void Dispose() => dir.Dispose();
}
