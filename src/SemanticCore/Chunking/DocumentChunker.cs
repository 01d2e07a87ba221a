using System.Collections.Frozen;

namespace SemanticCore.Chunking;

/// <summary>Chooses the chunker for a file from its extension.</summary>
public static class DocumentChunker
{
    private static readonly FrozenSet<string> MarkdownExtensions =
        new[] { ".md", ".markdown", ".mdown", ".mkd" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string> AllExtensions =
        new[] { ".md", ".markdown", ".mdown", ".mkd", ".txt", ".text" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>File extensions it accepts (lower-case, with dot): .md .markdown .mdown .mkd .txt .text. Lookups ignore case.</summary>
    public static IReadOnlySet<string> SupportedExtensions => AllExtensions;

    /// <summary>True for the Markdown extensions (.md .markdown .mdown .mkd); case-insensitive, the leading dot is optional.</summary>
    public static bool IsMarkdown(string extension) => MarkdownExtensions.Contains(NormalizeExtension(extension));

    /// <summary>
    /// Dispatches on the extension (case-insensitive, leading dot optional): Markdown -> <see cref="MarkdownChunker"/>,
    /// text -> <see cref="PlainTextChunker"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The extension is not in <see cref="SupportedExtensions"/>.</exception>
    public static ChunkedDocument Chunk(string text, string extension, string fallbackTitle, ChunkingOptions? options = null)
    {
        string normalized = NormalizeExtension(extension);
        if (MarkdownExtensions.Contains(normalized))
        {
            return MarkdownChunker.Chunk(text, fallbackTitle, options);
        }

        if (AllExtensions.Contains(normalized))
        {
            return PlainTextChunker.Chunk(text, fallbackTitle, options);
        }

        throw new ArgumentException(
            $"Unsupported extension '{extension}'. Supported: {string.Join(' ', AllExtensions.Order(StringComparer.Ordinal))}.",
            nameof(extension));
    }

    private static string NormalizeExtension(string? extension)
    {
        if (string.IsNullOrWhiteSpace(extension))
        {
            return string.Empty;
        }

        string e = extension.Trim();
        return e[0] == '.' ? e : "." + e;
    }
}
