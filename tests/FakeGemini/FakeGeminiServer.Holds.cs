using Microsoft.AspNetCore.Http;

namespace FakeGemini;

/// <summary>
/// A request held at a named point, so a test can act while a client waits there: kill the client
/// process (the crash suite), or let the client's own timeout run out.
/// </summary>
public sealed class HeldRequest
{
    private readonly TaskCompletionSource arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal HeldRequest(Func<string, string, bool> matches, bool afterHandling, int skip)
    {
        Matches = matches;
        AfterHandling = afterHandling;
        Skip = skip;
    }

    internal Func<string, string, bool> Matches { get; }

    /// <summary>The service did the request's work (the job exists, the chunk is stored) and the reply is what is held.</summary>
    public bool AfterHandling { get; }

    internal int Skip { get; set; }

    /// <summary>Completes when the matching request is being held (after its work, when <see cref="AfterHandling"/>).</summary>
    public Task Arrived => arrived.Task;

    /// <summary>Lets the held request go on: its reply is sent.</summary>
    public void Release() => released.TrySetResult();

    internal async Task WaitAsync(CancellationToken cancellationToken)
    {
        arrived.TrySetResult();
        await released.Task.WaitAsync(cancellationToken);
    }
}

public sealed partial class FakeGeminiServer
{
    private readonly List<HeldRequest> _holds = [];

    /// <summary>
    /// Holds the next request for which <paramref name="matches"/>(method, path + query) is true, after
    /// <paramref name="skip"/> such requests pass. It waits until released, or until the client goes away
    /// (a killed process, a timeout), which then never gets an answer.
    /// </summary>
    public HeldRequest Hold(Func<string, string, bool> matches, bool afterHandling = false, int skip = 0)
    {
        var hold = new HeldRequest(matches, afterHandling, skip);
        lock (_gate) _holds.Add(hold);
        return hold;
    }

    private HeldRequest? TakeHold(HttpRequest request)
    {
        var target = request.Path.Value + request.QueryString.Value;
        lock (_gate)
        {
            var hold = _holds.FirstOrDefault(h => h.Matches(request.Method, target));
            if (hold is null) return null;
            if (hold.Skip > 0)
            {
                hold.Skip--;
                return null;
            }

            _holds.Remove(hold);
            return hold;
        }
    }

    /// <summary>Routes the request under its hold: before the work, or with the reply buffered until released.</summary>
    private async Task RouteHeldAsync(HttpContext context, byte[] body, HeldRequest hold, CancellationToken aborted)
    {
        if (!hold.AfterHandling)
        {
            await hold.WaitAsync(aborted);
            await RouteAsync(context, body);
            return;
        }

        // Nothing reaches the client before the release: the headers go out with the first write to the real body.
        var wire = context.Response.Body;
        using var reply = new MemoryStream();
        context.Response.Body = reply;
        try
        {
            await RouteAsync(context, body);
            await hold.WaitAsync(aborted);
        }
        finally
        {
            context.Response.Body = wire;
        }

        reply.Position = 0;
        await reply.CopyToAsync(wire, aborted);
    }
}
