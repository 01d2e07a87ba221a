using System.Text;
using SemanticCore.Model;

namespace SemanticCore.Chunking;

/// <summary>Builds and sanitises the exact text sent to the embedding model.</summary>
public static class VectorText
{
    /// <summary>Longest language name put in a <c>Code (…):</c> label.</summary>
    internal const int MaxLanguageLength = 32;

    private const string Ellipsis = "\u2026";

    /// <summary>
    /// Removes characters embedding APIs reject: C0 controls except \n and \t (\r\n and \r become \n),
    /// DEL, C1 controls (U+0080..U+009F), U+FFFE/U+FFFF, unpaired surrogates, and NUL. Keeps all other Unicode
    /// (CJK, emoji, Cyrillic). Returns the same instance when there is nothing to remove.
    /// </summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        int i = 0;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            if (c == '\r' || char.IsSurrogate(c) || IsRejected(c))
            {
                break;
            }
        }

        if (i == text.Length)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        sb.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\r')
            {
                sb.Append('\n');
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                continue;
            }

            if (char.IsHighSurrogate(c))
            {
                if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    sb.Append(c).Append(text[i + 1]);
                    i++;
                }

                continue;
            }

            if (char.IsLowSurrogate(c) || IsRejected(c))
            {
                continue;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    /// <summary>
    /// Builds the exact text sent for embedding, e.g.
    /// <c>"Title: {title}\nSection: {A &gt; B &gt; C}\n{Code (python):|Table:|Quote:|Image:}\n\n{content}"</c>,
    /// then <see cref="Clean"/>s it.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>Empty lines are omitted; with no context at all the result is just the content.</item>
    /// <item>Title and breadcrumbs are flattened to one line each (whitespace runs become one space). When the first
    /// breadcrumb equals the title (the usual H1 case) it is not repeated in the <c>Section:</c> line.</item>
    /// <item>The context (everything before the blank line, label included) is capped at
    /// <see cref="ChunkingOptions.MaxContextTokens"/> estimated tokens (at most 1,024): the type label is kept first,
    /// then the title (truncated with "…" if it would crowd out the section), then the section (leading breadcrumbs
    /// are replaced by "…" first, then the line is truncated). Languages are cut to 32 characters.</item>
    /// <item>The estimate of the result is therefore at most <c>MaxContextTokens + 2 + Estimate(content)</c>.</item>
    /// </list>
    /// </remarks>
    public static string Build(string title, IReadOnlyList<string> breadcrumbs, ChunkType type, string? language, string content, ChunkingOptions options)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(breadcrumbs);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);

        string context = BuildContext(title, breadcrumbs, type, language, ChunkLimits.ContextBudget(options));
        string text = context.Length == 0 ? content
            : content.Length == 0 ? context
            : string.Concat(context, "\n\n", content);
        return Clean(text);
    }

    /// <summary>The type label line (without newline), or "" for text.</summary>
    internal static string Label(ChunkType type, string? language) => type switch
    {
        ChunkType.Code => SanitizeLanguage(language) is { Length: > 0 } lang ? $"Code ({lang}):" : "Code:",
        ChunkType.Table => "Table:",
        ChunkType.Quote => "Quote:",
        ChunkType.ImageRef => "Image:",
        _ => string.Empty,
    };

    /// <summary>Collapses every whitespace/control run to one space, drops rejected characters and trims.</summary>
    internal static string SingleLine(string text)
    {
        text = Clean(text);
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static string? SanitizeLanguage(string? language)
    {
        if (string.IsNullOrWhiteSpace(language))
        {
            return null;
        }

        string lang = SingleLine(language).Replace(' ', '-');
        if (lang.Length > MaxLanguageLength)
        {
            int cut = MaxLanguageLength;
            if (char.IsHighSurrogate(lang[cut - 1]))
            {
                cut--;
            }

            lang = lang[..cut];
        }

        return lang.Length == 0 ? null : lang;
    }

    private static string BuildContext(string title, IReadOnlyList<string> breadcrumbs, ChunkType type, string? language, int budget)
    {
        string label = Label(type, language);
        string cleanTitle = SingleLine(title);
        var crumbs = new List<string>(breadcrumbs.Count);
        foreach (string crumb in breadcrumbs)
        {
            if (crumb is null)
            {
                continue;
            }

            string c = SingleLine(crumb);
            if (c.Length > 0)
            {
                crumbs.Add(c);
            }
        }

        if (crumbs.Count > 0 && string.Equals(crumbs[0], cleanTitle, StringComparison.Ordinal))
        {
            crumbs.RemoveAt(0);
        }

        string titleLine = cleanTitle.Length > 0 ? "Title: " + cleanTitle : string.Empty;
        string sectionLine = crumbs.Count > 0 ? "Section: " + string.Join(" > ", crumbs) : string.Empty;

        int labelCost = TokenEstimator.Estimate(label);
        int titleCost = TokenEstimator.Estimate(titleLine);
        int sectionCost = TokenEstimator.Estimate(sectionLine);
        int lineCount = (label.Length > 0 ? 1 : 0) + (titleLine.Length > 0 ? 1 : 0) + (sectionLine.Length > 0 ? 1 : 0);
        if (lineCount == 0)
        {
            return string.Empty;
        }

        if (labelCost + titleCost + sectionCost + lineCount - 1 <= budget)
        {
            return Join(titleLine, sectionLine, label);
        }

        // Over budget: the label first (short, says what the content is), then title, then section.
        int remaining = budget;
        bool haveLine = false;
        if (label.Length > 0 && labelCost <= remaining)
        {
            remaining -= labelCost;
            haveLine = true;
        }
        else
        {
            label = string.Empty;
        }

        if (titleLine.Length > 0)
        {
            int available = remaining - (haveLine ? 1 : 0);
            int sectionNeed = sectionLine.Length > 0 ? sectionCost + 1 : 0;
            int titleBudget = Math.Min(titleCost, Math.Max(available - sectionNeed, available / 2));
            titleLine = FitLine(titleLine, titleBudget, "Title: ".Length) ?? string.Empty;
            if (titleLine.Length > 0)
            {
                remaining = available - TokenEstimator.Estimate(titleLine);
                haveLine = true;
            }
        }

        if (sectionLine.Length > 0)
        {
            int available = remaining - (haveLine ? 1 : 0);
            sectionLine = FitSection(crumbs, available) ?? string.Empty;
        }

        return Join(titleLine, sectionLine, label);
    }

    private static string? FitSection(List<string> crumbs, int budget)
    {
        const string prefix = "Section: ";
        var sb = new StringBuilder();
        // Drop leading breadcrumbs (the deepest section says most) until the line fits.
        for (int skip = 0; skip < crumbs.Count; skip++)
        {
            sb.Clear().Append(prefix);
            if (skip > 0)
            {
                sb.Append(Ellipsis).Append(" > ");
            }

            for (int i = skip; i < crumbs.Count; i++)
            {
                if (i > skip)
                {
                    sb.Append(" > ");
                }

                sb.Append(crumbs[i]);
            }

            string candidate = sb.ToString();
            if (TokenEstimator.Estimate(candidate) <= budget)
            {
                return candidate;
            }

            if (skip == crumbs.Count - 1)
            {
                return FitLine(candidate, budget, skip > 0 ? prefix.Length + 4 : prefix.Length);
            }
        }

        return null;
    }

    /// <summary>Truncates <paramref name="line"/> to the budget with a trailing "…"; null when nothing after <paramref name="keepLength"/> characters fits.</summary>
    private static string? FitLine(string line, int budget, int keepLength)
    {
        if (TokenEstimator.Estimate(line) <= budget)
        {
            return line;
        }

        if (budget < 2)
        {
            return null;
        }

        // "…" is one token and ends any run, so Estimate(prefix + "…") == Estimate(prefix) + 1.
        int n = TokenEstimator.FitPrefix(line, budget - 1);
        string prefix = line[..n].TrimEnd();
        if (prefix.Length <= keepLength || TokenEstimator.Estimate(prefix) > budget - 1)
        {
            return null;
        }

        return prefix + Ellipsis;
    }

    private static string Join(string a, string b, string c)
    {
        var sb = new StringBuilder(a.Length + b.Length + c.Length + 2);
        foreach (string line in (ReadOnlySpan<string>)[a, b, c])
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append('\n');
            }

            sb.Append(line);
        }

        return sb.ToString();
    }

    private static bool IsRejected(char c) =>
        c < '\u0020' ? c != '\n' && c != '\t'
        : c is >= '\u007F' and <= '\u009F' or '\uFFFE' or '\uFFFF';
}
