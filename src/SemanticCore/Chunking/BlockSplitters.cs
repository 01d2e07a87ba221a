using System.Text;
using Markdig.Syntax;

namespace SemanticCore.Chunking;

/// <summary>Splits an oversized code block on line boundaries; every piece is re-fenced like the original.</summary>
internal static class CodeSplitter
{
    /// <param name="code">The block's source: fences included for fenced code, indentation included for indented code.</param>
    public static List<string> Split(string code, FencedCodeBlock? fenced, string? language, int maxTokens)
    {
        string[] lines = code.Split('\n');
        string? open = null;
        string? close = null;
        int bodyStart = 0;
        int bodyEnd = lines.Length;
        int overhead = 0;
        if (fenced is not null)
        {
            string fence = new(fenced.FencedChar, Math.Max(3, fenced.OpeningFencedCharCount));
            open = lines[0].Trim();
            bodyStart = 1;
            close = fence;
            if (fenced.ClosingFencedCharCount > 0 && lines.Length > 1)
            {
                close = lines[^1].Trim();
                bodyEnd = lines.Length - 1;
            }

            overhead = TokenEstimator.Estimate(open) + TokenEstimator.Estimate(close) + 2;
            if (overhead > maxTokens / 4)
            {
                // An absurd info string: re-fence with just the language.
                open = fence + (language ?? string.Empty);
                close = fence;
                overhead = TokenEstimator.Estimate(open) + TokenEstimator.Estimate(close) + 2;
                if (overhead > maxTokens / 4)
                {
                    open = close = null;
                    overhead = 0;
                }
            }
        }

        if (bodyEnd <= bodyStart)
        {
            return TextSplitter.HardSplit(code, maxTokens);
        }

        int budget = maxTokens - overhead;
        var items = new List<string>(bodyEnd - bodyStart);
        var costs = new List<int>(bodyEnd - bodyStart);
        for (int i = bodyStart; i < bodyEnd; i++)
        {
            int cost = TokenEstimator.Estimate(lines[i]);
            if (cost <= budget)
            {
                items.Add(lines[i]);
                costs.Add(cost);
                continue;
            }

            // A single over-long line (minified code, data): hard-split into consecutive parts.
            foreach (string part in TextSplitter.HardSplit(lines[i], budget))
            {
                items.Add(part);
                costs.Add(TokenEstimator.Estimate(part));
            }
        }

        var pieces = new List<string>();
        foreach ((int start, int count) in TextSplitter.Pack(costs, 1, budget, balanced: true))
        {
            string body = TextSplitter.JoinRange(items, "\n", start, count);
            if (string.IsNullOrWhiteSpace(body))
            {
                continue;
            }

            if (open is null || close is null)
            {
                pieces.Add(fenced is null ? TrimBlankLines(body) : body.Trim());
            }
            else
            {
                pieces.Add(string.Concat(open, "\n", body, "\n", close));
            }
        }

        return pieces;
    }

    /// <summary>Drops leading blank lines and trailing whitespace but keeps the first line's indentation.</summary>
    private static string TrimBlankLines(string body)
    {
        body = body.TrimEnd();
        int start = 0;
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] == '\n')
            {
                start = i + 1;
            }
            else if (!char.IsWhiteSpace(body[i]))
            {
                break;
            }
        }

        return body[start..];
    }
}

/// <summary>Splits an oversized pipe or grid table on row boundaries, repeating the header (and delimiter) rows in every piece.</summary>
internal static class TableSplitter
{
    public static List<string> Split(string table, int maxTokens)
    {
        string[] lines = table.Split('\n');
        var header = new List<string>();
        var rows = new List<string>();
        if (lines[0].TrimStart().StartsWith('+'))
        {
            // Grid table: the header ends with the "+===+" line; a row ends with each "+---+" line.
            int separator = Array.FindIndex(lines, 1, l => l.TrimStart().StartsWith("+=", StringComparison.Ordinal));
            int first = separator > 0 ? separator + 1 : 1;
            header.AddRange(lines.AsSpan(0, first).ToArray());
            var row = new StringBuilder();
            for (int i = first; i < lines.Length; i++)
            {
                if (row.Length > 0)
                {
                    row.Append('\n');
                }

                row.Append(lines[i]);
                if (lines[i].TrimStart().StartsWith('+'))
                {
                    rows.Add(row.ToString());
                    row.Clear();
                }
            }

            if (row.Length > 0)
            {
                rows.Add(row.ToString());
            }
        }
        else
        {
            int first = lines.Length >= 2 && IsDelimiterRow(lines[1]) ? 2 : 0;
            header.AddRange(lines.AsSpan(0, first).ToArray());
            rows.AddRange(lines.AsSpan(first).ToArray());
        }

        string headerText = string.Join('\n', header);
        int budget = maxTokens - TokenEstimator.Estimate(headerText) - 1;
        if (header.Count == 0 || budget < maxTokens / 4)
        {
            // No header, or one so large that repeating it would leave no room: plain row pieces.
            headerText = string.Empty;
            budget = maxTokens;
        }

        var items = new List<string>(rows.Count);
        var costs = new List<int>(rows.Count);
        foreach (string row in rows)
        {
            if (string.IsNullOrWhiteSpace(row))
            {
                continue;
            }

            int cost = TokenEstimator.Estimate(row);
            if (cost <= budget)
            {
                items.Add(row);
                costs.Add(cost);
                continue;
            }

            foreach (string part in TextSplitter.Split(row, budget, budget))
            {
                items.Add(part);
                costs.Add(TokenEstimator.Estimate(part));
            }
        }

        var pieces = new List<string>();
        foreach ((int start, int count) in TextSplitter.Pack(costs, 1, budget, balanced: true))
        {
            string body = TextSplitter.JoinRange(items, "\n", start, count);
            pieces.Add(headerText.Length == 0 ? body : string.Concat(headerText, "\n", body));
        }

        return pieces;
    }

    private static bool IsDelimiterRow(string line)
    {
        bool dash = false;
        foreach (char c in line)
        {
            if (c == '-')
            {
                dash = true;
            }
            else if (c is not ('|' or ':' or ' ' or '\t' or '+'))
            {
                return false;
            }
        }

        return dash;
    }
}

/// <summary>Splits an oversized block quote on its paragraphs (blank quote lines); an oversized paragraph is split as text and re-quoted.</summary>
internal static class QuoteSplitter
{
    private const string ParagraphSeparator = "\n>\n";

    public static List<string> Split(string quote, int maxTokens)
    {
        string[] lines = quote.Split('\n');
        var units = new List<string>();
        var costs = new List<int>();
        int paragraphStart = -1;
        for (int i = 0; i <= lines.Length; i++)
        {
            bool blank = i == lines.Length || IsBlankQuoteLine(lines[i]);
            if (!blank)
            {
                if (paragraphStart < 0)
                {
                    paragraphStart = i;
                }

                continue;
            }

            if (paragraphStart >= 0)
            {
                AddParagraph(lines.AsSpan(paragraphStart, i - paragraphStart), maxTokens, units, costs);
                paragraphStart = -1;
            }
        }

        var pieces = new List<string>();
        foreach ((int start, int count) in TextSplitter.Pack(costs, TokenEstimator.Estimate(ParagraphSeparator), maxTokens, balanced: true))
        {
            pieces.Add(TextSplitter.JoinRange(units, ParagraphSeparator, start, count));
        }

        return pieces;
    }

    private static void AddParagraph(ReadOnlySpan<string> lines, int maxTokens, List<string> units, List<int> costs)
    {
        string text = string.Join('\n', lines.ToArray());
        int cost = TokenEstimator.Estimate(text);
        if (cost <= maxTokens)
        {
            units.Add(text);
            costs.Add(cost);
            return;
        }

        // Re-flow the paragraph onto one line per piece, each quoted again: "> " costs exactly one token.
        var flat = new StringBuilder();
        foreach (string line in lines)
        {
            if (flat.Length > 0)
            {
                flat.Append(' ');
            }

            flat.Append(StripMarker(line).Trim());
        }

        foreach (string piece in TextSplitter.Split(flat.ToString(), maxTokens - 1, maxTokens - 1))
        {
            string quoted = "> " + piece;
            units.Add(quoted);
            costs.Add(TokenEstimator.Estimate(quoted));
        }
    }

    private static string StripMarker(string line)
    {
        string t = line.TrimStart();
        if (t.StartsWith('>'))
        {
            t = t[1..];
            if (t.StartsWith(' '))
            {
                t = t[1..];
            }
        }

        return t;
    }

    /// <summary>True when the line holds nothing but quote markers and whitespace.</summary>
    private static bool IsBlankQuoteLine(string line)
    {
        foreach (char c in line)
        {
            if (c != '>' && !char.IsWhiteSpace(c))
            {
                return false;
            }
        }

        return true;
    }
}
