using Markdig.Parsers;
using Markdig.Syntax;

namespace SemanticCore.Chunking;

/// <summary>Markdown the parser would take far too long over: refused before it is parsed (the message says why).</summary>
public sealed class MarkdownTooComplexException(string message) : Exception(message);

/// <summary>
/// Bounds the work Markdig does on hostile Markdown. Markdig can't be stopped once it parses, and some of its work grows
/// with the square of the input: each unclosed inline link ("[a](" repeated, no spaces) scans to the end of the line,
/// and each link reference definition copies the rest of its paragraph. 400 KB of either took minutes, and a 64 MiB
/// file would take days. Both are measured here first, in one linear pass, and refused past a budget no real document
/// comes near.
/// </summary>
internal static class MarkdownLimits
{
    /// <summary>
    /// Characters the inline-link scans may cover beyond the document's own length (which is what links that close
    /// cost at most): about a tenth of a second of Markdig's work.
    /// </summary>
    internal const long LinkScanAllowance = 10_000_000;

    /// <summary>Link reference definitions times the lines of their paragraph, summed over paragraphs (a second or so).</summary>
    internal const long DefinitionWorkBudget = 100_000_000;

    /// <exception cref="MarkdownTooComplexException">The inline links or the link definitions would cost past their budget.</exception>
    public static void Check(string source)
    {
        if (LinkScan(source, 2L * source.Length + LinkScanAllowance) is { } scanned)
        {
            throw new MarkdownTooComplexException(
                $"has inline links that never close (\"](\" followed by {scanned:N0}+ characters without a space or a closing parenthesis), which the Markdown parser would take far too long over.");
        }

        if (DefinitionWork(source) is { } definitions)
        {
            throw new MarkdownTooComplexException(
                $"has {definitions:N0} link reference definitions in paragraphs too long for the Markdown parser to read them in reasonable time; separate them with blank lines.");
        }
    }

    /// <summary>
    /// What Markdig's inline-link destination scans cover: from each "](" to the first space or control character, or to
    /// the parenthesis that closes it. Null within <paramref name="budget"/>, else how far it got (the work stops there).
    /// </summary>
    private static long? LinkScan(string source, long budget)
    {
        long total = 0;
        for (var i = source.IndexOf("](", StringComparison.Ordinal); i >= 0; i = source.IndexOf("](", i + 1, StringComparison.Ordinal))
        {
            var depth = 0;
            var j = i + 2;
            while (j < source.Length)
            {
                var c = source[j];
                if (char.IsWhiteSpace(c) || char.IsControl(c)) break;
                if (c == '\\')
                {
                    j += 2;
                    continue;
                }

                if (c == '(') depth++;
                else if (c == ')' && --depth < 0) break;
                j++;
            }

            total += j - i;
            if (total > budget) return total;
        }

        return null;
    }

    /// <summary>
    /// Lines that begin a link reference definition ("[label]:"), times the lines of their paragraph, summed over the
    /// paragraphs (runs of non-blank lines); null within <see cref="DefinitionWorkBudget"/>, else the definitions counted.
    /// </summary>
    private static long? DefinitionWork(string source)
    {
        long work = 0, definitions = 0, runDefinitions = 0, runLines = 0;
        var start = 0;
        while (start <= source.Length)
        {
            var end = source.IndexOf('\n', start);
            if (end < 0) end = source.Length;
            var line = source.AsSpan(start, end - start);
            if (line.IsWhiteSpace())
            {
                work += runDefinitions * runLines;
                runDefinitions = runLines = 0;
            }
            else
            {
                runLines++;
                if (BeginsDefinition(line))
                {
                    runDefinitions++;
                    definitions++;
                }
            }

            if (work + runDefinitions * runLines > DefinitionWorkBudget) return definitions;
            start = end + 1;
        }

        return null;
    }

    /// <summary>"[label]:" after up to three spaces (and any quote markers), the label without a "]" of its own.</summary>
    private static bool BeginsDefinition(ReadOnlySpan<char> line)
    {
        line = line.TrimStart(" \t>");
        if (line.Length < 4 || line[0] != '[') return false;
        var close = line.IndexOf(']');
        return close > 1 && close + 1 < line.Length && line[close + 1] == ':';
    }
}

/// <summary>
/// Refuses nesting past the parser's depth limit as soon as a line would nest deeper. Markdig checks its limit only
/// after the whole document is parsed, and each line costs it the square of the depth: 2,000 nested list items (4 MB)
/// took 45 s to be refused. Tried before every parser that opens a container (lists, quotes, definition lists), it
/// only counts and lets them try.
/// </summary>
internal sealed class NestingGuard : BlockParser
{
    private readonly int limit;

    /// <param name="limit">The pipeline's MaximumNestingDepth: Markdig refuses a document with a container this deep.</param>
    public NestingGuard(int limit)
    {
        this.limit = limit;
        OpeningCharacters = ['>', '-', '+', '*', ':', '~', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    }

    public override BlockState TryOpen(BlockProcessor processor)
    {
        // The current container and its parents up to the document: the containers Markdig will stack to reach it.
        var depth = 0;
        for (Block? block = processor.CurrentContainer; block is not null; block = block.Parent)
        {
            // Past the limit, Markdig would refuse the document anyway once parsed: say so now, with its words.
            if (++depth > limit) throw new ArgumentException("Markdown elements in the input are too deeply nested - depth limit exceeded.");
        }

        return BlockState.None;
    }
}
