using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

[Collection(ModuleCollection.Name)]
public sealed class CompletionTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    [Fact]
    public void Job_ids_complete_from_the_index_named_by_a_relative_Database_and_statuses_from_the_enum()
    {
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database idx.db -Provider Local -Mode Async; Invoke-BatchFlush -Database idx.db -Force").AssertNoErrors();
        var jobId = Db.Scalar<string>(dir.Combine("idx.db"), "SELECT id FROM batch_jobs");

        // Completion as the console asks for it; the relative -Database follows PowerShell's location.
        var ids = ps.Run("""
            $null = $ExecutionContext.SessionState.Path.SetLocation('kb')
            $line = 'Sync-BatchJob -Database ../idx.db -Id '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText
            """).AssertNoErrors();
        var statuses = ps.Run("""
            $line = 'Get-BatchJob -Status Comp'
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText
            """).AssertNoErrors();

        Assert.Equal([jobId], ids.Output.Select(o => o.ToString()));
        Assert.Equal(["Completed", "CompletedWithErrors"], statuses.Output.Select(o => o.ToString()));
    }

    public void Dispose() => dir.Dispose();
}
