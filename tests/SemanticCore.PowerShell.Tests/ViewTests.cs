using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>The default views as an admin reads them in an 80-column console: the column that matters is kept.</summary>
[Collection(ModuleCollection.Name)]
public sealed class ViewTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private static List<string> At80(PsSession ps, string command)
    {
        var lines = ps.Run($"{command} | Out-String -Width 80 -Stream").AssertNoErrors().Output.Select(o => o.ToString()).ToList();
        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        return lines;
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
        Assert.True(chunks.Any(l => l.Contains("! 429 RESOURCE_EXHAUSTED")), string.Join("\n", chunks));

        var jobs = At80(ps, "Get-BatchJob -Database index.db");
        Assert.Matches(@"Failed\s+Retried\s+Cost \$", jobs.First(l => l.Contains("Status")));
        Assert.Contains(jobs, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\s1\s+2\s+0\.0000$"));

        var documents = At80(ps, "Get-SemanticDocument -Database index.db");
        Assert.Contains(documents, l => l.Contains("storage-capacity-review-procedure.md"));

        foreach (var command in new[] { "Test-SemanticIndex -Database index.db", "Get-SemanticKeyring", "Get-ChunkStatus -Database index.db -Summary", "Search-SemanticIndex capacity -Database index.db" })
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

    public void Dispose() => dir.Dispose();
}
