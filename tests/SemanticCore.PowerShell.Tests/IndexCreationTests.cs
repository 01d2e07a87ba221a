using System.Management.Automation;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Creating an index is visible without -Verbose: one information line per new index, a warning for a relative path, IndexCreated on the results.</summary>
[Collection(ModuleCollection.Name)]
public sealed class IndexCreationTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private static List<string> Created(PsResult run) =>
        run.Information.Where(i => i.Tags.Contains("IndexCreated")).Select(i => i.MessageData.ToString()!).ToList();

    private static bool IndexCreated(PSObject result) => (bool)result.Prop("IndexCreated")!;

    private void WriteFolder()
    {
        dir.Write("kb/a.md", "# A\n\nAlpha.");
        dir.Write("kb/b.md", "# B\n\nBeta.");
        dir.Write("kb/c.txt", "Gamma.");
    }

    [Fact]
    public void A_new_index_is_announced_once_for_all_its_files_and_an_existing_one_not_at_all()
    {
        WriteFolder();
        var database = dir.Combine("data", "kb.db");
        using var ps = module.NewSession(dir.Path);

        var first = ps.Run($"Import-SemanticDocument kb/* -Database '{database}' -Mode Async").AssertNoErrors();
        var again = ps.Run($"Set-Content kb/a.md '# A`n`nChanged.'; Import-SemanticDocument kb/* -Database '{database}' -Mode Async").AssertNoErrors();

        var record = Assert.Single(first.Information, i => i.Tags.Contains("IndexCreated"));
        Assert.Equal($"Created a new Gemini index at {database} (gemini-embedding-001, 768 dimensions).", record.MessageData.ToString());
        Assert.Contains("SemanticCore", record.Tags);
        Assert.Contains("PSHOST", record.Tags); // shown like Write-Host, without -Verbose or $InformationPreference
        Assert.Empty(first.Warnings);
        Assert.Equal(3, first.Output.Count);
        Assert.All(first.Output, result => Assert.True(IndexCreated(result)));

        Assert.Empty(Created(again));
        Assert.Empty(again.Warnings);
        Assert.Equal(3, again.Output.Count);
        Assert.All(again.Output, result => Assert.False(IndexCreated(result)));
    }

    [Fact]
    public void Each_index_a_command_creates_is_announced_once()
    {
        WriteFolder();
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("""
            @(
                [pscustomobject]@{ Path = 'kb/a.md'; Database = "$PWD/one.db" }
                [pscustomobject]@{ Path = 'kb/b.md'; Database = "$PWD/two.db" }
                [pscustomobject]@{ Path = 'kb/c.txt'; Database = "$PWD/one.db" }
            ) | Import-SemanticDocument -Provider Local -Mode Async
            """).AssertNoErrors();

        Assert.Equal([dir.Combine("one.db"), dir.Combine("two.db")], Created(run).Select(m => m.Split(" at ")[1].Split(" (")[0]));
        Assert.All(Created(run), message => Assert.StartsWith("Created a new Local index at ", message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("kb.db")]
    [InlineData("./sub/kb.db")]
    [InlineData("../elsewhere/kb.db")]
    public void A_relative_Database_that_creates_an_index_also_warns_which_folder_it_is_in(string relative)
    {
        WriteFolder();
        Directory.CreateDirectory(dir.Combine("work"));
        using var ps = module.NewSession(dir.Combine("work"));

        var run = ps.Run($"Import-SemanticDocument ../kb/a.md, ../kb/b.md -Database '{relative}' -Provider Local -Mode Async").AssertNoErrors();

        var full = Path.GetFullPath(Path.Combine(dir.Combine("work"), relative));
        Assert.StartsWith($"Created a new Local index at {full} (", Assert.Single(Created(run)), StringComparison.Ordinal);
        Assert.Equal(
            $"-Database '{relative}' is a relative path, so the new index is in the current folder '{dir.Combine("work")}'. " +
            "To use an existing index, give its full path or run the command from its folder.",
            Assert.Single(run.Warnings));
        Assert.True(File.Exists(full));
    }

    [Fact]
    public void A_relative_Database_that_opens_an_existing_index_says_nothing()
    {
        WriteFolder();
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database kb.db -Provider Local -Mode Async").AssertNoErrors();

        var run = ps.Run("Import-SemanticDocument kb/b.md -Database kb.db -Mode Async; Sync-SemanticFolder kb -Database kb.db").AssertNoErrors();

        Assert.Empty(Created(run));
        Assert.Empty(run.Warnings);
    }

    [Fact]
    public void Sync_SemanticFolder_announces_the_index_it_creates_and_its_summary_says_so()
    {
        WriteFolder();
        using var ps = module.NewSession(dir.Path);

        var first = ps.Run("Sync-SemanticFolder kb -Database kb.db -Provider Local").AssertNoErrors();
        var next = ps.Run("Sync-SemanticFolder kb -Database kb.db").AssertNoErrors();

        Assert.StartsWith($"Created a new Local index at {dir.Combine("kb.db")} (", Assert.Single(Created(first)), StringComparison.Ordinal);
        Assert.Contains("relative path", Assert.Single(first.Warnings), StringComparison.Ordinal);
        Assert.All(first.Output, result => Assert.True(IndexCreated(result)));
        Assert.Empty(Created(next));
        Assert.All(next.Output, result => Assert.False(IndexCreated(result)));
        Assert.Equal("SemanticCore.Model.FolderSyncSummary", next.Output[^1].TypeName());
    }

    [Fact]
    public void WhatIf_forecasts_that_the_index_would_be_created_and_creates_nothing()
    {
        WriteFolder();
        using var ps = module.NewSession(dir.Path);

        var import = ps.Run("Import-SemanticDocument kb/* -Database kb.db -WhatIf -Mode Async").AssertNoErrors();
        var sync = ps.Run("Sync-SemanticFolder kb -Database kb.db -WhatIf").AssertNoErrors();

        Assert.Equal($"Would create a new Gemini index at {dir.Combine("kb.db")} (gemini-embedding-001, 768 dimensions).", Assert.Single(Created(import)));
        Assert.Contains("would be in the current folder", Assert.Single(import.Warnings), StringComparison.Ordinal);
        Assert.All(import.Output, forecast => Assert.True(IndexCreated(forecast)));
        Assert.Single(Created(sync));
        Assert.All(sync.Output, forecast => Assert.True(IndexCreated(forecast)));
        Assert.False(File.Exists(dir.Combine("kb.db")));
    }

    public void Dispose() => dir.Dispose();
}
