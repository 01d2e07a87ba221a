using SemanticCore.Build;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>The about topics as Get-Help prints them: found by name, and readable in an 80-column terminal.</summary>
[Collection(ModuleCollection.Name)]
public sealed class AboutTopicTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private static IEnumerable<string> TopicNames() =>
        Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "docs", "en-US"), "about_*.md").Select(f => Path.GetFileNameWithoutExtension(f)).Order();

    public static TheoryData<string> Topics() => new(TopicNames());

    [Fact]
    public void The_overview_links_the_other_topics()
    {
        var overview = File.ReadAllText(Path.Combine(ModuleFixture.RepoRoot, "docs", "en-US", "about_SemanticCore.PS.md"));

        Assert.All(TopicNames().Where(t => t != "about_SemanticCore.PS"), topic => Assert.Contains(topic, overview));
    }

    [Theory]
    [MemberData(nameof(Topics))]
    public void Get_Help_finds_the_topic_and_no_line_of_its_text_is_wider_than_80_columns(string topic)
    {
        var helpFile = Path.Combine(Path.GetDirectoryName(module.ManifestPath)!, "en-US", topic + ".help.txt");
        var wide = File.ReadAllLines(helpFile).Where(l => l.Length > AboutTopicWriter.Width).ToList();
        Assert.True(wide.Count == 0, $"{wide.Count} lines wider than 80 columns:\n" + string.Join("\n", wide));

        using var ps = module.NewSession(dir.Path);
        Assert.Contains(topic, ps.Run($"Get-Help {topic} | Out-String").AssertNoErrors().AllText);
    }

    [Fact]
    public void A_pipe_table_is_written_as_aligned_columns_its_last_column_wrapped_between_words()
    {
        var text = AboutTopicWriter.Write("about_Test",
        [
            "| Status | Meaning |",
            "|---|---|",
            "| Created | The job row exists and its chunks are claimed. The remote job doesn't exist yet, and the next flush or sync recovers it. |",
            "| Running | The service reported that the job is running. |",
        ]).Split('\n');

        Assert.Equal(
        [
            "    Status   Meaning",
            "    -------  " + new string('-', 67),
            "    Created  The job row exists and its chunks are claimed. The remote job",
            "             doesn't exist yet, and the next flush or sync recovers it.",
            "    Running  The service reported that the job is running.",
        ], text.Skip(2).Take(5));
    }

    [Fact]
    public void A_table_too_wide_for_columns_is_written_a_row_at_a_time_with_each_cell_after_its_header()
    {
        var text = AboutTopicWriter.Write("about_Test",
        [
            "| ErrorId | Category | Cmdlets | Kind | When |",
            "|---|---|---|---|---|",
            "| NotAFileSystemPath | InvalidArgument | all | per item in Import and Schema; else terminating | The path belongs to another provider. |",
        ]).Split('\n');

        Assert.Equal(
        [
            "    NotAFileSystemPath",
            "        Category  InvalidArgument",
            "        Cmdlets   all",
            "        Kind      per item in Import and Schema; else terminating",
            "        When      The path belongs to another provider.",
        ], text.Skip(3).Take(5));
    }

    [Fact]
    public void Prose_and_list_items_are_wrapped_at_80_columns_a_list_item_under_its_own_text()
    {
        var words = string.Join(" ", Enumerable.Repeat("word", 30));
        var text = AboutTopicWriter.Write("about_Test", ["- " + words, "  " + words]).Split('\n');

        Assert.All(text, l => Assert.True(l.Length <= 80, l));
        Assert.StartsWith("    - word", text[2]);
        Assert.All(text.Skip(3).Where(l => l.Length > 0), l => Assert.StartsWith("      word", l));
        Assert.Equal(60, text.Skip(2).Sum(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Count(w => w == "word")));
    }

    public void Dispose() => dir.Dispose();
}
