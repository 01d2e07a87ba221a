using System.Globalization;
using System.Text;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

/// <summary>The fast float parser must give exactly float.Parse's result whenever it answers, and answer for the API's usual values.</summary>
public sealed class JsonFloatTests
{
    private static void AssertSameAsBcl(string text, ref int answered)
    {
        var expected = float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!JsonFloat.TryParse(Encoding.ASCII.GetBytes(text), out var actual)) return;
        answered++;
        Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"'{text}': {expected:R} expected, {actual:R} parsed");
    }

    [Fact]
    public void Values_as_the_API_prints_them_are_parsed_fast_and_exactly()
    {
        var random = new Random(20261201);
        var answered = 0;
        const int count = 200_000;
        for (var i = 0; i < count; i++)
        {
            var value = (float)(random.NextDouble() * 2 - 1) * (float)Math.Pow(10, -random.Next(0, 4));
            AssertSameAsBcl(value.ToString("R", CultureInfo.InvariantCulture), ref answered);
        }

        Assert.True(answered > count * 0.99, $"Only {answered} of {count} took the fast path.");
    }

    [Fact]
    public void Random_decimals_of_every_length_and_exponent_are_exact_or_left_to_the_exact_parser()
    {
        var random = new Random(7);
        var answered = 0;
        for (var i = 0; i < 300_000; i++)
        {
            var digits = new string(Enumerable.Range(0, random.Next(1, 19)).Select(_ => (char)('0' + random.Next(10))).ToArray());
            var point = random.Next(0, digits.Length + 1);
            var text = (random.Next(2) == 0 ? "-" : "") + (point == 0 ? "0" : digits[..point]) + (point < digits.Length ? "." + digits[point..] : "");
            if (random.Next(4) == 0) text += "e" + random.Next(-45, 40).ToString(CultureInfo.InvariantCulture);
            AssertSameAsBcl(text, ref answered);
        }

        Assert.True(answered > 100_000, $"Only {answered} took the fast path.");
    }

    [Theory]
    [InlineData("0", 0f)]
    [InlineData("-0.0", -0f)]
    [InlineData("1", 1f)]
    [InlineData("-0.012345678", -0.012345678f)]
    [InlineData("3.4028235E+38", float.MaxValue)]
    [InlineData("1.17549435E-38", 1.17549435E-38f)]
    [InlineData("0.1", 0.1f)]
    [InlineData("16777217", 16777216f)] // a float midpoint exactly: ties to even
    [InlineData("16777219", 16777220f)]
    public void Edge_values_match_the_BCL(string text, float expected)
    {
        var answered = 0;
        AssertSameAsBcl(text, ref answered);
        Assert.Equal(expected, float.Parse(text, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("1e-50")]
    [InlineData("1.2345678901234567890")]
    [InlineData("16777217")]
    public void Out_of_range_long_and_midpoint_values_go_to_the_exact_parser(string text)
    {
        Assert.False(JsonFloat.TryParse(Encoding.ASCII.GetBytes(text), out _));
    }
}
