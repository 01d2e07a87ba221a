using System.Text;
using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using SemanticCore.Model;

namespace SemanticCore.Chunking;

/// <summary>
/// Chunks a Markdown document by walking Markdig's block tree and slicing the (line-ending normalised) source by each
/// block's span, so chunk content keeps the author's Markdown.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Title: front matter <c>title:</c>, else the first H1's text, else the fallback title. Front matter is never a chunk.</item>
/// <item>Headings are not chunks; they maintain the breadcrumb stack (a new H2 pops H2 and deeper). Heading text is
/// plain text: markup dropped, images (badges) left out unless the heading is only images.</item>
/// <item>Paragraphs, lists, definition lists and HTML blocks with visible text are grouped within a section up to
/// <see cref="ChunkingOptions.TargetChunkTokens"/>; an oversized list is grouped item by item and an oversized unit
/// is split on sentences, then line breaks, then whitespace, then hard. HTML comments, HTML blocks without visible
/// text (e.g. <c>&lt;br&gt;</c>, <c>&lt;script&gt;</c>), link reference definitions and thematic breaks are ignored.</item>
/// <item>Fenced and indented code, tables, block quotes (GitHub alerts included) and image-only paragraphs are chunks
/// of their own (<see cref="ChunkType.Code"/>, <see cref="ChunkType.Table"/>, <see cref="ChunkType.Quote"/>,
/// <see cref="ChunkType.ImageRef"/>), split into balanced pieces when over <see cref="ChunkingOptions.MaxChunkTokens"/>:
/// code on lines (each piece re-fenced), tables on rows (header and delimiter repeated), quotes on paragraphs.</item>
/// <item>Input is normalised first: a leading BOM is dropped, CRLF/CR become LF and characters rejected by
/// <see cref="VectorText.Clean"/> are removed, so CRLF and LF documents give identical chunks.</item>
/// </list>
/// </remarks>
public static class MarkdownChunker
{
    private static readonly MarkdownPipeline Pipeline = BuildPipeline();

    private static MarkdownPipeline BuildPipeline()
    {
        var builder = new MarkdownPipelineBuilder()
            .UseYamlFrontMatter()
            .UsePipeTables()
            .UseGridTables()
            .UseTaskLists()
            .UseEmphasisExtras()
            .UseDefinitionLists()
            .UseAlertBlocks()
            .UseAutoLinks();
        // First, so it sees every line that could nest deeper before the parser that would open the container.
        builder.BlockParsers.Insert(0, new NestingGuard(builder.MaximumNestingDepth));
        return builder.Build();
    }

    /// <summary>Chunks <paramref name="markdown"/>; an empty or whitespace-only document gives zero chunks.</summary>
    /// <exception cref="MarkdownTooComplexException">Markdown the parser would take far too long over (see <see cref="MarkdownLimits"/>).</exception>
    /// <exception cref="ArgumentException">Nesting past the parser's depth limit.</exception>
    public static ChunkedDocument Chunk(string markdown, string fallbackTitle, ChunkingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        ArgumentNullException.ThrowIfNull(fallbackTitle);
        options ??= ChunkingOptions.Default;
        var limits = ChunkLimits.From(options);

        string source = SourceText.Normalize(markdown);
        if (string.IsNullOrWhiteSpace(source))
        {
            return new ChunkedDocument(VectorText.SingleLine(fallbackTitle), []);
        }

        MarkdownLimits.Check(source);
        MarkdownDocument document = Markdown.Parse(source, Pipeline);
        string title = FindTitle(document, source) ?? VectorText.SingleLine(fallbackTitle);
        var walker = new Walker(source, new ChunkSink(title, options, limits));
        walker.Walk(document);
        return new ChunkedDocument(title, walker.Sink.Chunks);
    }

    private static string? FindTitle(MarkdownDocument document, string source)
    {
        string? heading = null;
        foreach (Block block in document)
        {
            if (block is YamlFrontMatterBlock frontMatter && frontMatter.Span.Start >= 0)
            {
                int end = Math.Min(frontMatter.Span.End + 1, source.Length);
                string? fromYaml = FrontMatter.ReadTitle(source[frontMatter.Span.Start..end]);
                if (!string.IsNullOrEmpty(fromYaml))
                {
                    return fromYaml;
                }
            }
            else if (heading is null && block is HeadingBlock { Level: 1 } h1)
            {
                string text = InlineText.OfHeading(h1.Inline);
                if (text.Length > 0)
                {
                    heading = text;
                }
            }
        }

        return heading;
    }

    private sealed class Walker(string source, ChunkSink sink)
    {
        private readonly List<(int Level, string Text)> _headings = [];
        private IReadOnlyList<string> _breadcrumbs = [];

        public ChunkSink Sink => sink;

        private ChunkLimits Limits => sink.Limits;

        public void Walk(MarkdownDocument document)
        {
            for (int i = 0; i < document.Count; i++)
            {
                Block block = document[i];
                if (block is YamlFrontMatterBlock or LinkReferenceDefinitionGroup or ThematicBreakBlock or BlankLineBlock)
                {
                    continue;
                }

                (int start, int end) = BlockRange(document, i, source.Length);
                if (end <= start)
                {
                    continue;
                }

                switch (block)
                {
                    case HeadingBlock heading:
                        EnterSection(heading);
                        break;
                    case FencedCodeBlock fenced:
                        AddCode(start, end, fenced);
                        break;
                    case CodeBlock:
                        AddCode(start, end, null);
                        break;
                    case Table:
                        AddTable(source[start..end].Trim());
                        break;
                    case QuoteBlock:
                        AddQuote(source[start..end].Trim());
                        break;
                    case ParagraphBlock paragraph when ImageOnly(paragraph) is { Count: > 0 } images:
                        AddImages(source[start..end].Trim(), images);
                        break;
                    case ListBlock list:
                        AddList(list, start, end);
                        break;
                    case HtmlBlock html:
                        if (HasVisibleText(html, source.AsSpan(start, end - start)))
                        {
                            sink.AddText(source[start..end], _breadcrumbs);
                        }

                        break;
                    default:
                        sink.AddText(source[start..end], _breadcrumbs);
                        break;
                }
            }

            sink.FlushText();
        }

        private void EnterSection(HeadingBlock heading)
        {
            sink.FlushText();
            while (_headings.Count > 0 && _headings[^1].Level >= heading.Level)
            {
                _headings.RemoveAt(_headings.Count - 1);
            }

            _headings.Add((heading.Level, InlineText.OfHeading(heading.Inline)));
            var crumbs = new List<string>(_headings.Count);
            foreach ((_, string text) in _headings)
            {
                if (text.Length > 0)
                {
                    crumbs.Add(text);
                }
            }

            _breadcrumbs = crumbs.AsReadOnly();
        }

        private void AddList(ListBlock list, int start, int end)
        {
            string whole = source[start..end].Trim();
            if (TokenEstimator.Estimate(whole) <= Limits.Max)
            {
                sink.AddText(whole, _breadcrumbs);
                return;
            }

            // Too big for one chunk: group it item by item (items of one list join with a single newline).
            bool first = true;
            for (int i = 0; i < list.Count; i++)
            {
                (int itemStart, int itemEnd) = BlockRange(list, i, end);
                itemStart = Math.Max(itemStart, start);
                if (itemEnd <= itemStart)
                {
                    continue;
                }

                sink.AddText(source[itemStart..itemEnd], _breadcrumbs, first ? ChunkSink.ParagraphSeparator : ChunkSink.LineSeparator);
                first = false;
            }
        }

        private void AddImages(string markdown, List<LinkInline> images)
        {
            // The vector text must carry every image's alt text and URL; reference-style images only name a label in the source.
            var vector = new StringBuilder(markdown);
            foreach (LinkInline image in images)
            {
                string url = image.Url ?? string.Empty;
                if (url.Length > 0 && !markdown.Contains(url, StringComparison.Ordinal))
                {
                    vector.Append('\n').Append(InlineText.Of(image)).Append(' ').Append(url);
                }
            }

            string vectorText = vector.ToString();
            if (TokenEstimator.Estimate(vectorText) <= Limits.Max)
            {
                sink.Emit(ChunkType.ImageRef, null, markdown, _breadcrumbs, vectorText);
                return;
            }

            foreach (string piece in TextSplitter.Split(markdown, Limits.Max, Limits.Max))
            {
                sink.Emit(ChunkType.ImageRef, null, piece, _breadcrumbs);
            }
        }

        private void AddCode(int start, int end, FencedCodeBlock? fenced)
        {
            // Indented code keeps its indentation (it is what makes it code); only trailing whitespace and blank lines go.
            string code = source[start..end].TrimEnd();
            if (fenced is null)
            {
                code = code.TrimStart('\n');
            }
            else
            {
                code = code.TrimStart();
            }

            string? language = fenced is null ? null : LanguageOf(fenced);
            if (code.Length == 0)
            {
                return;
            }

            if (TokenEstimator.Estimate(code) <= Limits.Max)
            {
                sink.Emit(ChunkType.Code, language, code, _breadcrumbs);
                return;
            }

            foreach (string piece in CodeSplitter.Split(code, fenced, language, Limits.Max))
            {
                sink.Emit(ChunkType.Code, language, piece, _breadcrumbs);
            }
        }

        private void AddTable(string table)
        {
            if (table.Length == 0)
            {
                return;
            }

            if (TokenEstimator.Estimate(table) <= Limits.Max)
            {
                sink.Emit(ChunkType.Table, null, table, _breadcrumbs);
                return;
            }

            foreach (string piece in TableSplitter.Split(table, Limits.Max))
            {
                sink.Emit(ChunkType.Table, null, piece, _breadcrumbs);
            }
        }

        private void AddQuote(string quote)
        {
            if (quote.Length == 0)
            {
                return;
            }

            if (TokenEstimator.Estimate(quote) <= Limits.Max)
            {
                sink.Emit(ChunkType.Quote, null, quote, _breadcrumbs);
                return;
            }

            foreach (string piece in QuoteSplitter.Split(quote, Limits.Max))
            {
                sink.Emit(ChunkType.Quote, null, piece, _breadcrumbs);
            }
        }

        /// <summary>
        /// The source range [start, end) of <c>parent[index]</c>: from the start of its line (when only indentation
        /// precedes it) to its end, extended to the last line of an unclosed fence, and clipped so that it never runs
        /// into the next sibling (Markdig keeps the whole span on a paragraph that a following table took lines from).
        /// </summary>
        private (int Start, int End) BlockRange(ContainerBlock parent, int index, int limit)
        {
            Block block = parent[index];
            int start = block.Span.Start;
            if (start < 0 || start >= source.Length)
            {
                return (0, 0);
            }

            int end = Math.Max(block.Span.End + 1, start);
            if (block is FencedCodeBlock { ClosingFencedCharCount: 0 } open && open.Lines.Count > 0 && open.Lines.Lines is { } lines)
            {
                end = Math.Max(end, lines[open.Lines.Count - 1].Slice.End + 1);
            }

            for (int j = index + 1; j < parent.Count; j++)
            {
                Block next = parent[j];
                if (next is LinkReferenceDefinitionGroup || next.Span.Start <= start)
                {
                    continue;
                }

                end = Math.Min(end, LineStart(next.Span.Start));
                break;
            }

            return (LineStart(start), Math.Min(end, Math.Min(limit, source.Length)));
        }

        /// <summary>The start of <paramref name="position"/>'s line when only spaces/tabs precede it there; otherwise the position itself.</summary>
        private int LineStart(int position)
        {
            int i = Math.Min(position, source.Length);
            while (i > 0 && source[i - 1] is ' ' or '\t')
            {
                i--;
            }

            return i == 0 || source[i - 1] == '\n' ? i : position;
        }
    }

    private static string? LanguageOf(FencedCodeBlock fenced)
    {
        string? info = fenced.Info;
        if (string.IsNullOrWhiteSpace(info))
        {
            return null;
        }

        info = info.Trim();
        int space = info.IndexOfAny([' ', '\t']);
        if (space > 0)
        {
            info = info[..space];
        }

        return info.ToLowerInvariant();
    }

    /// <summary>The images of a paragraph made only of images (optionally each wrapped in a link) and whitespace; empty otherwise.</summary>
    private static List<LinkInline> ImageOnly(ParagraphBlock paragraph)
    {
        var images = new List<LinkInline>();
        if (paragraph.Inline is null || !CollectImages(paragraph.Inline, images, allowLink: true))
        {
            images.Clear();
        }

        return images;
    }

    private static bool CollectImages(ContainerInline container, List<LinkInline> images, bool allowLink)
    {
        foreach (Inline inline in container)
        {
            switch (inline)
            {
                case LinkInline { IsImage: true } image:
                    images.Add(image);
                    break;
                case LinkInline link when allowLink:
                    int before = images.Count;
                    if (!CollectImages(link, images, allowLink: false) || images.Count == before)
                    {
                        return false;
                    }

                    break;
                case LiteralInline literal when literal.Content.IsEmptyOrWhitespace():
                case LineBreakInline:
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static bool HasVisibleText(HtmlBlock html, ReadOnlySpan<char> text)
    {
        if (html.Type is HtmlBlockType.Comment or HtmlBlockType.CData or HtmlBlockType.ProcessingInstruction or HtmlBlockType.DocumentType)
        {
            return false;
        }

        ReadOnlySpan<char> trimmed = text.TrimStart();
        if (trimmed.StartsWith("<script", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("<style", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        bool inTag = false;
        foreach (char c in text)
        {
            if (c == '<')
            {
                inTag = true;
            }
            else if (c == '>')
            {
                inTag = false;
            }
            else if (!inTag && !char.IsWhiteSpace(c))
            {
                return true;
            }
        }

        return false;
    }
}
