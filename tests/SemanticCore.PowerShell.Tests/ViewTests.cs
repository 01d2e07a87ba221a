using System.Text.RegularExpressions;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>The default views as an admin reads them in an 80-column console: the column that matters is kept.</summary>
[Collection(ModuleCollection.Name)]
public sealed class ViewTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private static List<string> At80(PsSession ps, string command, IDictionary<string, object?>? variables = null)
    {
        var lines = ps.Run($"{command} | Out-String -Width 80 -Stream", variables).AssertNoErrors().Output.Select(o => o.ToString()).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        return lines;
    }

    /// <summary>A table column's cells from its header on, its wrapped lines joined with spaces.</summary>
    private static string ColumnText(List<string> lines, string header)
    {
        var headerLine = lines.First(l => l.Contains(header));
        var start = headerLine.IndexOf(header, StringComparison.Ordinal);
        var end = headerLine.IndexOf(' ', start + header.Length) is var space and > 0 ? headerLine.Length - headerLine.Substring(space).TrimStart().Length : int.MaxValue;
        return string.Join(" ", lines.SkipWhile(l => l != headerLine).Skip(2).Where(l => l.Length > start)
            .Select(l => l.Substring(start, Math.Min(l.Length, end) - start).Trim()).Where(c => c.Length > 0));
    }

    [Fact]
    public void Default_views_fit_80_columns_and_keep_the_column_that_matters()
    {
        var deep = "kb/operations/runbooks/quarterly/storage-capacity-review-procedure.md";
        dir.Write(deep, "# Review\n\nCapacity text.\n\n## Steps\n\nStep text.\n\n## Sign-off\n\nSign-off text.");
        using var ps = module.NewSession(dir.Path);

        var imports = At80(ps, $"Import-SemanticDocument {deep} -Database index.db -Provider Local -Mode Async");
        Assert.Contains(imports, l => l.Contains("storage-capacity-review-procedure.md"));

        ps.Run("Invoke-BatchFlush -Database index.db -Force | Sync-BatchJob").AssertNoErrors();
        Db.Execute(Database, """
            UPDATE chunks SET embedding_status = 'Failed', error_message = '429 RESOURCE_EXHAUSTED: Quota exceeded' WHERE ordinal = 0;
            UPDATE batch_jobs SET failed_count = 1, retried_count = 2;
            """);

        var chunks = At80(ps, "Get-ChunkStatus -Database index.db -Status Failed");
        Assert.Contains("! 429 RESOURCE_EXHAUSTED: Quota exceeded", ColumnText(chunks, "Preview / Error"));
        Assert.Contains("storage-capacity-review-procedure.md#0", ColumnText(chunks, "Document").Replace(" ", ""));

        var jobs = At80(ps, "Get-BatchJob -Database index.db");
        Assert.Matches(@"Failed\s+Retried\s+Cost$", jobs.First(l => l.Contains("Status")));
        Assert.Contains(jobs, l => Regex.IsMatch(l, @"\s1\s+2\s+\$0\.0000$"));

        var documents = At80(ps, "Get-SemanticDocument -Database index.db");
        Assert.Contains(documents, l => l.Contains("storage-capacity-review-procedure.md"));

        foreach (var command in new[]
                 {
                     "Test-SemanticIndex -Database index.db", "Get-SemanticKeyring", "Get-ChunkStatus -Database index.db -Summary",
                     "Search-SemanticIndex capacity -Database index.db", "Get-SemanticSpend -Database index.db", "Update-SemanticSchema -Database index.db",
                     "Invoke-BatchFlush -Database index.db -Force -WhatIf", "Sync-SemanticFolder kb -Database index.db -WhatIf",
                     "Backup-SemanticIndex -Database index.db -Destination nightly-index-copy-before-the-quarterly-review.db",
                     "Copy-SemanticIndex -Database index.db -Destination index-copied-to-another-host-before-the-quarterly-review.db",
                 })
        {
            Assert.NotEmpty(At80(ps, command));
        }
    }

    [Fact]
    public void Summary_percentages_are_never_0_or_100_for_a_status_that_some_but_not_all_chunks_have()
    {
        var text = string.Join("\n\n", Enumerable.Range(0, 2100).Select(i => $"## Part {i}\n\nParagraph {i} of the long document."));
        dir.Write("kb/long.md", "# Long\n\n" + text);
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/long.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        var total = Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks");
        Assert.True(total >= 2000, $"{total} chunks");
        Db.Execute(Database, "UPDATE chunks SET embedding_status = 'Failed' WHERE id = (SELECT MIN(id) FROM chunks)");

        var rows = ps.Run("Get-ChunkStatus -Database index.db -Summary").AssertNoErrors().Output.ToDictionary(r => r.Text("Status"), r => (double)r.Prop("Percent")!);

        Assert.Equal(0.1, rows["Failed"]);
        Assert.Equal(99.9, rows["Pending"]);
        Assert.Equal(0.0, rows["Ready"]);
        Assert.Equal(100.0, rows["Total"]);
    }

    [Fact]
    public void A_chunk_row_shows_its_file_name_without_the_folder_and_a_code_chunks_language()
    {
        var deep = "kb/operations/runbooks/quarterly/rotate-batch-key.md";
        dir.Write(deep, "# Rotate the batch API key\n\nThe batch key pays for batch jobs.\n\n```powershell\nGet-ChunkStatus -Summary\n```\n\nThen flush.");
        using var ps = module.NewSession(dir.Path);
        ps.Run($"Import-SemanticDocument {deep} -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        var lines = At80(ps, "Get-ChunkStatus -Database index.db");

        var code = Assert.Single(lines, l => l.Contains("powershell"));
        Assert.Matches(@"\spowershell\s+rotate-batch-key\.md#\d\s", code);
        Assert.DoesNotContain(lines, l => l.Contains("quarterly"));
    }

    [Fact]
    public void A_failed_chunks_error_wraps_whole_instead_of_being_cut()
    {
        dir.Write("kb/guide.md", "# Guide\n\nSome text.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/guide.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        const string error = "400 INVALID_ARGUMENT: Request contains an invalid argument; the content is longer than the input limit of the model";
        Db.Execute(Database, $"UPDATE chunks SET embedding_status = 'Failed', error_message = '{error}'");

        var lines = At80(ps, "Get-ChunkStatus -Database index.db -Status Failed");

        Assert.Contains("! " + error, ColumnText(lines, "Preview / Error"));
    }

    [Fact]
    public void The_summary_has_no_Database_column()
    {
        dir.Write("kb/guide.md", "# Guide\n\nSome text.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/guide.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        var lines = At80(ps, "Get-ChunkStatus -Database index.db -Summary");

        Assert.Matches(@"^Status\s+Chunks\s+Documents\s+Percent$", lines.First(l => l.StartsWith("Status", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains(Database));
        Assert.Equal(Database, ps.Run("(Get-ChunkStatus -Database index.db -Summary)[0].Database").Single().ToString());
    }

    [Theory]
    [InlineData("Hybrid", "RRF")]
    [InlineData("Keyword", "BM25")]
    [InlineData("Semantic", "Cosine")]
    public void Search_results_name_what_the_score_is_in_the_column_header(string mode, string header)
    {
        dir.Write("kb/rotate-batch-key.md", "# Rotate the batch API key\n\nThe batch key pays for batch jobs.\n\n## Steps\n\nCreate the new key.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/rotate-batch-key.md -Database index.db -Provider Local -Mode Sync").AssertNoErrors();

        var lines = At80(ps, $"Search-SemanticIndex 'batch key' -Mode {mode} -Database index.db");

        Assert.Matches($@"^Rank\s+{header}\s+Document\s+Section\s+Text$", lines.First(l => l.StartsWith("Rank", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("rotate-batch-key.md"));
        Assert.Equal("SemanticCore.Model.SearchHit", ps.Run($"Search-SemanticIndex 'batch key' -Mode {mode} -Database index.db -Top 1").Single().BaseObject.GetType().FullName);
    }

    [Fact]
    public void A_folder_forecast_shows_the_file_table_then_the_summary_as_its_help_shows_it()
    {
        dir.Write("kb/a.md", "# A\n\nText a.");
        dir.Write("kb/b.md", "# B\n\nText b.");
        using var ps = module.NewSession(dir.Path);

        var lines = At80(ps, "Sync-SemanticFolder kb -Database index.db -Provider Local -WhatIf");

        Assert.Matches(@"^Status\s+Chunks\s+Pending\s+Added\s+Removed\s+Path$", lines.First(l => l.StartsWith("Status", StringComparison.Ordinal)));
        Assert.Contains("Files           : 2 added, 0 updated, 0 removed, 0 unchanged, 0 failed", lines);
        Assert.Contains("BatchCost       : $0.0000", lines);
        Assert.DoesNotContain(lines, l => Regex.IsMatch(l, @"^Added\s+: "));
    }

    [Theory]
    [InlineData("0", "$0.0000")]
    [InlineData("0.00012", "$0.0001")]
    [InlineData("0.00015", "$0.0002")]
    [InlineData("0.0000753", "$0.000075")]
    [InlineData("0.000000012345", "$0.000000012")]
    [InlineData("1234.5", "$1,234.5000")]
    [InlineData("-0.25", "-$0.2500")]
    public void Amounts_have_four_decimals_or_two_significant_digits_below_a_hundredth_of_a_cent(string amount, string expected)
    {
        using var ps = module.NewSession(dir.Path);
        Assert.Equal(expected, ps.Run($"[SemanticCore.PowerShell.Money]::Format([decimal]'{amount}')").Single().ToString());
    }

    [Fact]
    public async Task A_small_Gemini_cost_reads_the_same_in_the_What_if_line_the_estimate_and_the_job()
    {
        await using var gemini = await GeminiFake.StartAsync();
        dir.Write("kb/guide.md", "# Guide\n\nA short paragraph about rotating the batch key.\n\n## More\n\nAnother short paragraph.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/guide.md -Database index.db -Provider Gemini -Mode Async").AssertNoErrors();

        var estimate = At80(ps, "Invoke-BatchFlush -Database index.db -Force -WhatIf");
        var batchCost = Assert.Single(estimate, l => l.StartsWith("BatchCost", StringComparison.Ordinal)).Split(": ")[1];
        Assert.Matches(@"^\$0\.0{4,}[1-9]\d$", batchCost);

        var environment = new Dictionary<string, string?> { ["SEMANTICCORE_GEMINI_ENDPOINT"] = gemini.Server.Endpoint.ToString() };
        var (_, stdout, _) = HostProcess.Run(dir.Path, environment, "-Command", "Invoke-BatchFlush -Database index.db -Force -WhatIf | Out-Null");
        Assert.Contains($": {batchCost} at the batch price instead of $0.0000", stdout);

        var job = At80(ps, "Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", GeminiFake.KeyVariables());
        Assert.EndsWith(" " + batchCost, job.Single(l => l.Contains("Submitted") || l.Contains("Running")));
    }

    public void Dispose() => dir.Dispose();
}
