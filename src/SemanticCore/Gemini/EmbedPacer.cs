using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace SemanticCore.Gemini;

/// <summary>
/// Keeps interactive embedding calls under a tokens-per-minute budget: it sizes each call's group of texts and holds a
/// call back until the sliding window has room for it. After a per-minute 429 it waits as the service asks and halves
/// the refused group for the calls that follow, for a window.
/// </summary>
/// <remarks>
/// The service counts every text of a <c>batchEmbedContents</c> call against the project's quota, so one call of 100
/// long texts can exceed a free tier's budget on its own and fail on every retry. Token counts are
/// <see cref="Chunking.TokenEstimator"/>'s over-estimates. A call is timed from when it is answered, later than the
/// service counted it, so the window here never ends before the service's.
/// </remarks>
public sealed class EmbedPacer
{
    private static readonly ConcurrentDictionary<string, EmbedPacer> SharedPacers = new(StringComparer.Ordinal);

    private readonly object gate = new();
    private readonly List<Booking> spent = [];
    private readonly TimeProvider time;
    private DateTimeOffset blockedUntil;
    private DateTimeOffset lastThrottled;
    private int textCap = int.MaxValue;
    private int tokenCap = int.MaxValue;

    /// <param name="tokensPerWindow">The budget; 0 paces nothing (a paid tier's quota is far above what one process sends).</param>
    /// <param name="window">The span the budget is counted over (the service's minute).</param>
    public EmbedPacer(int tokensPerWindow, TimeSpan window, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokensPerWindow);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        TokensPerWindow = tokensPerWindow;
        Window = window;
        this.time = time;
    }

    public int TokensPerWindow { get; private set; }

    public TimeSpan Window { get; private set; }

    /// <summary>
    /// How long a call holds its tokens here: the window and a fiftieth more, so that timers that wake a moment early
    /// and a service whose clock runs a little behind never see a call before its tokens have left their window.
    /// </summary>
    private TimeSpan Held => Window + Window / 50;

    /// <summary>
    /// The pacer of every client of this process that calls <paramref name="options"/>' endpoint and model with
    /// <paramref name="key"/>, so consecutive commands of a session share one window; it takes the options' budget.
    /// </summary>
    public static EmbedPacer Shared(GeminiOptions options, ApiKey key)
    {
        // The key itself is never held as a dictionary key: only a hash of it, with the endpoint and the model.
        var id = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{options.Endpoint.AbsoluteUri}\n{options.ModelId}\n{key.Value}")));
        var pacer = SharedPacers.GetOrAdd(id, _ => new EmbedPacer(options.TokensPerMinute, options.TokenWindow, TimeProvider.System));
        lock (pacer.gate)
        {
            pacer.TokensPerWindow = options.TokensPerMinute;
            pacer.Window = options.TokenWindow;
        }

        return pacer;
    }

    /// <summary>
    /// How many of <paramref name="tokens"/>' texts, from the first, the next call carries: at most
    /// <paramref name="maxTexts"/> and the budget, and less after a recent 429 (see <see cref="Throttled"/>); always at least one.
    /// </summary>
    public int NextGroup(ReadOnlySpan<int> tokens, int maxTexts)
    {
        int texts, budget;
        lock (gate)
        {
            if (time.GetUtcNow() - lastThrottled >= Window) (textCap, tokenCap) = (int.MaxValue, int.MaxValue);
            texts = Math.Min(maxTexts, textCap);
            budget = Math.Min(TokensPerWindow == 0 ? int.MaxValue : TokensPerWindow, tokenCap);
        }

        var count = 0;
        long sum = 0;
        while (count < tokens.Length && count < texts && (count == 0 || sum + tokens[count] <= budget)) sum += tokens[count++];
        return count;
    }

    /// <summary>
    /// Waits until the window has room for a call of <paramref name="tokens"/> (one over the budget waits for an empty
    /// window and goes alone), and books it. <paramref name="waiting"/> hears of every wait before it starts.
    /// </summary>
    /// <returns>The booking, to <see cref="Complete"/> once the call is answered.</returns>
    public async Task<Booking> ReserveAsync(int tokens, Action<TimeSpan>? waiting, CancellationToken cancellationToken)
    {
        Booking booking;
        TimeSpan wait;
        lock (gate)
        {
            var now = time.GetUtcNow();
            spent.RemoveAll(s => s.At + Held <= now);
            var start = blockedUntil > now ? blockedUntil : now;
            if (TokensPerWindow > 0)
            {
                // The earliest start at which the calls still in the window, and this one, fit the budget.
                var inWindow = spent.Where(s => s.At + Held > start).OrderBy(s => s.At).ToList();
                long total = inWindow.Sum(s => (long)s.Tokens);
                foreach (var earlier in inWindow)
                {
                    if (total + tokens <= TokensPerWindow) break;
                    if (earlier.At + Held > start) start = earlier.At + Held;
                    total -= earlier.Tokens;
                }
            }

            booking = new Booking(start, tokens);
            spent.Add(booking);
            wait = start - now;
        }

        if (wait <= TimeSpan.Zero) return booking;
        waiting?.Invoke(wait);
        try
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (gate) spent.Remove(booking); // never sent: it holds no one else back
            throw;
        }

        return booking;
    }

    /// <summary>Dates a booked call from its answer: the service counted it by then, and counts it for a window from there.</summary>
    public void Complete(Booking booking)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (now > booking.At) booking.At = now;
        }
    }

    /// <summary>
    /// A per-minute 429 of a call of <paramref name="texts"/> texts and <paramref name="tokens"/> tokens: no call starts
    /// before <paramref name="delay"/> has passed, and until a window passes without another, calls carry at most half as much.
    /// </summary>
    public void Throttled(TimeSpan delay, int texts, int tokens)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (now + delay > blockedUntil) blockedUntil = now + delay;
            lastThrottled = now;
            textCap = Math.Min(textCap, Math.Max(1, texts / 2));
            tokenCap = Math.Min(tokenCap, Math.Max(1, tokens / 2));
        }
    }

    /// <summary>A call's place in the window: when it counts from, and its tokens.</summary>
    public sealed class Booking
    {
        internal Booking(DateTimeOffset at, int tokens)
        {
            At = at;
            Tokens = tokens;
        }

        internal DateTimeOffset At { get; set; }

        internal int Tokens { get; }
    }
}
