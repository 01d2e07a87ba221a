using System.Security.Cryptography;
using System.Text;
using SemanticCore.Chunking;

namespace SemanticCore.Tests.Chunking;

/// <summary>Invariants every chunked document must satisfy, whatever the input.</summary>
internal static class ChunkAssert
{
    public const int GeminiLimit = 2048;

    public static void Invariants(ChunkedDocument document, int maxContentTokens = 1024)
    {
        for (int i = 0; i < document.Chunks.Count; i++)
        {
            ChunkDraft chunk = document.Chunks[i];
            Assert.Equal(i, chunk.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(chunk.Content));
            Assert.InRange(TokenEstimator.Estimate(chunk.VectorSource), 1, GeminiLimit);
            Assert.InRange(TokenEstimator.Estimate(chunk.Content), 1, maxContentTokens);
            Assert.Equal(VectorText.Clean(chunk.VectorSource), chunk.VectorSource);
            Assert.Equal(Sha256(chunk.VectorSource), chunk.ContentHash);
            Assert.DoesNotContain('\r', chunk.Content);
        }
    }

    public static string Sha256(string text) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    public static string WithoutWhiteSpace(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (!char.IsWhiteSpace(c))
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
