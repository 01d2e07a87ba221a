using System.Collections.Concurrent;
using FakeGemini;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

/// <summary>A fake server plus a client pointed at it, with retry waits recorded and skipped.</summary>
internal sealed class GeminiTestContext : IAsyncDisposable
{
    private GeminiTestContext(FakeGeminiServer fake)
    {
        Fake = fake;
        Options = new GeminiOptions
        {
            Endpoint = fake.Endpoint,
            // The recording clock skips every wait, so a realistic base delay costs nothing; it also
            // keeps jittered waits above 1 ms, below which Task.Delay does not even create a timer.
            BaseRetryDelay = TimeSpan.FromMilliseconds(200),
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        Client = CreateClient();
    }

    public FakeGeminiServer Fake { get; }

    public HttpClient Http { get; } = new() { Timeout = Timeout.InfiniteTimeSpan };

    public RecordingTimeProvider Time { get; } = new();

    public GeminiOptions Options { get; }

    public GeminiClient Client { get; }

    public static async Task<GeminiTestContext> StartAsync() => new(await FakeGeminiServer.StartAsync());

    public GeminiClient CreateClient(GeminiOptions? options = null, string key = FakeGeminiServer.DefaultKey, TimeProvider? time = null) =>
        new(Http, new ApiKey(key), options ?? Options, time ?? Time);

    /// <summary>Requests whose path contains <paramref name="pathContains"/>.</summary>
    public RecordedRequest[] RequestsTo(string pathContains) =>
        Fake.Requests.Where(r => (r.Path + r.QueryString).Contains(pathContains, StringComparison.Ordinal)).ToArray();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Fake.DisposeAsync();
    }
}

/// <summary>
/// A clock whose timers fire at once but remember the wait they were asked for: retry delays are
/// asserted exactly, and tests never sleep.
/// </summary>
internal sealed class RecordingTimeProvider : TimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> _delays = new();

    public IReadOnlyList<TimeSpan> Delays => _delays.ToArray();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan) return System.CreateTimer(callback, state, dueTime, period);
        _delays.Enqueue(dueTime);
        return System.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}

/// <summary>Records progress reports synchronously (Progress&lt;T&gt; would post them later).</summary>
internal sealed class ProgressRecorder : IProgress<long>
{
    private readonly ConcurrentQueue<long> _values = new();

    public IReadOnlyList<long> Values => _values.ToArray();

    public void Report(long value) => _values.Enqueue(value);
}

/// <summary>A stream that cannot seek and hands out at most <paramref name="maxRead"/> bytes per read.</summary>
internal sealed class TrickleStream(byte[] data, int maxRead) : Stream
{
    private int _position;

    public int ReadCalls { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ReadCalls++;
        var n = Math.Min(Math.Min(buffer.Length, maxRead), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
