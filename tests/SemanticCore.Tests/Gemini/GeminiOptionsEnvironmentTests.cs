using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

/// <summary>$env:SEMANTICCORE_GEMINI_TIMEOUT and $env:SEMANTICCORE_GEMINI_RETRY_DELAY. Not parallel with other tests that read the environment: a collection of its own.</summary>
[Collection(nameof(GeminiOptionsEnvironmentTests))]
public sealed class GeminiOptionsEnvironmentTests
{
    [Theory]
    [InlineData(null, 100)]
    [InlineData("", 100)]
    [InlineData("250", 250)]
    [InlineData("2.5", 2.5)]
    public void The_request_timeout_comes_from_the_environment(string? value, double expectedSeconds)
    {
        using var scope = new VariableScope(GeminiOptions.TimeoutVariable, value);

        var options = GeminiOptions.FromEnvironment("gemini-embedding-001", 768);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.RequestTimeout);
        Assert.Equal("gemini-embedding-001", options.Model);
        Assert.Equal(768, options.Dimensions);
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("0")]
    [InlineData("-5")]
    public void A_bad_timeout_is_a_clear_error(string value)
    {
        using var scope = new VariableScope(GeminiOptions.TimeoutVariable, value);

        var error = Assert.Throws<SemanticCoreException>(() => GeminiOptions.FromEnvironment("gemini-embedding-001", 768));

        Assert.Equal("GeminiInvalidTimeout", error.ErrorId);
        Assert.Contains(value, error.Message);
    }

    [Theory]
    [InlineData(null, null, GeminiOptions.DefaultTokensPerMinute, 60)]
    [InlineData("1000000", null, 1_000_000, 60)]
    [InlineData("0", null, 0, 60)]
    [InlineData("2000", "2", 2000, 2)]
    public void The_embedding_budget_comes_from_the_environment(string? tokens, string? window, int expectedTokens, double expectedSeconds)
    {
        using var tokensScope = new VariableScope(GeminiOptions.TokensPerMinuteVariable, tokens);
        using var windowScope = new VariableScope(GeminiOptions.TokenWindowVariable, window);

        var options = GeminiOptions.FromEnvironment("gemini-embedding-001", 768);

        Assert.Equal(expectedTokens, options.TokensPerMinute);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.TokenWindow);
    }

    [Theory]
    [InlineData(GeminiOptions.TokensPerMinuteVariable, "lots")]
    [InlineData(GeminiOptions.TokensPerMinuteVariable, "-1")]
    [InlineData(GeminiOptions.TokensPerMinuteVariable, "3e4")]
    [InlineData(GeminiOptions.TokenWindowVariable, "0")]
    [InlineData(GeminiOptions.TokenWindowVariable, "minute")]
    public void A_bad_embedding_budget_is_a_clear_error(string variable, string value)
    {
        using var scope = new VariableScope(variable, value);

        var error = Assert.Throws<SemanticCoreException>(() => GeminiOptions.FromEnvironment("gemini-embedding-001", 768));

        Assert.Equal("GeminiInvalidTokensPerMinute", error.ErrorId);
        Assert.Contains(variable, error.Message);
        Assert.Contains(value, error.Message);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(" ", 1)]
    [InlineData("0", 0)]
    [InlineData("0.05", 0.05)]
    [InlineData("60", 60)]
    public void The_first_retry_wait_comes_from_the_environment(string? value, double expectedSeconds)
    {
        using var scope = new VariableScope(GeminiOptions.RetryDelayVariable, value);

        var options = GeminiOptions.FromEnvironment("gemini-embedding-001", 768);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.BaseRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(60), options.MaxRetryDelay);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-1")]
    [InlineData("61")]
    public void A_bad_retry_delay_is_a_clear_error(string value)
    {
        using var scope = new VariableScope(GeminiOptions.RetryDelayVariable, value);

        var error = Assert.Throws<SemanticCoreException>(() => GeminiOptions.FromEnvironment("gemini-embedding-001", 768));

        Assert.Equal("GeminiInvalidRetryDelay", error.ErrorId);
        Assert.Equal(FailureKind.InvalidArgument, error.Kind);
        Assert.Contains(value, error.Message);
    }

    private sealed class VariableScope : IDisposable
    {
        private readonly string name;
        private readonly string? saved;

        public VariableScope(string name, string? value)
        {
            this.name = name;
            saved = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(name, saved);
    }
}
