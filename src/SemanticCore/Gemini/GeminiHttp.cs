namespace SemanticCore.Gemini;

/// <summary>One HttpClient for the process: connections are pooled and renewed (DNS changes), per the HttpClient guidelines.</summary>
public static class GeminiHttp
{
    /// <remarks>
    /// Redirects are not followed here: the handler would send the x-goog-api-key header to wherever one points.
    /// <see cref="GeminiClient"/> follows those within the endpoint's origin itself.
    /// </remarks>
    public static HttpClient Shared { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
    {
        // Each call has its own timeout (GeminiOptions.RequestTimeout); downloads of large outputs must not be cut at 100 s.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>A client of the index's model with the options of the environment; its embedding calls share the process's pacer for the key.</summary>
    public static GeminiClient CreateClient(ApiKey key, Storage.IndexSettings settings)
    {
        var options = GeminiOptions.FromEnvironment(settings.Model, settings.Dimensions);
        return new(Shared, key, options, TimeProvider.System, EmbedPacer.Shared(options, key));
    }
}
