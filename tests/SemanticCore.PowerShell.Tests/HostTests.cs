using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The console host in its own process: the way CI and the README quick start run the module. That
/// process references no SQLite of its own, so these tests also prove the module's native loading.
/// </summary>
public sealed class HostTests : IDisposable
{
    private readonly TestDirectory dir = new();

    [Fact]
    public void Quick_start_runs_on_the_host_and_ends_with_a_search_that_finds_the_right_chunk()
    {
        var database = dir.Combine("quick.db");

        var (exitCode, stdout, stderr) = HostProcess.Run(ModuleFixture.RepoRoot, "-File", "examples/quickstart.ps1", "-Database", database);

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("Added", stdout);
        Assert.Contains("Unchanged", stdout);
        Assert.Matches(@"Total\s+\d+\s+3\s+100", stdout);
        Assert.Equal(3L, Db.Scalar<long>(database, "SELECT COUNT(*) FROM documents"));
        Assert.Contains("rotate-batch-key.md > Rotating the batch API key > Rotate\n1. Create the new key in the console.", stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_terminating_error_exits_non_zero_with_the_error_on_stderr()
    {
        var (exitCode, _, stderr) = HostProcess.Run(dir.Path, "-Command", "Get-ChunkStatus -Database ./missing.db");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("There is no index", stderr);
    }

    [Fact]
    public void Format_views_of_the_module_render_tables()
    {
        dir.Write("a.md", "# A\n\nSome text.\n\n```python\nprint(1)\n```");

        var (exitCode, stdout, stderr) = HostProcess.Run(dir.Path, "-Command", "Import-SemanticDocument a.md -Database idx.db -Provider Local -Mode Async | Out-Default; Get-ChunkStatus -Database idx.db");

        Assert.True(exitCode == 0, stderr);
        Assert.Matches(@"Status\s+Chunks\s+Pending\s+Added\s+Removed\s+Path", stdout);
        Assert.Matches(@"Id\s+Status\s+Type\s+Document\s+Preview / Error", stdout);
        Assert.Matches(@"\spython\s+a\.md#\d\s", stdout);
    }

    public void Dispose() => dir.Dispose();
}
