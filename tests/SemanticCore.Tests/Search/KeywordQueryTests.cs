using SemanticCore.Search;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Tests.Search;

public sealed class KeywordQueryTests
{
    [Theory]
    [InlineData("rotate the key", "\"rotate\" OR \"the\" OR \"key\"")]
    [InlineData("\"unbalanced AND (x OR *y -z:w", "\"unbalanced\" OR \"and\" OR \"x\" OR \"or\" OR \"y\" OR \"z\" OR \"w\"")]
    [InlineData("NEAR(a b) NOT c^d", "\"near\" OR \"a\" OR \"b\" OR \"not\" OR \"c\" OR \"d\"")]
    [InlineData("Key key KEY", "\"key\"")]
    [InlineData("café naïve", "\"café\" OR \"naïve\"")]
    [InlineData("ротация 鍵の更新", "\"ротация\" OR \"鍵の更新\"")]
    public void Words_are_quoted_lower_cased_distinct_and_joined_with_OR(string text, string expected)
    {
        Assert.Equal(expected, SqliteRankingStore.MatchExpression(KeywordQuery.Words(text)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \t\n")]
    [InlineData("!!! ??? \"\" () * - : ^")]
    public void Text_without_words_has_no_words(string text)
    {
        Assert.Empty(KeywordQuery.Words(text));
    }

    [Fact]
    public void A_pasted_page_is_cut_to_the_first_distinct_words()
    {
        var text = string.Join(' ', Enumerable.Range(0, 500).Select(i => $"word{i}"));

        var words = KeywordQuery.Words(text);

        Assert.Equal(KeywordQuery.MaxWords, words.Count);
        Assert.Equal("word0", words[0]);
        Assert.Equal($"word{KeywordQuery.MaxWords - 1}", words[^1]);
    }
}
