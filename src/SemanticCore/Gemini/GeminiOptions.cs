namespace SemanticCore.Gemini;

/// <summary>Where and how the Gemini client talks to the API. Defaults follow gemini-api.md.</summary>
public sealed record GeminiOptions
{
    /// <summary>The variable that points the client at another endpoint (the loopback fake, a proxy).</summary>
    public const string EndpointVariable = "SEMANTICCORE_GEMINI_ENDPOINT";

    public static readonly Uri DefaultEndpoint = new("https://generativelanguage.googleapis.com");

    /// <summary>The variable that sets <see cref="RequestTimeout"/>, in seconds (slow proxies, large uploads on slow links).</summary>
    public const string TimeoutVariable = "SEMANTICCORE_GEMINI_TIMEOUT";

    /// <summary>
    /// The variable that sets <see cref="BaseRetryDelay"/>, in seconds: a shorter first wait where failures are brief
    /// (a local proxy, a test server), a longer one to go easier on a struggling link.
    /// </summary>
    public const string RetryDelayVariable = "SEMANTICCORE_GEMINI_RETRY_DELAY";

    /// <summary>
    /// The variable that sets <see cref="TokensPerMinute"/>: the interactive embedding budget of the key's project, in
    /// tokens a minute; 0 paces nothing.
    /// </summary>
    public const string TokensPerMinuteVariable = "SEMANTICCORE_GEMINI_TPM";

    /// <summary>The variable that sets <see cref="TokenWindow"/>, in seconds (a proxy or test server that counts over another span).</summary>
    public const string TokenWindowVariable = "SEMANTICCORE_GEMINI_TPM_WINDOW";

    /// <summary>The free tier's embedding budget (30,000 tokens a minute for gemini-embedding-001), which any paid tier exceeds.</summary>
    public const int DefaultTokensPerMinute = 30_000;

    /// <summary>Scheme, host and port of the API; any path is kept as a prefix.</summary>
    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Model id without the "models/" prefix (a prefix is tolerated).</summary>
    public string Model { get; init; } = "gemini-embedding-001";

    /// <summary>outputDimensionality sent with every request; 3072 is the only size the API normalizes itself.</summary>
    public int Dimensions { get; init; } = 768;

    /// <summary>Limit of one HTTP attempt (headers included, for downloads only up to the headers).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>Attempts per call, the first one included (1 = no retry).</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Cap of any single wait between attempts, the server's RetryInfo / Retry-After included.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>First backoff step; doubles per attempt, with jitter.</summary>
    public TimeSpan BaseRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Tokens the interactive embedding calls may send per <see cref="TokenWindow"/> (see <see cref="EmbedPacer"/>); 0 = no pacing.</summary>
    public int TokensPerMinute { get; init; } = DefaultTokensPerMinute;

    /// <summary>The span <see cref="TokensPerMinute"/> is counted over: the service's minute.</summary>
    public TimeSpan TokenWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Resumable-upload chunk: a multiple of 256 KiB (the protocol's granularity), 8 MiB like the SDKs.</summary>
    public int UploadChunkBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>$env:SEMANTICCORE_GEMINI_ENDPOINT when set to an absolute http(s) URI, else the public endpoint.</summary>
    public static Uri EndpointFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EndpointVariable);
        if (string.IsNullOrWhiteSpace(value)) return DefaultEndpoint;
        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        throw new SemanticCoreException("GeminiInvalidEndpoint", FailureKind.InvalidArgument,
            $"${EndpointVariable} is not an absolute http(s) URI: '{value}'. Clear it to use {DefaultEndpoint}.");
    }

    /// <summary>The options for an index's model and dimension, with the endpoint, timeout and first retry wait from the environment.</summary>
    public static GeminiOptions FromEnvironment(string model, int dimensions)
    {
        var options = new GeminiOptions { Endpoint = EndpointFromEnvironment(), Model = model, Dimensions = dimensions };
        var timeout = Environment.GetEnvironmentVariable(TimeoutVariable);
        if (!string.IsNullOrWhiteSpace(timeout))
        {
            options = Seconds(timeout) is { } seconds && seconds is > 0 and <= 86_400
                ? options with { RequestTimeout = TimeSpan.FromSeconds(seconds) }
                : throw new SemanticCoreException("GeminiInvalidTimeout", FailureKind.InvalidArgument,
                    $"${TimeoutVariable} must be a number of seconds between 0 and 86400, not '{timeout}'. Clear it to use {options.RequestTimeout.TotalSeconds:0} s.");
        }

        var retryDelay = Environment.GetEnvironmentVariable(RetryDelayVariable);
        if (!string.IsNullOrWhiteSpace(retryDelay))
        {
            // Up to the cap of any single wait: a first step above it would make every wait the cap.
            options = Seconds(retryDelay) is { } seconds && seconds >= 0 && seconds <= options.MaxRetryDelay.TotalSeconds
                ? options with { BaseRetryDelay = TimeSpan.FromSeconds(seconds) }
                : throw new SemanticCoreException("GeminiInvalidRetryDelay", FailureKind.InvalidArgument,
                    $"${RetryDelayVariable} must be a number of seconds between 0 and {options.MaxRetryDelay.TotalSeconds:0}, not '{retryDelay}'. Clear it to use {options.BaseRetryDelay.TotalSeconds:0} s.");
        }

        var tokensPerMinute = Environment.GetEnvironmentVariable(TokensPerMinuteVariable);
        if (!string.IsNullOrWhiteSpace(tokensPerMinute))
        {
            options = int.TryParse(tokensPerMinute.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var tokens)
                ? options with { TokensPerMinute = tokens }
                : throw new SemanticCoreException("GeminiInvalidTokensPerMinute", FailureKind.InvalidArgument,
                    $"${TokensPerMinuteVariable} must be a whole number of tokens (0 for no pacing), not '{tokensPerMinute}'. Clear it to use {DefaultTokensPerMinute}, the free tier's budget.");
        }

        var window = Environment.GetEnvironmentVariable(TokenWindowVariable);
        if (!string.IsNullOrWhiteSpace(window))
        {
            options = Seconds(window) is { } seconds && seconds is > 0 and <= 3600
                ? options with { TokenWindow = TimeSpan.FromSeconds(seconds) }
                : throw new SemanticCoreException("GeminiInvalidTokensPerMinute", FailureKind.InvalidArgument,
                    $"${TokenWindowVariable} must be a number of seconds between 0 and 3600, not '{window}'. Clear it to use {options.TokenWindow.TotalSeconds:0} s.");
        }

        return options;
    }

    private static double? Seconds(string text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : null;

    internal const int UploadGranularity = 256 * 1024;

    internal void Validate()
    {
        if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException("Endpoint must be an absolute http(s) URI.", nameof(Endpoint));
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("Model is required.", nameof(Model));
        if (Dimensions is < 1 or > 65536) throw new ArgumentOutOfRangeException(nameof(Dimensions), Dimensions, "Dimensions must be positive.");
        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "RequestTimeout must be positive.");
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be at least 1.");
        // Polly accepts delays of up to one day.
        if (BaseRetryDelay < TimeSpan.Zero || BaseRetryDelay > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(BaseRetryDelay), BaseRetryDelay, "BaseRetryDelay must be between 0 and 1 day.");
        if (MaxRetryDelay < TimeSpan.Zero || MaxRetryDelay > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(MaxRetryDelay), MaxRetryDelay, "MaxRetryDelay must be between 0 and 1 day.");
        if (TokensPerMinute < 0) throw new ArgumentOutOfRangeException(nameof(TokensPerMinute), TokensPerMinute, "TokensPerMinute must be 0 (no pacing) or more.");
        if (TokenWindow <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TokenWindow), TokenWindow, "TokenWindow must be positive.");
        if (UploadChunkBytes <= 0 || UploadChunkBytes % UploadGranularity != 0)
            throw new ArgumentOutOfRangeException(nameof(UploadChunkBytes), UploadChunkBytes, "UploadChunkBytes must be a positive multiple of 256 KiB.");
    }

    /// <summary>The model id as it appears in paths ("gemini-embedding-001").</summary>
    internal string ModelId => Model.StartsWith("models/", StringComparison.Ordinal) ? Model["models/".Length..] : Model;
}
