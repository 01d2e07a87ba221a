using System.Text;

namespace SemanticCore.Bench.Search;

/// <summary>
/// A deterministic made-up language for the synthetic index: a vocabulary of <see cref="VocabularySize"/> words
/// (the 48 most frequent are English function words, the rest pronounceable made-up words, shorter ones more
/// frequent) drawn with Zipf–Mandelbrot frequencies, p(rank) ∝ 1 / (rank + 2.7), so BM25 sees realistic term
/// statistics: a few words in nearly every chunk, a long tail of rare ones.
/// </summary>
internal sealed class SyntheticCorpus
{
    public const int VocabularySize = 20_000;
    public const double ZipfExponent = 1.0;
    private const double ZipfShift = 2.7;

    /// <summary>Query words come from the ranks below this: frequent enough that BM25 has matches to rank.</summary>
    private const int QueryWordRanks = 5_000;
    /// <summary>"Function word" ranks: about half the queries hold one, as typed questions do ("how", "the").</summary>
    private const int CommonRanks = 100;

    private static readonly string[] FunctionWords =
    [
        "the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be", "by",
        "this", "are", "or", "at", "from", "an", "not", "have", "which", "but", "can", "you", "all", "will", "one", "their",
        "has", "more", "if", "its", "when", "there", "how", "what", "after", "before", "each", "new", "only", "into", "so", "then",
    ];

    private static readonly string[] Onsets = ["b", "br", "c", "ch", "cr", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kl", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "st", "t", "th", "tr", "v", "w", "z"];
    private static readonly string[] Vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"];
    private static readonly string[] Codas = ["", "", "", "n", "r", "s", "l", "m", "t", "x", "nd", "st", "rk", "ng"];

    private readonly string[] words;
    private readonly double[] cumulative;

    public SyntheticCorpus(int seed)
    {
        words = BuildVocabulary(new Random(seed));
        cumulative = new double[words.Length];
        var sum = 0.0;
        for (var rank = 0; rank < words.Length; rank++)
        {
            sum += 1.0 / Math.Pow(rank + 1 + ZipfShift, ZipfExponent);
            cumulative[rank] = sum;
        }

        for (var rank = 0; rank < words.Length; rank++) cumulative[rank] /= sum;
    }

    /// <summary>One word, drawn by frequency.</summary>
    public string Word(Random random)
    {
        var rank = Array.BinarySearch(cumulative, random.NextDouble());
        return words[Math.Min(rank < 0 ? ~rank : rank, words.Length - 1)];
    }

    /// <summary>Text of <paramref name="wordCount"/> words, in sentences of 6–18 words.</summary>
    public string Text(Random random, int wordCount)
    {
        var text = new StringBuilder(wordCount * 8);
        var sentenceLeft = 0;
        for (var i = 0; i < wordCount; i++)
        {
            var word = Word(random);
            if (sentenceLeft == 0)
            {
                if (i > 0) text.Append(". ");
                sentenceLeft = random.Next(6, 19);
                text.Append(char.ToUpperInvariant(word[0])).Append(word, 1, word.Length - 1);
            }
            else
            {
                text.Append(' ').Append(word);
            }

            sentenceLeft--;
        }

        return text.Append('.').ToString();
    }

    /// <summary>A heading-like phrase of capitalized content words (titles, section names).</summary>
    public string Heading(Random random, int wordCount) =>
        string.Join(' ', Enumerable.Range(0, wordCount).Select(_ => words[random.Next(CommonRanks, QueryWordRanks)]).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    /// <summary>
    /// <paramref name="count"/> queries of 3–6 distinct words: about half hold one word of the 100 most frequent,
    /// the rest are drawn uniformly from ranks 100–4,999 (each in roughly 0.2–9 % of chunks).
    /// </summary>
    public IReadOnlyList<string> Queries(int count, int seed)
    {
        var random = new Random(seed);
        var queries = new List<string>(count);
        while (queries.Count < count)
        {
            var length = random.Next(3, 7);
            var chosen = new List<string>(length);
            if (random.Next(2) == 0) chosen.Add(words[random.Next(0, CommonRanks)]);
            while (chosen.Count < length)
            {
                var word = words[random.Next(CommonRanks, QueryWordRanks)];
                if (!chosen.Contains(word)) chosen.Add(word);
            }

            // The common word anywhere, not always first.
            var at = random.Next(chosen.Count);
            (chosen[0], chosen[at]) = (chosen[at], chosen[0]);
            queries.Add(string.Join(' ', chosen));
        }

        return queries;
    }

    private static string[] BuildVocabulary(Random random)
    {
        var seen = new HashSet<string>(FunctionWords, StringComparer.Ordinal);
        var madeUp = new List<string>(VocabularySize);
        while (seen.Count < VocabularySize)
        {
            var syllables = 1 + random.Next(4);
            var word = new StringBuilder();
            for (var s = 0; s < syllables; s++)
            {
                word.Append(Onsets[random.Next(Onsets.Length)]).Append(Vowels[random.Next(Vowels.Length)]);
                if (s == syllables - 1 || random.Next(3) == 0) word.Append(Codas[random.Next(Codas.Length)]);
            }

            var text = word.ToString();
            if (text.Length >= 3 && seen.Add(text)) madeUp.Add(text);
        }

        // Shorter words are more frequent, as in natural languages; the order among equals stays random.
        var ordered = madeUp.Select((w, i) => (Word: w, Order: i)).OrderBy(e => e.Word.Length).ThenBy(e => e.Order).Select(e => e.Word);
        return [.. FunctionWords, .. ordered];
    }
}
