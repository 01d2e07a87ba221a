namespace SemanticCore.Gemini;

/// <summary>
/// A response body whose every read must bring data within the timeout: HttpClient's timeout covers the
/// headers only, so a download that stalls half-way would otherwise wait forever.
/// </summary>
internal sealed class ReadTimeoutStream(Stream inner, TimeSpan timeout, string operation) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (timeout == Timeout.InfiniteTimeSpan) return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stalled.CancelAfter(timeout);
        try
        {
            return await inner.ReadAsync(buffer, stalled.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GeminiApiException(operation, 0, "DEADLINE_EXCEEDED",
                $"no data arrived for {timeout.TotalSeconds:0} s while reading the response (${GeminiOptions.TimeoutVariable} sets this limit)");
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
