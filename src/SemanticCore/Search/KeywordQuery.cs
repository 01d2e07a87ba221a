using System.Globalization;
using System.Text;

namespace SemanticCore.Search;

/// <summary>
/// Turns what a user typed into the words a keyword search looks for: runs of letters, digits and
/// combining marks, as FTS5's unicode61 tokenizer sees them. Operators, quotes, '*', '-', ':' and
/// parentheses in the text are separators, never syntax: each store quotes the words in its own
/// syntax, and BM25 then ranks chunks that hold more (and rarer) words higher.
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
