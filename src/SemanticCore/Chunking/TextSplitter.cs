using System.Text;

namespace SemanticCore.Chunking;

/// <summary>Splits oversized text and packs line-like items; every piece it returns is within the given token budget.</summary>
internal static class TextSplitter
{
    private enum Level
    {
        Sentence,
        Line,
        Word,
        Hard,
    }

    /// <summary>
    /// Splits <paramref name="text"/> into trimmed, non-empty pieces of at most <paramref name="targetTokens"/> (itself
    /// clamped to <paramref name="maxTokens"/>) estimated tokens: on sentence boundaries (and blank lines), then line
    /// breaks, then whitespace, then hard (never inside a surrogate pair); consecutive sentences are packed together
    /// while they stay within the target.
    /// Only whitespace at the cut points is lost.
    /// </summary>
    public static List<string> Split(string text, int maxTokens, int targetTokens)
    {
        var pieces = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return pieces;
        }

        maxTokens = Math.Max(1, maxTokens);
        targetTokens = Math.Clamp(targetTokens, 1, maxTokens);

        // 1. Atoms: contiguous ranges covering the text, each within targetTokens on its own (so a long multi-line
        //    "sentence" is cut at line breaks rather than becoming one near-maximum piece).
        var atomEnds = new List<int>();
        Atomize(text, 0, text.Length, Level.Sentence, targetTokens, atomEnds);

        // 2. Pack consecutive atoms while the (exactly re-counted) piece stays within targetTokens.
        //    A piece always takes its first atom, which is within targetTokens <= maxTokens by construction.
        int pieceStart = 0;
        int next = 0;
        while (next < atomEnds.Count)
        {
            var counter = new TokenCounter();
            int position = pieceStart;
            int lastFitting = next;
            for (int k = next; k < atomEnds.Count; k++)
            {
                counter.Add(text.AsSpan(position, atomEnds[k] - position));
                position = atomEnds[k];
                if (k > next && counter.Total > targetTokens)
                {
                    break; // the estimate is monotonic: no later atom can fit either
                }

                lastFitting = k;
            }

            int pieceEnd = atomEnds[lastFitting];
            string piece = text[pieceStart..pieceEnd].Trim();
            if (piece.Length > 0)
            {
                pieces.Add(piece);
            }

            pieceStart = pieceEnd;
            next = lastFitting + 1;
        }

        return pieces;
    }

    /// <summary>Cuts <paramref name="text"/> into consecutive parts of at most <paramref name="maxTokens"/> each, at any character (whitespace included, nothing trimmed).</summary>
    public static List<string> HardSplit(string text, int maxTokens)
    {
        var parts = new List<string>();
        int position = 0;
        while (position < text.Length)
        {
            int n = TokenEstimator.FitPrefix(text.AsSpan(position), maxTokens);
            parts.Add(text.Substring(position, n));
            position += n;
        }

        return parts;
    }

    /// <summary>
    /// Greedily packs consecutive items (joined by a separator costing <paramref name="separatorTokens"/>) into groups
    /// whose summed cost stays within <paramref name="budgetTokens"/>. When <paramref name="balanced"/>, the groups aim
    /// at an even size (so a split does not leave a tiny tail) but never exceed the budget. Every item must fit alone.
    /// </summary>
    public static List<(int Start, int Count)> Pack(IReadOnlyList<int> costs, int separatorTokens, int budgetTokens, bool balanced)
    {
        var groups = new List<(int, int)>();
        if (costs.Count == 0)
        {
            return groups;
        }

        int limit = budgetTokens;
        if (balanced)
        {
            long total = -separatorTokens;
            foreach (int cost in costs)
            {
                total += cost + separatorTokens;
            }

            long parts = Math.Max(1, (total + budgetTokens - 1) / budgetTokens);
            long even = (total + parts - 1) / parts;
            limit = (int)Math.Min(budgetTokens, even + even / 10 + 1);
        }

        int start = 0;
        int sum = costs[0];
        for (int i = 1; i < costs.Count; i++)
        {
            int add = separatorTokens + costs[i];
            if (sum + add > limit)
            {
                groups.Add((start, i - start));
                start = i;
                sum = costs[i];
            }
            else
            {
                sum += add;
            }
        }

        groups.Add((start, costs.Count - start));
        return groups;
    }

    /// <summary>Joins <paramref name="count"/> items from <paramref name="start"/> with <paramref name="separator"/>.</summary>
    public static string JoinRange(List<string> items, string separator, int start, int count)
    {
        if (count == 1)
        {
            return items[start];
        }

        var sb = new StringBuilder();
        for (int i = start; i < start + count; i++)
        {
            if (i > start)
            {
                sb.Append(separator);
            }

            sb.Append(items[i]);
        }

        return sb.ToString();
    }

    private static void Atomize(string text, int start, int end, Level level, int maxTokens, List<int> atomEnds)
    {
        if (end <= start)
        {
            return;
        }

        if (TokenEstimator.Estimate(text.AsSpan(start, end - start)) <= maxTokens)
        {
            atomEnds.Add(end);
            return;
        }

        if (level == Level.Hard)
        {
            int position = start;
            while (position < end)
            {
                position += TokenEstimator.FitPrefix(text.AsSpan(position, end - position), maxTokens);
                atomEnds.Add(position);
            }

            return;
        }

        int segmentStart = start;
        foreach (int boundary in Boundaries(text, start, end, level))
        {
            Atomize(text, segmentStart, boundary, level + 1, maxTokens, atomEnds);
            segmentStart = boundary;
        }

        Atomize(text, segmentStart, end, level + 1, maxTokens, atomEnds);
    }

    /// <summary>Cut positions strictly inside (start, end); each segment keeps its trailing whitespace.</summary>
    private static IEnumerable<int> Boundaries(string text, int start, int end, Level level)
    {
        int last = start;
        for (int i = start; i < end; i++)
        {
            char c = text[i];
            int cut = -1;
            switch (level)
            {
                case Level.Sentence:
                    if (c is '.' or '!' or '?' or '\u2026')
                    {
                        int j = SkipClosers(text, i + 1, end);
                        if (j < end && char.IsWhiteSpace(text[j]))
                        {
                            cut = SkipWhiteSpace(text, j, end);
                        }
                    }
                    else if (c is '\u3002' or '\uFF01' or '\uFF1F' or '\uFF0E')
                    {
                        cut = SkipWhiteSpace(text, SkipClosers(text, i + 1, end), end);
                    }
                    else if (c == '\n')
                    {
                        int j = i + 1;
                        while (j < end && text[j] is ' ' or '\t')
                        {
                            j++;
                        }

                        if (j < end && text[j] == '\n')
                        {
                            cut = SkipWhiteSpace(text, j, end);
                        }
                    }

                    break;
                case Level.Line:
                    if (c == '\n')
                    {
                        cut = i + 1;
                    }

                    break;
                case Level.Word:
                    if (char.IsWhiteSpace(c))
                    {
                        cut = SkipWhiteSpace(text, i, end);
                    }

                    break;
            }

            if (cut > last && cut < end)
            {
                yield return cut;
                last = cut;
                i = cut - 1;
            }
        }
    }

    private static int SkipClosers(string text, int i, int end)
    {
        while (i < end && text[i] is '"' or '\'' or ')' or ']' or '*' or '_' or '`' or '\u201D' or '\u2019' or '\u00BB'
                   or '\u300D' or '\u300F' or '\uFF09' or '\u3011' or '\u3009' or '\u300B')
        {
            i++;
        }

        return i;
    }

    private static int SkipWhiteSpace(string text, int i, int end)
    {
        while (i < end && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i;
    }
}
