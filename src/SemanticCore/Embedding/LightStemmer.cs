namespace SemanticCore.Embedding;

/// <summary>
/// A small English suffix stripper, so that "rotate", "rotated", "rotating" and "rotation" share their word
/// feature (the keyword index does the same with FTS5's porter tokenizer). Not linguistics: just enough
/// that inflections meet; words it does not know stay as they are.
/// </summary>
internal static class LightStemmer
{
    public static string Stem(string word)
    {
        if (word.Length <= 3 || !word.All(char.IsAsciiLetterLower)) return word;
        var w = word;
        if (w.EndsWith("ies", StringComparison.Ordinal) && w.Length > 4) w = w[..^3] + "y";
        else if (w.EndsWith("sses", StringComparison.Ordinal)) w = w[..^2];
        else if (w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal) && !w.EndsWith("us", StringComparison.Ordinal)) w = w[..^1];

        foreach (var (suffix, replacement) in Suffixes)
        {
            if (w.Length - suffix.Length >= 3 && w.EndsWith(suffix, StringComparison.Ordinal))
            {
                w = w[..^suffix.Length] + replacement;
                break;
            }
        }

        // "rotate" and "rotat(ion)" meet without the final e.
        return w.Length > 3 && w.EndsWith('e') ? w[..^1] : w;
    }

    private static readonly (string Suffix, string Replacement)[] Suffixes =
        [("ational", "at"), ("ation", "at"), ("ment", ""), ("ness", ""), ("ing", ""), ("ed", ""), ("ly", ""), ("er", "")];
}
