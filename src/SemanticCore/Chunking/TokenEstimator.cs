using System.Globalization;

namespace SemanticCore.Chunking;

/// <summary>
/// A conservative (over-)estimate of how many tokens Gemini's tokenizer produces for a text, without the tokenizer.
/// </summary>
/// <remarks>
/// Rules (one O(n) pass, no allocation):
/// <list type="bullet">
/// <item>A run of ASCII letters costs one token per started 4 letters; a lower-to-upper case change starts a new run
/// (<c>camelCase</c>, base64), so ordinary English comes out at about one token per 3.5–4 characters.</item>
/// <item>Every ASCII digit, punctuation mark, symbol, tab, newline and control character costs 1 (digits are split one
/// by one by Gemini's tokenizer).</item>
/// <item>A single space is free (it belongs to the next word); a run of 2+ spaces costs one per started 4.</item>
/// <item>A run of other letters and combining marks below U+0800 (accented Latin, Greek, Cyrillic, Armenian, Hebrew,
/// Arabic, ...) costs one per started 2 characters; other characters below U+0800 cost 1.</item>
/// <item>Every other BMP character (CJK ideographs, kana, Hangul, Indic and South-East Asian scripts, typographic
/// punctuation, joiners and variation selectors) costs 1.</item>
/// <item>Every astral-plane character (emoji, rare ideographs) costs 2, as does an unpaired surrogate.</item>
/// </list>
/// The estimate is monotonic (appending text never lowers it) and additive across newlines: the estimate of
/// <c>a + "\n" + b</c> is exactly <c>Estimate(a) + 1 + Estimate(b)</c>, which lets the chunkers keep running counts.
/// </remarks>
public static class TokenEstimator
{
    /// <summary>A conservative (over-)estimate of Gemini tokens for a text: never under-count.</summary>
    public static int Estimate(ReadOnlySpan<char> text)
    {
        var counter = new TokenCounter();
        counter.Add(text);
        return counter.Total;
    }

    /// <summary>
    /// The length of the longest prefix of <paramref name="text"/> whose estimate is at most <paramref name="maxTokens"/>,
    /// never ending between the two halves of a surrogate pair. Returns at least one character (or pair) of a non-empty
    /// text even when that alone is over the limit, so callers always make progress.
    /// </summary>
    internal static int FitPrefix(ReadOnlySpan<char> text, int maxTokens)
    {
        var counter = new TokenCounter();
        int good = 0;
        for (int i = 0; i < text.Length; i++)
        {
            counter.Add(text[i]);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                continue; // never cut a pair in two
            }

            if (counter.Total > maxTokens)
            {
                break;
            }

            good = i + 1;
        }

        if (good == 0 && text.Length > 0)
        {
            good = text.Length >= 2 && char.IsHighSurrogate(text[0]) && char.IsLowSurrogate(text[1]) ? 2 : 1;
        }

        return good;
    }
}

/// <summary>The incremental state machine behind <see cref="TokenEstimator"/>; <see cref="Total"/> is the estimate of everything added so far.</summary>
internal struct TokenCounter
{
    private int _committed;
    private int _asciiLetters;
    private bool _lastWasLower;
    private int _wideLetters;
    private int _spaces;
    private bool _afterHighSurrogate;

    /// <summary>The estimate of the text added so far (open runs included).</summary>
    public readonly int Total => _committed + AsciiRunCost(_asciiLetters) + WideRunCost(_wideLetters) + SpaceRunCost(_spaces);

    public void Add(ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            Add(c);
        }
    }

    public void Add(char c)
    {
        if (_afterHighSurrogate)
        {
            _afterHighSurrogate = false;
            if (char.IsLowSurrogate(c))
            {
                return; // the pair was paid for with its high half
            }
        }

        if (c < 0x80)
        {
            if ((uint)((c | 0x20) - 'a') <= 'z' - 'a')
            {
                FlushWide();
                FlushSpaces();
                bool lower = c >= 'a';
                if (_asciiLetters > 0 && _lastWasLower && !lower)
                {
                    FlushAscii();
                }

                _asciiLetters++;
                _lastWasLower = lower;
                return;
            }

            FlushAscii();
            FlushWide();
            if (c == ' ')
            {
                _spaces++;
                return;
            }

            FlushSpaces();
            _committed++; // digit, punctuation, symbol, tab, newline, control
            return;
        }

        FlushAscii();
        FlushSpaces();
        if (c < 0x800 && IsLetterOrMark(c))
        {
            _wideLetters++;
            return;
        }

        FlushWide();
        if (char.IsHighSurrogate(c))
        {
            _committed += 2;
            _afterHighSurrogate = true;
            return;
        }

        _committed += char.IsLowSurrogate(c) ? 2 : 1;
    }

    private static bool IsLetterOrMark(char c) =>
        CharUnicodeInfo.GetUnicodeCategory(c) <= UnicodeCategory.EnclosingMark; // Lu Ll Lt Lm Lo Mn Mc Me

    private static int AsciiRunCost(int letters) => (letters + 3) / 4;

    private static int WideRunCost(int letters) => (letters + 1) / 2;

    private static int SpaceRunCost(int spaces) => spaces <= 1 ? 0 : (spaces + 3) / 4;

    private void FlushAscii()
    {
        if (_asciiLetters > 0)
        {
            _committed += AsciiRunCost(_asciiLetters);
            _asciiLetters = 0;
        }

        _lastWasLower = false;
    }

    private void FlushWide()
    {
        if (_wideLetters > 0)
        {
            _committed += WideRunCost(_wideLetters);
            _wideLetters = 0;
        }
    }

    private void FlushSpaces()
    {
        if (_spaces > 0)
        {
            _committed += SpaceRunCost(_spaces);
            _spaces = 0;
        }
    }
}
