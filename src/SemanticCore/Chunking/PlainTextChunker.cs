namespace SemanticCore.Chunking;

/// <summary>Chunks plain text: paragraphs (separated by blank lines) grouped up to the target size.</summary>
/// <remarks>
/// <para>
/// Title: the first line of the document when it stands alone as the first paragraph (followed by a blank line or the
/// end), is shorter than 100 characters and does not end like a sentence or clause (<c>. , ; :</c>); otherwise
/// <c>fallbackTitle</c>. The title line also stays in the first chunk, so no text is lost.
/// </para>
/// <para>
/// Paragraphs are trimmed and grouped up to <see cref="ChunkingOptions.TargetChunkTokens"/> (joined by a blank line);
/// a paragraph over <see cref="ChunkingOptions.MaxChunkTokens"/> is split on sentences, then line breaks, then
/// whitespace, then hard. All chunks are <see cref="Model.ChunkType.Text"/> with no breadcrumbs. Input is normalised
/// like Markdown (BOM dropped, CRLF/CR to LF, rejected control characters removed).
/// </para>
/// </remarks>
public static class PlainTextChunker
{
    private const int MaxTitleLength = 100;

    /// <summary>Chunks <paramref name="text"/>; an empty or whitespace-only text gives zero chunks.</summary>
    public static ChunkedDocument Chunk(string text, string fallbackTitle, ChunkingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fallbackTitle);
        options ??= ChunkingOptions.Default;
        var limits = ChunkLimits.From(options);

        string source = SourceText.Normalize(text);
        List<string> paragraphs = Paragraphs(source);
        string title = TitleOf(paragraphs) ?? VectorText.SingleLine(fallbackTitle);
        var sink = new ChunkSink(title, options, limits);
        IReadOnlyList<string> noBreadcrumbs = [];
        foreach (string paragraph in paragraphs)
        {
            sink.AddText(paragraph, noBreadcrumbs);
        }

        sink.FlushText();
        return new ChunkedDocument(title, sink.Chunks);
    }

    /// <summary>The trimmed, non-empty paragraphs of <paramref name="source"/> (split on lines that are empty or whitespace).</summary>
    internal static List<string> Paragraphs(string source)
    {
        var paragraphs = new List<string>();
        int paragraphStart = -1;
        int lineStart = 0;
        while (lineStart <= source.Length)
        {
            int newline = source.IndexOf('\n', lineStart);
            int lineEnd = newline < 0 ? source.Length : newline;
            bool blank = source.AsSpan(lineStart, lineEnd - lineStart).IsWhiteSpace();
            if (blank && paragraphStart >= 0)
            {
                paragraphs.Add(source[paragraphStart..lineStart].Trim());
                paragraphStart = -1;
            }
            else if (!blank && paragraphStart < 0)
            {
                paragraphStart = lineStart;
            }

            if (newline < 0)
            {
                break;
            }

            lineStart = newline + 1;
        }

        if (paragraphStart >= 0)
        {
            paragraphs.Add(source[paragraphStart..].Trim());
        }

        return paragraphs;
    }

    private static string? TitleOf(List<string> paragraphs)
    {
        if (paragraphs.Count == 0)
        {
            return null;
        }

        string first = paragraphs[0];
        if (first.Length >= MaxTitleLength || first.Contains('\n') || first[^1] is '.' or ',' or ';' or ':')
        {
            return null;
        }

        string title = VectorText.SingleLine(first);
        return title.Length > 0 ? title : null;
    }
}
