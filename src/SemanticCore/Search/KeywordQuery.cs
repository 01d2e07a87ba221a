using System.Globalization;
using System.Text;

namespace SemanticCore.Search;

/// <summary>
/// Turns what a user typed into an FTS5 query that cannot be a syntax error: the words of the text
/// (runs of letters, digits and combining marks, as FTS5's unicode61 tokenizer sees them), each
/// quoted as a string, joined with OR. Operators, quotes, '*', '-', ':' and parentheses in the text
/// are separators, never syntax; BM25 then ranks chunks that hold more (and rarer) words higher.
/// </summary>
public static class KeywordQuery
{
    /// <summary>More words than this add nothing to the ranking but time: a pasted page is cut here.</summary>
    public const int MaxWords = 64;

    /// <summary>The distinct words of <paramref name="text"/> (lower-cased, in order, at most <see cref="MaxWords"/>).</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var words = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsWordRune(rune))
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
                continue;
            }

            if (!Add(words, seen, word)) break;
        }

        Add(words, seen, word);
        return words;
    }

    /// <summary>The FTS5 MATCH expression, or null when the text has no words.</summary>
    public static string? ToMatchExpression(string text)
    {
        var words = Words(text);
        // A word holds no '"' (it is a separator), so quoting it needs no escaping.
        return words.Count == 0 ? null : string.Join(" OR ", words.Select(w => "\"" + w + "\""));
    }

    private static bool Add(List<string> words, HashSet<string> seen, StringBuilder word)
    {
        if (word.Length == 0) return words.Count < MaxWords;
        var text = word.ToString();
        word.Clear();
        if (seen.Add(text)) words.Add(text);
        return words.Count < MaxWords;
    }

    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.PrivateUse => true,
        _ => false,
    };
}
