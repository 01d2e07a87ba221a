using System.Text;

namespace FakeGemini;

/// <summary>
/// Deterministic stand-ins for embeddings: pseudo-random values in [-1, 1) seeded by a stable hash of
/// the text, so tests can compute what any text embeds to. Not normalized, at any size (the real API
/// normalizes 3072-dimension vectors; not doing it here lets a test see that a client leaves them alone).
/// </summary>
public static class FakeVectors
{
    public static float[] VectorFor(string text, int dimensions)
    {
        var state = StableHash(text);
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            // SplitMix64: tiny, good enough, and identical on every platform and run.
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            vector[i] = (float)((z >> 40) / (double)(1UL << 24) * 2.0 - 1.0);
        }

        return vector;
    }

    /// <summary>≈ words × 1.3, at least 1.</summary>
    public static long TokenCount(string text)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return Math.Max(1, (long)Math.Ceiling(words * 1.3));
    }

    /// <summary>FNV-1a 64 over the UTF-8 bytes (string.GetHashCode is randomized per process).</summary>
    public static ulong StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }
}
