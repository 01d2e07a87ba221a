using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The spend ledger and Get-SemanticSpend: a batch job billed once at the batch price when its results are stored,
/// interactive import calls and query embeddings at the interactive price; and -MaxCost, which embeds now only what
/// the cap covers (across all files of a command) and leaves the rest Pending with one warning.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed partial class SpendTests(ModuleFixture module) : IDisposable
{
    private const decimal InteractivePerMillion = 0.15m;
    private const decimal BatchPerMillion = 0.075m;

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    /// <summary>A session whose index has one Submitted batch job of <paramref name="sections"/> chunks at the fake.</summary>
    private PsSession FlushedJob(int sections)
    {
        BatchTestKit.WriteCorpus(dir, "kb", 1, sections, "kb");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async").AssertNoErrors();
        ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", GeminiFake.KeyVariables()).AssertNoErrors();
        return ps;
    }

    private static IDisposable NoKeysInEnvironment() =>
        BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", null), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));

    private static decimal Interactive(long tokens) => tokens * InteractivePerMillion / 1_000_000m;

    /// <summary>The texts the fake was asked to embed interactively, in order.</summary>
    private static List<string> InteractiveTexts(GeminiFake gemini) =>
        gemini.Server.Requests.Where(BatchTestKit.IsInteractiveEmbed).SelectMany(r =>
        {
            using var body = JsonDocument.Parse(r.Body!);
            return body.RootElement.GetProperty("requests").EnumerateArray()
                .Select(item => item.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()!).ToList();
        }).ToList();

    [GeneratedRegex(@"-MaxCost \S+: (\d+) chunk\(s\) of (\d+) estimated tokens \(about \$\S+ interactively\) were not embedded now and stay Pending")]
    private static partial Regex HeldWarning();

    /// <summary>The warning of -MaxCost, apart from the one a new index at a relative -Database gets.</summary>
    private static bool CapWarning(string warning) => warning.StartsWith("-MaxCost ", StringComparison.Ordinal);

    [Fact]
    public async Task MaxCost_covering_about_half_the_chunks_embeds_that_half_now_and_records_exactly_it()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = NoKeysInEnvironment();
        BatchTestKit.WriteCorpus(dir, "kb", 1, 40, "guide");
        using var ps = module.NewSession(dir.Path);
        var variables = GeminiFake.KeyVariables();
        var total = ps.Run("Import-SemanticDocument kb/guide-000.md -Database index.db -Mode Sync -WhatIf").AssertNoErrors().Single().Long("EstimatedTokens");
        var cap = Interactive(total) / 2;
        variables["Cap"] = cap;

        // The forecast respects the cap, and sends nothing.
        var forecast = ps.Run("Import-SemanticDocument kb/guide-000.md -Database index.db -Mode Sync -MaxCost $Cap -WhatIf", variables);
        var forecastResult = forecast.AssertNoErrors().Single();
        Assert.Contains("would not be embedded now", Assert.Single(forecast.Warnings, CapWarning), StringComparison.Ordinal);
        Assert.Empty(gemini.Server.Requests);

        var run = ps.Run("Import-SemanticDocument kb/guide-000.md -Database index.db -Mode Sync -MaxCost $Cap -ApiKey $ApiKey", variables).AssertNoErrors();

        var result = run.Single();
        var (chunks, embedded, pending) = (result.Long("Chunks"), result.Long("Embedded"), result.Long("Pending"));
        Assert.Equal(40L, chunks);
        Assert.InRange(embedded, chunks * 3 / 10, chunks * 7 / 10);
        Assert.Equal(chunks, embedded + pending);
        Assert.Equal(forecastResult.Long("Embedded"), embedded);
        Assert.Equal(embedded, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.Equal(pending, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'"));
        Assert.Equal(embedded, InteractiveTexts(gemini).Count);

        // One warning, naming what was held.
        var held = HeldWarning().Match(Assert.Single(run.Warnings, CapWarning));
        Assert.True(held.Success, string.Join("\n", run.Warnings));
        Assert.Equal(pending, long.Parse(held.Groups[1].Value, CultureInfo.InvariantCulture));
        var heldTokens = long.Parse(held.Groups[2].Value, CultureInfo.InvariantCulture);

        // The ledger: exactly what was sent, at the interactive price, never past the cap.
        var spend = ps.Run("Get-SemanticSpend -Database index.db").AssertNoErrors().Single();
        Assert.Equal("Interactive", spend.Text("Kind"));
        Assert.Equal((long)gemini.Server.Requests.Count(BatchTestKit.IsInteractiveEmbed), spend.Long("Calls"));
        Assert.Equal(total - heldTokens, spend.Long("Tokens"));
        Assert.Equal(Interactive(total - heldTokens), (decimal)spend.Prop("Cost")!);
        Assert.True((decimal)spend.Prop("Cost")! <= cap, $"{spend.Prop("Cost")} > {cap}");
        Assert.Equal(0m, (decimal)spend.Prop("Savings")!);
        Assert.Equal(DateTime.UtcNow.Date, (DateTime)spend.Prop("Date")!);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)spend.Prop("Date")!).Kind);
    }

    [Fact]
    public async Task Sync_SemanticFolder_counts_the_cap_across_files_and_MaxCost_0_embeds_nothing_now()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = NoKeysInEnvironment();
        BatchTestKit.WriteCorpus(dir, "kb", 2, 10, "kb");
        using var ps = module.NewSession(dir.Path);
        var variables = GeminiFake.KeyVariables();
        var forecast = ps.Run("Sync-SemanticFolder kb -Database index.db -Mode Sync -WhatIf").AssertNoErrors().Output;
        var (first, second) = (forecast[0].Long("EstimatedTokens"), forecast[1].Long("EstimatedTokens"));

        // 0: nothing is sent, everything waits for a batch job; without -Mode the folder is queued as before.
        var none = ps.Run("Sync-SemanticFolder kb -Database index.db -Mode Sync -MaxCost 0 -ApiKey $ApiKey", variables).AssertNoErrors();
        Assert.Equal(2L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
        Assert.Single(none.Warnings, CapWarning);
        Assert.Empty(gemini.Server.Requests);
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Pending'"));
        ps.Run("Remove-SemanticDocument -Path * -Database index.db -Confirm:$false").AssertNoErrors();

        // A cap that covers the first file and about half of the second: the first is embedded whole, the second in part.
        variables["Cap"] = Interactive(first + second / 2);
        var run = ps.Run("Sync-SemanticFolder kb -Database index.db -Mode Sync -MaxCost $Cap -ApiKey $ApiKey", variables).AssertNoErrors();

        var (a, b) = (run.Output[0], run.Output[1]);
        Assert.Equal(a.Long("Added"), a.Long("Embedded"));
        Assert.InRange(b.Long("Embedded"), 1, b.Long("Added") - 1);
        Assert.Equal(b.Long("Added") - b.Long("Embedded"), b.Long("Pending"));
        Assert.Single(run.Warnings);
        var cost = Convert.ToDecimal(ps.Run("(Get-SemanticSpend -Database index.db | Measure-Object Cost -Sum).Sum").AssertNoErrors().Single().BaseObject);
        Assert.True(cost <= Interactive(first + second / 2), $"{cost}");
        Assert.Equal(a.Long("Embedded") + b.Long("Embedded"), InteractiveTexts(gemini).Count);
    }

    [Fact]
    public void A_negative_MaxCost_is_a_parameter_validation_error()
    {
        BatchTestKit.WriteCorpus(dir, "kb", 1, 2, "kb");
        using var ps = module.NewSession(dir.Path);

        foreach (var command in new[] { "Import-SemanticDocument kb/kb-000.md", "Sync-SemanticFolder kb" })
        {
            var run = ps.Run($"{command} -Database index.db -Provider Local -Mode Sync -MaxCost -0.01");
            Assert.Equal("ParameterArgumentValidationError", run.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        }

        Assert.False(File.Exists(Database));
    }

    [Fact]
    public async Task A_batch_job_is_billed_once_at_the_batch_price_however_often_it_is_synced()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = FlushedJob(sections: 20);
        var keys = GeminiFake.KeyVariables();

        var job = ps.Run("Sync-BatchJob -Database index.db -Wait -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        ps.Run("Get-BatchJob -Database index.db | Sync-BatchJob -BatchApiKey $BatchKey; Get-BatchJob -Database index.db | Sync-BatchJob -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Equal("Completed", job.Text("Status"));
        var spend = ps.Run("Get-SemanticSpend -Database index.db").AssertNoErrors().Single();
        Assert.Equal("Batch", spend.Text("Kind"));
        Assert.Equal(1L, spend.Long("Calls"));
        var tokens = job.Long("Tokens");
        Assert.True(tokens > 0);
        Assert.Equal(tokens, spend.Long("Tokens"));
        Assert.Equal(tokens * BatchPerMillion / 1_000_000m, (decimal)spend.Prop("Cost")!);
        Assert.Equal(job.Prop("EstimatedCost"), spend.Prop("Cost"));
        Assert.Equal(Interactive(tokens), (decimal)spend.Prop("InteractiveCost")!);
        Assert.Equal(Interactive(tokens) / 2, (decimal)spend.Prop("Savings")!);
    }

    [Fact]
    public async Task A_remote_job_cancelled_part_way_bills_what_it_produced()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var ps = FlushedJob(sections: 4);
        var keys = GeminiFake.KeyVariables();
        gemini.Server.CancelPartway(Assert.Single(gemini.Server.Batches).Name, completedLines: 3);

        var job = ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();

        Assert.Equal("Cancelled", job.Text("Status"));
        var produced = Db.Rows(Database, "SELECT json_extract(metadata, '$._vector_source') FROM chunks WHERE embedding_status = 'Ready'")
            .Sum(r => FakeVectors.TokenCount((string)r[0]!));
        var spend = ps.Run("Get-SemanticSpend -Database index.db").AssertNoErrors().Single();
        Assert.Equal("Batch", spend.Text("Kind"));
        Assert.Equal(produced, spend.Long("Tokens"));
        Assert.Equal(produced * BatchPerMillion / 1_000_000m, (decimal)spend.Prop("Cost")!);
    }

    [Fact]
    public async Task A_search_that_embeds_its_query_records_one_Query_call_and_a_keyword_search_none()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = NoKeysInEnvironment();
        BatchTestKit.WriteCorpus(dir, "kb", 1, 3, "kb");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Import-SemanticDocument kb/kb-000.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors();

        ps.Run("Search-SemanticIndex 'restart the queue worker' -Database index.db -ApiKey $ApiKey", keys).AssertNoErrors();
        ps.Run("Search-SemanticIndex 'restart the queue worker' -Database index.db -Mode Keyword", keys).AssertNoErrors();

        var rows = ps.Run("Get-SemanticSpend -Database index.db").AssertNoErrors().Output;
        Assert.Equal(["Interactive", "Query"], rows.Select(r => r.Text("Kind")));
        var query = rows[1];
        Assert.Equal(1L, query.Long("Calls"));
        Assert.True(query.Long("Tokens") > 0);
        Assert.Equal(Interactive(query.Long("Tokens")), (decimal)query.Prop("Cost")!);
    }

    [Fact]
    public void Since_and_Until_select_calls_by_UTC_time_and_the_view_fits_80_columns()
    {
        dir.Write("kb/a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        Db.Execute(Database, """
            INSERT INTO spend (at, kind, model, tokens, cost, interactive_cost, batch_job_id) VALUES
                ('2026-03-01T23:59:59.000Z', 'Batch', 'gemini-embedding-001', 1000000, 0.075, 0.15, 'job-1'),
                ('2026-03-02T00:00:00.000Z', 'Batch', 'gemini-embedding-001', 2000000, 0.15, 0.3, 'job-2'),
                ('2026-03-02T10:00:00.000Z', 'Interactive', 'gemini-embedding-001', 123456789, 18.51851835, 18.51851835, NULL),
                ('2026-03-03T00:00:00.000Z', 'Query', 'gemini-embedding-001', 7, 0.00000105, 0.00000105, NULL);
            """);

        var days = ps.Run("Get-SemanticSpend -Database index.db -Since ([datetime]::SpecifyKind('2026-03-02', 'Utc')) -Until ([datetime]::SpecifyKind('2026-03-02 23:00', 'Utc'))")
            .AssertNoErrors().Output;

        Assert.Equal(["Batch", "Interactive"], days.Select(d => d.Text("Kind")));
        Assert.All(days, d => Assert.Equal(new DateTime(2026, 3, 2, 0, 0, 0, DateTimeKind.Utc), (DateTime)d.Prop("Date")!));
        Assert.Equal(0.15m, (decimal)days[0].Prop("Savings")!);
        Assert.Equal(18.51851835m, (decimal)days[1].Prop("Cost")!);

        var lines = ps.Run("Get-SemanticSpend -Database index.db | Out-String -Width 80 -Stream").AssertNoErrors().Output.Select(o => o.ToString()).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.Matches(@"Date\s+Kind\s+Calls\s+Tokens\s+Cost\s+Interactive\s+Savings$", lines.First(l => l.Contains("Kind")));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^2026-03-02 Interactive\s+1\s+123,456,789\s+\$18\.5185\s+\$18\.5185\s+\$0\.0000$"));
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^2026-03-03 Query\s+1\s+7\s+\$0\.0000011\s+\$0\.0000011\s+\$0\.0000$"));
    }

    public void Dispose() => dir.Dispose();
}
