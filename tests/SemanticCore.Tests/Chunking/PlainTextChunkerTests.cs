using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Tests.Chunking;

public class PlainTextChunkerTests
{
    private static ChunkedDocument Chunk(string text, ChunkingOptions? options = null)
    {
        ChunkedDocument document = PlainTextChunker.Chunk(text, "notes", options);
        ChunkAssert.Invariants(document, options?.MaxChunkTokens ?? 1024);
        return document;
    }

    private const string Text = """
        Meeting Notes

        The team agreed on the plan.
        Work starts on Monday.


          Budget was approved without changes.  

        Next meeting in two weeks.
        """;

    [Fact]
    public void Paragraphs_split_on_blank_lines_are_grouped_to_the_target()
    {
        ChunkedDocument doc = Chunk(Text);

        Assert.Equal("Meeting Notes", doc.Title);
        ChunkDraft chunk = Assert.Single(doc.Chunks);
        Assert.Equal(ChunkType.Text, chunk.Type);
        Assert.Null(chunk.Language);
        Assert.Empty(chunk.Breadcrumbs);
        Assert.Equal(
            "Meeting Notes\n\nThe team agreed on the plan.\nWork starts on Monday.\n\nBudget was approved without changes.\n\nNext meeting in two weeks.",
            chunk.Content);
        Assert.Equal("Title: Meeting Notes\n\n" + chunk.Content, chunk.VectorSource);
    }

    [Fact]
    public void With_a_small_target_every_paragraph_is_its_own_chunk()
    {
        ChunkedDocument doc = Chunk(Text, new ChunkingOptions { TargetChunkTokens = 5 });
        Assert.Equal(
            ["Meeting Notes", "The team agreed on the plan.\nWork starts on Monday.", "Budget was approved without changes.", "Next meeting in two weeks."],
            doc.Chunks.Select(c => c.Content));
        Assert.Equal(Enumerable.Range(0, 4), doc.Chunks.Select(c => c.Ordinal));
    }

    [Theory]
    [InlineData("A first line that ends like a sentence.\n\nBody.", "notes")]
    [InlineData("First line\nsecond line of the same paragraph\n\nBody.", "notes")]
    [InlineData("Heading:\n\nBody.", "notes")]
    [InlineData("   \n\n  Spaced Title  \n\nBody.", "Spaced Title")]
    public void Title_is_a_short_standalone_first_line_else_the_fallback(string text, string title) =>
        Assert.Equal(title, Chunk(text).Title);

    [Fact]
    public void A_long_first_line_is_not_a_title()
    {
        string line = new('x', 100);
        Assert.Equal("notes", Chunk(line + "\n\nBody.").Title);
        Assert.Equal(new string('x', 99), Chunk(new string('x', 99) + "\n\nBody.").Title);
    }

    [Fact]
    public void An_oversized_paragraph_is_split_without_losing_text()
    {
        string paragraph = string.Join(' ', Enumerable.Range(0, 2000).Select(i => $"Line {i} of the log says ok!"));
        ChunkedDocument doc = Chunk("Log\n\n" + paragraph + "\n\nEnd.");

        Assert.True(doc.Chunks.Count > 5);
        Assert.All(doc.Chunks, c => Assert.True(TokenEstimator.Estimate(c.Content) <= 400));
        Assert.Equal(
            ChunkAssert.WithoutWhiteSpace("Log" + paragraph + "End."),
            ChunkAssert.WithoutWhiteSpace(string.Concat(doc.Chunks.Select(c => c.Content))));
    }

    [Fact]
    public void Crlf_and_empty_inputs()
    {
        ChunkedDocument lf = Chunk(Text);
        ChunkedDocument crlf = Chunk(Text.Replace("\n", "\r\n"));
        Assert.Equal(lf.Chunks.Select(c => c.ContentHash), crlf.Chunks.Select(c => c.ContentHash));

        Assert.Empty(Chunk("").Chunks);
        Assert.Empty(Chunk(" \n \t\n\r\n").Chunks);
        Assert.Equal("notes", Chunk("").Title);
    }

    [Fact]
    public void Markdown_syntax_is_not_interpreted_in_plain_text()
    {
        ChunkDraft chunk = Assert.Single(Chunk("# Not a heading\n\n```\nnot code\n```").Chunks);
        Assert.Equal(ChunkType.Text, chunk.Type);
        Assert.Empty(chunk.Breadcrumbs);
        Assert.Equal("# Not a heading\n\n```\nnot code\n```", chunk.Content);
    }
}
