using System.Globalization;
using System.Text;
using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>
/// An offline, deterministic embedder: feature hashing of lower-cased words and of character
/// trigrams within words into a fixed number of signed buckets, L2-normalized. It is LEXICAL:
/// texts that share words (or word fragments) score high; synonyms and paraphrases do not.
/// It exists so the module works end to end with no key and no network.
/// </summary>
public sealed class LocalEmbeddingProvider : IEmbeddingProvider
{
    /// <summary>The model name of version 2 (stop words left out, light stemming, dampened repeats); any other name is version 1.</summary>
    public const string Version2Model = "local-feature-hash-v2";

    private const float WordWeight = 1.0f;
    private const float TrigramWeight = 0.5f;

    public LocalEmbeddingProvider(IndexSettings settings)
    {
        if (settings.Provider != EmbeddingProviderKind.Local)
            throw new ArgumentException("The local embedder serves Local indexes only.", nameof(settings));
        Settings = settings;
        isVersion2 = settings.Model == Version2Model;
    }

    private readonly bool isVersion2;

    public IndexSettings Settings { get; }

    /// <summary>Embeds on this machine, in groups of the Gemini API's size, so that each group is handed over (and recorded) as a call.</summary>
    public Task EmbedDocumentsAsync(IReadOnlyList<string> texts, Action<int, IReadOnlyList<float[]>> embedded, CancellationToken cancellationToken)
    {
        for (var first = 0; first < texts.Count; first += Gemini.GeminiClient.MaxTextsPerEmbedCall)
        {
            cancellationToken.ThrowIfCancellationRequested();
            embedded(first, texts.Skip(first).Take(Gemini.GeminiClient.MaxTextsPerEmbedCall).Select(Embed).ToList());
        }

        return Task.CompletedTask;
    }

    public Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken) => Task.FromResult(Embed(text));

    public float[] Embed(string text)
    {
        var vector = new float[Settings.Dimensions];
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else if (word.Length > 0)
            {
                AddInputWord(vector, word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0) AddInputWord(vector, word.ToString());
        if (isVersion2) Dampen(vector);
        return Vectors.Normalize(vector);
    }

    /// <summary>One word of the text: version 2 leaves out stop words and adds the stem's features.</summary>
    private void AddInputWord(float[] vector, string word)
    {
        if (!isVersion2)
        {
            AddWord(vector, word);
            return;
        }

        if (StopWords.Contains(word)) return;
        AddWord(vector, LightStemmer.Stem(word));
    }

    /// <summary>Sublinear term frequency (as in TF-IDF's log scaling): a word said ten times is not ten times the topic.</summary>
    private static void Dampen(float[] vector)
    {
        for (var i = 0; i < vector.Length; i++) vector[i] = MathF.CopySign(MathF.Log(1 + MathF.Abs(vector[i])), vector[i]);
    }

    private void AddWord(float[] vector, string word)
    {
        Add(vector, word.AsSpan(), WordWeight);
        // Trigrams of "<word>" let inflections and compounds ("rotate", "rotation") share features.
        var padded = "<" + word + ">";
        for (var i = 0; i + 3 <= padded.Length; i++) Add(vector, padded.AsSpan(i, 3), TrigramWeight);
    }

    private void Add(float[] vector, ReadOnlySpan<char> feature, float weight)
    {
        var hash = Fnv1a(feature);
        var bucket = (int)(hash % (ulong)vector.Length);
        // A second, independent bit gives the sign, so collisions cancel out on average instead of piling up.
        vector[bucket] += (hash >> 63) == 0 ? weight : -weight;
    }

    /// <summary>FNV-1a over UTF-16 code units: stable across processes and platforms (string.GetHashCode is not).</summary>
    private static ulong Fnv1a(ReadOnlySpan<char> text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }

        // Murmur3's finalizer: FNV's low and high bits alone are poorly mixed for short features.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return hash;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Local ({Settings.Model}, {Settings.Dimensions} dimensions)");
}
