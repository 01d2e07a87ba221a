namespace SemanticCore.Gemini;

/// <summary>
/// One line of a batch job's output file. Exactly one of three shapes:
/// a vector (<see cref="Values"/> set), a per-line error (<see cref="ErrorCode"/>/<see cref="ErrorMessage"/>),
/// or <see cref="IsMalformed"/> (unparsable, truncated, no key, or neither response nor error; then
/// <see cref="Key"/> is null and <see cref="ErrorMessage"/> says what was wrong).
/// Vectors are returned as the API sent them (not normalized).
/// </summary>
public sealed record BatchOutputLine
{
    /// <summary>1-based physical line number in the file (blank lines count but are not reported).</summary>
    public long LineNumber { get; init; }

    /// <summary>The key of the input line; null when the line is malformed.</summary>
    public string? Key { get; init; }

    public float[]? Values { get; init; }

    public long? TokenCount { get; init; }

    /// <summary>HTTP-style code (gRPC numbers and status names are mapped: RESOURCE_EXHAUSTED/8 -> 429).</summary>
    public int? ErrorCode { get; init; }

    public string? ErrorStatus { get; init; }

    public string? ErrorMessage { get; init; }

    public bool IsMalformed { get; init; }

    public bool IsSuccess => !IsMalformed && Values is not null && ErrorCode is null && ErrorStatus is null && ErrorMessage is null;

    /// <summary>A per-line error worth sending again (408, 429, 5xx).</summary>
    public bool IsRetriable => !IsMalformed && ErrorCode is { } code && GrpcStatus.IsRetriableHttpCode(code);
}
