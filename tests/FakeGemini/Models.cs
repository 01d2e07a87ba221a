namespace FakeGemini;

/// <summary>What the fake writes for one input line of a batch job.</summary>
public enum LineOutcome
{
    /// <summary>An embedding with tokenCount.</summary>
    Success,

    /// <summary>HTTP-style error: code 400, INVALID_ARGUMENT, "input token count exceeds...".</summary>
    TooLong400,

    /// <summary>gRPC-style error: code 8, RESOURCE_EXHAUSTED (a client maps it to 429).</summary>
    RateLimited429,

    /// <summary>HTTP-style error: code 503, UNAVAILABLE.</summary>
    Unavailable503,

    /// <summary>No line at all for this key.</summary>
    Missing,

    /// <summary>The success line written twice.</summary>
    Duplicate,
}

/// <summary>One request as the fake received it.</summary>
/// <param name="Headers">Header name (case-insensitive) to its values joined with ", ".</param>
/// <param name="Body">The body as text for JSON requests, else null (see <paramref name="BodyLength"/>).</param>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyDictionary<string, string> Headers,
    string? Body,
    long BodyLength,
    DateTimeOffset Timestamp)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>A file the fake holds (uploaded, or generated as a batch output).</summary>
public sealed record FakeFileInfo(string Name, string? DisplayName, string MimeType, long SizeBytes, string Source);

/// <summary>A batch job as the fake holds it.</summary>
/// <param name="State">As the API spells it: BATCH_STATE_PENDING...</param>
public sealed record FakeBatchInfo(
    string Name,
    string? DisplayName,
    string Model,
    string State,
    string InputFileName,
    string? ResponsesFileName,
    int RequestCount,
    int SuccessfulCount,
    int FailedCount,
    string? ErrorMessage,
    int Polls);

internal enum JobState
{
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
}

internal sealed class StoredFile
{
    public required string Name { get; init; }
    public string? DisplayName { get; init; }
    public required string MimeType { get; init; }
    public required byte[] Data { get; init; }
    public required string Source { get; init; }
    public required DateTimeOffset CreateTime { get; init; }

    /// <summary>Creation order (listing order).</summary>
    public long Sequence { get; } = Interlocked.Increment(ref _sequence);

    private static long _sequence;

    public FakeFileInfo Info() => new(Name, DisplayName, MimeType, Data.LongLength, Source);
}

internal sealed class UploadSession
{
    public required string Id { get; init; }
    public string? DisplayName { get; init; }
    public required string MimeType { get; init; }
    public long? DeclaredLength { get; init; }
    public MemoryStream Data { get; } = new();
    public string? FileName { get; set; }
}

internal sealed record InputLine(string Key, string Text, int Dimensions);

internal sealed class Job
{
    public required string Name { get; init; }
    public string? DisplayName { get; init; }
    public required string Model { get; init; }
    public required string InputFileName { get; init; }
    public required IReadOnlyList<InputLine> Lines { get; init; }
    /// <summary>The input's tokens, as <see cref="FakeGeminiServer.CountTokens"/> counts them.</summary>
    public long Tokens { get; init; }
    public required DateTimeOffset CreateTime { get; init; }
    public DateTimeOffset UpdateTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    public JobState State { get; set; }
    public int Polls { get; set; }
    public string? ResponsesFile { get; set; }
    public int SuccessfulCount { get; set; }
    public int FailedCount { get; set; }
    public string? ErrorMessage { get; set; }

    public bool IsTerminal => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Expired;

    public string StateName => "BATCH_STATE_" + State.ToString().ToUpperInvariant();

    public FakeBatchInfo Info() => new(Name, DisplayName, Model, StateName, InputFileName, ResponsesFile, Lines.Count,
        SuccessfulCount, FailedCount, ErrorMessage, Polls);
}

internal sealed record FailureRule(string PathContains, int Status, string? RetryDelay, bool PerDayQuota)
{
    public int Remaining { get; set; }
    public int Skip { get; set; }
}
