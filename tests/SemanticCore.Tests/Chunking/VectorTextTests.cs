using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Tests.Chunking;

public class VectorTextTests
{
    [Fact]
    public void Clean_removes_rejected_characters_and_keeps_newlines_tabs_and_all_scripts()
    {
        string dirty = "a\u0000b\u0001c\u0007d\u001Be\u007Ff\u0085g\u009Fh\uFFFEi\uFFFFj\u000Bk\u000Cl\tm\nn";
        Assert.Equal("abcdefghijkl\tm\nn", VectorText.Clean(dirty));

        const string scripts = "Привет 日本語 한국어 😀👍🏽 Ελληνικά العربية\ttab\nline";
        Assert.Same(scripts, VectorText.Clean(scripts));
    }

    [Fact]
    public void Clean_normalises_line_endings_and_drops_unpaired_surrogates()
    {
        Assert.Equal("a\nb\nc\n\nd", VectorText.Clean("a\r\nb\rc\r\n\r\nd"));
        Assert.Equal("xy😀z", VectorText.Clean("x\uD800y😀\uDC00z"));
        Assert.Equal("end", VectorText.Clean("end\uD83D"));
    }

    [Fact]
    public void Build_formats_title_section_label_and_content()
    {
        string vector = VectorText.Build("Guide", ["Guide", "Install", "Linux"], ChunkType.Code, "bash", "```bash\nls -la\n```", ChunkingOptions.Default);
        Assert.Equal("Title: Guide\nSection: Install > Linux\nCode (bash):\n\n```bash\nls -la\n```", vector);
    }

    [Theory]
    [InlineData(ChunkType.Text, null, "Title: T\nSection: A > B\n\nbody")]
    [InlineData(ChunkType.Code, null, "Title: T\nSection: A > B\nCode:\n\nbody")]
    [InlineData(ChunkType.Code, "python", "Title: T\nSection: A > B\nCode (python):\n\nbody")]
    [InlineData(ChunkType.Table, null, "Title: T\nSection: A > B\nTable:\n\nbody")]
    [InlineData(ChunkType.Quote, null, "Title: T\nSection: A > B\nQuote:\n\nbody")]
    [InlineData(ChunkType.ImageRef, null, "Title: T\nSection: A > B\nImage:\n\nbody")]
    public void Build_labels_each_type(ChunkType type, string? language, string expected) =>
        Assert.Equal(expected, VectorText.Build("T", ["A", "B"], type, language, "body", ChunkingOptions.Default));

    [Fact]
    public void Build_omits_empty_lines()
    {
        Assert.Equal("just content", VectorText.Build("", [], ChunkType.Text, null, "just content", ChunkingOptions.Default));
        Assert.Equal("Title: T\n\nx", VectorText.Build("T", [], ChunkType.Text, null, "x", ChunkingOptions.Default));
        Assert.Equal("Title: T\n\nx", VectorText.Build("T", ["T"], ChunkType.Text, null, "x", ChunkingOptions.Default));
        Assert.Equal("Section: A\nTable:\n\nx", VectorText.Build("  ", ["", "A"], ChunkType.Table, null, "x", ChunkingOptions.Default));
    }

    [Fact]
    public void Build_flattens_title_and_breadcrumbs_and_cleans_the_result()
    {
        string vector = VectorText.Build("My\r\n  Title\u0007", ["Part\tOne"], ChunkType.Text, null, "a\u0001b\r\nc", ChunkingOptions.Default);
        Assert.Equal("Title: My Title\nSection: Part One\n\nab\nc", vector);
    }

    [Fact]
    public void Build_caps_the_context_at_MaxContextTokens()
    {
        string longTitle = string.Join(' ', Enumerable.Repeat("verylongtitleword", 500));
        string[] crumbs = [string.Join(' ', Enumerable.Repeat("chapter", 300)), "Section two", string.Join(' ', Enumerable.Repeat("deep", 400))];
        foreach (int cap in new[] { 0, 5, 20, 50, 200 })
        {
            var options = new ChunkingOptions { MaxContextTokens = cap };
            string vector = VectorText.Build(longTitle, crumbs, ChunkType.Code, "python", "print(1)", options);
            Assert.EndsWith("print(1)", vector);
            string context = vector[..^"print(1)".Length].TrimEnd('\n');
            Assert.True(TokenEstimator.Estimate(context) <= cap, $"cap {cap}: {TokenEstimator.Estimate(context)}");
            if (cap >= 20)
            {
                Assert.Contains("Code (python):", context);
                Assert.Contains("Title: verylong", context);
                Assert.Contains("…", context);
            }
        }

        string none = VectorText.Build(longTitle, crumbs, ChunkType.Text, null, "body", new ChunkingOptions { MaxContextTokens = 0 });
        Assert.Equal("body", none);
    }

    [Fact]
    public void Build_keeps_the_deepest_breadcrumbs_when_the_section_is_too_long()
    {
        var options = new ChunkingOptions { MaxContextTokens = 40 };
        string[] crumbs = [string.Join(' ', Enumerable.Repeat("introduction", 40)), "Install", "Linux"];
        string vector = VectorText.Build("T", crumbs, ChunkType.Text, null, "x", options);
        Assert.Equal("Title: T\nSection: … > Install > Linux\n\nx", vector);
    }

    [Fact]
    public void Build_truncates_absurd_languages()
    {
        string vector = VectorText.Build("T", [], ChunkType.Code, new string('z', 500), "x", ChunkingOptions.Default);
        Assert.Equal($"Title: T\nCode ({new string('z', 32)}):\n\nx", vector);
    }
}
