namespace SemanticCore.Gemini;

/// <summary>One HttpClient for the process: connections are pooled and renewed (DNS changes), per the HttpClient guidelines.</summary>
public static class GeminiHttp
{
    public static HttpClient Shared { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        // Each call has its own timeout (GeminiOptions.RequestTimeout); downloads of large outputs must not be cut at 100 s.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static GeminiClient CreateClient(ApiKey key, Storage.IndexSettings settings) =>
        new(Shared, key, GeminiOptions.FromEnvironment(settings.Model, settings.Dimensions));
}
