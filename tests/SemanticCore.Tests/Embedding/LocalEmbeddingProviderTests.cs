using SemanticCore.Embedding;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Embedding;

public sealed class LocalEmbeddingProviderTests
{
    private static LocalEmbeddingProvider Provider(string model) => new(new IndexSettings(EmbeddingProviderKind.Local, model, 256));

    private static float Cosine(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);

    [Fact]
    public void New_indexes_get_version_2_which_ignores_stop_words_and_meets_inflections()
    {
        var v2 = Provider(IndexSettings.DefaultLocalModel);

        Assert.Equal("local-feature-hash-v2", IndexSettings.DefaultLocalModel);
        Assert.Equal(v2.Embed("rotate key"), v2.Embed("how do I rotate the key?"));
        Assert.True(Cosine(v2.Embed("rotating keys"), v2.Embed("key rotation")) > Cosine(Provider("local-feature-hash-v1").Embed("rotating keys"), Provider("local-feature-hash-v1").Embed("key rotation")));
    }

    [Fact]
    public void Version_1_and_other_model_names_keep_version_1_vectors()
    {
        var v1 = Provider("local-feature-hash-v1");
        var custom = Provider("my-local-model");

        // Stop words count in version 1: existing indexes keep the vectors they were built with.
        Assert.NotEqual(v1.Embed("rotate key"), v1.Embed("how do I rotate the key?"));
        Assert.Equal(v1.Embed("how do I rotate the key?"), custom.Embed("how do I rotate the key?"));
    }

    [Theory]
    [InlineData("rotate", "rotat")]
    [InlineData("rotated", "rotat")]
    [InlineData("rotating", "rotat")]
    [InlineData("rotation", "rotat")]
    [InlineData("policies", "policy")]
    [InlineData("keys", "key")]
    [InlineData("status", "status")]
    [InlineData("access", "access")]
    [InlineData("dns", "dns")]
    [InlineData("ключи", "ключи")]
    public void The_light_stemmer_meets_inflections_and_leaves_other_words(string word, string stem)
    {
        Assert.Equal(stem, LightStemmer.Stem(word));
    }
}
