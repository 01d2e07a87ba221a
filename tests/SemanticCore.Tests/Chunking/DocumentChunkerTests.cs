using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Tests.Chunking;

public class DocumentChunkerTests
{
    [Fact]
    public void Supported_extensions_are_the_markdown_and_text_ones()
    {
        Assert.Equal(
            [".markdown", ".md", ".mdown", ".mkd", ".text", ".txt"],
            DocumentChunker.SupportedExtensions.Order(StringComparer.Ordinal));
        Assert.Contains(".MD", DocumentChunker.SupportedExtensions);
        Assert.DoesNotContain(".pdf", DocumentChunker.SupportedExtensions);
    }

    [Theory]
    [InlineData(".md", true)]
    [InlineData(".markdown", true)]
    [InlineData(".mdown", true)]
    [InlineData(".mkd", true)]
    [InlineData(".MD", true)]
    [InlineData("md", true)]
    [InlineData(".txt", false)]
    [InlineData(".text", false)]
    [InlineData(".docx", false)]
    [InlineData("", false)]
    public void IsMarkdown(string extension, bool expected) => Assert.Equal(expected, DocumentChunker.IsMarkdown(extension));

    [Fact]
    public void Chunk_dispatches_on_the_extension()
    {
        const string text = "# Heading\n\nBody text.";

        ChunkedDocument markdown = DocumentChunker.Chunk(text, ".md", "file");
        Assert.Equal("Heading", markdown.Title);
        ChunkDraft md = Assert.Single(markdown.Chunks);
        Assert.Equal("Body text.", md.Content);
        Assert.Equal(["Heading"], md.Breadcrumbs);

        ChunkedDocument plain = DocumentChunker.Chunk(text, ".TXT", "file");
        Assert.Equal("# Heading", plain.Title);
        ChunkDraft txt = Assert.Single(plain.Chunks);
        Assert.Equal(text, txt.Content);
        Assert.Equal(ChunkType.Text, txt.Type);

        Assert.Throws<ArgumentException>(() => DocumentChunker.Chunk(text, ".pdf", "file"));
    }

    [Fact]
    public void Default_limits_leave_room_for_the_context_under_the_model_limit()
    {
        ChunkingOptions defaults = ChunkingOptions.Default;
        Assert.Equal(1024, defaults.MaxChunkTokens);
        Assert.Equal(400, defaults.TargetChunkTokens);
        Assert.Equal(200, defaults.MaxContextTokens);
        Assert.True(defaults.MaxChunkTokens + defaults.MaxContextTokens + 2 < 2048);
    }
}
