using SemanticCore.Chunking;

namespace SemanticCore.Tests.Chunking;

public class TokenEstimatorTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData(" ", 0)]
    [InlineData("a", 1)]
    [InlineData("word", 1)]
    [InlineData("words", 2)]
    [InlineData("Hello, world!", 6)]
    [InlineData("The quick brown fox jumps over the lazy dog.", 13)]
    [InlineData("camelCaseWord", 4)]
    [InlineData("1234567890", 10)]
    [InlineData("a    b", 3)]
    [InlineData("\n\n", 2)]
    [InlineData("\t", 1)]
    [InlineData("{}();", 5)]
    public void Ascii_follows_the_documented_rules(string text, int expected) =>
        Assert.Equal(expected, TokenEstimator.Estimate(text));

    [Fact]
    public void English_prose_is_about_one_token_per_four_characters_or_more_conservative()
    {
        const string prose =
            "Retrieval augmented generation combines a search step with a language model. The documents are split into " +
            "chunks, every chunk is embedded, and the nearest chunks are handed to the model together with the question.";
        double charsPerToken = (double)prose.Length / TokenEstimator.Estimate(prose);
        Assert.InRange(charsPerToken, 3.0, 4.5);
    }

    [Fact]
    public void Punctuation_and_digits_weigh_more_than_letters()
    {
        Assert.True(TokenEstimator.Estimate("2024-06-01 12:30:45") > TokenEstimator.Estimate("june first afternoon"));
        Assert.Equal(16, TokenEstimator.Estimate("||||----::::;;;;"));
    }

    [Theory]
    [InlineData("日本語のテキストです")]
    [InlineData("中文文本分块测试")]
    [InlineData("안녕하세요세계")]
    [InlineData("カタカナとひらがな")]
    public void Cjk_costs_at_least_one_token_per_character(string text)
    {
        Assert.True(TokenEstimator.Estimate(text) >= text.Length);
        Assert.Equal(text.Length, TokenEstimator.Estimate(text));
    }

    [Theory]
    [InlineData("Привет мир, как дела")]
    [InlineData("Γειά σου κόσμε")]
    [InlineData("مرحبا بالعالم")]
    [InlineData("שלום עולם")]
    public void Other_scripts_cost_about_one_token_per_two_characters(string text)
    {
        int letters = text.Count(char.IsLetter);
        Assert.True(TokenEstimator.Estimate(text) >= (letters + 1) / 2);
    }

    [Fact]
    public void Cyrillic_words_cost_one_token_per_started_two_letters() =>
        Assert.Equal(5, TokenEstimator.Estimate("Привет мир")); // ceil(6/2) + ceil(3/2)

    [Fact]
    public void Astral_characters_cost_two_tokens_each()
    {
        Assert.Equal(2, TokenEstimator.Estimate("😀"));
        Assert.Equal(6, TokenEstimator.Estimate("😀🎉🚀"));
        Assert.Equal(4, TokenEstimator.Estimate("👍🏽")); // thumbs up + skin tone modifier
        Assert.Equal(2, TokenEstimator.Estimate("𠜎")); // CJK extension B
        Assert.Equal(2, TokenEstimator.Estimate("\uD800")); // unpaired surrogate
        Assert.Equal(4, TokenEstimator.Estimate("a😀b"));
    }

    [Fact]
    public void Estimate_is_additive_across_newlines()
    {
        string[] samples = ["Hello there", "x", "日本語", "Привет", "😀 ok", "   indented", "trailing  ", "camelCase", "123"];
        foreach (string a in samples)
        {
            foreach (string b in samples)
            {
                Assert.Equal(TokenEstimator.Estimate(a) + 1 + TokenEstimator.Estimate(b), TokenEstimator.Estimate(a + "\n" + b));
            }
        }
    }

    [Fact]
    public void Estimate_never_decreases_when_text_is_appended()
    {
        var random = new Random(7);
        const string alphabet = "aB cD.,1\n\tЖж日😀 ";
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < 2000; i++)
        {
            text.Append(alphabet[random.Next(alphabet.Length)]);
        }

        string s = text.ToString();
        int previous = 0;
        for (int i = 1; i <= s.Length; i++)
        {
            int current = TokenEstimator.Estimate(s.AsSpan(0, i));
            Assert.True(current >= previous, $"estimate dropped at {i}");
            previous = current;
        }
    }

    [Fact]
    public void FitPrefix_returns_the_longest_prefix_within_the_limit_and_never_splits_a_pair()
    {
        string text = string.Concat(Enumerable.Repeat("word😀 日本 ", 50));
        foreach (int limit in new[] { 1, 2, 3, 10, 57, 100 })
        {
            int n = TokenEstimator.FitPrefix(text, limit);
            Assert.True(TokenEstimator.Estimate(text.AsSpan(0, n)) <= limit);
            Assert.False(char.IsHighSurrogate(text[n - 1]));
            if (n < text.Length)
            {
                int next = char.IsHighSurrogate(text[n]) ? n + 2 : n + 1;
                Assert.True(TokenEstimator.Estimate(text.AsSpan(0, next)) > limit);
            }
        }
    }

    [Fact]
    public void Estimate_is_linear_on_large_inputs()
    {
        string big = new('x', 4_000_000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int estimate = TokenEstimator.Estimate(big);
        watch.Stop();
        Assert.Equal(1_000_000, estimate);
        Assert.True(watch.ElapsedMilliseconds < 2000, $"took {watch.ElapsedMilliseconds} ms");
    }
}
