using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

/// <summary>
/// The tokens-per-minute pacing of interactive embeddings: groups cut by tokens as well as by 100 texts, calls spread
/// over a sliding window, a per-minute 429 waited out with the groups halved, on a clock that jumps over every wait.
/// </summary>
public sealed class EmbedPacerTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>A call holds its tokens a fiftieth of the window longer than the window (timers that wake early, clocks apart).</summary>
    private static readonly TimeSpan Margin = Minute / 50;

    [Theory]
    [InlineData(1000, new[] { 400, 400, 400 }, 2)]
    [InlineData(1000, new[] { 400, 600, 1 }, 2)]
    [InlineData(1000, new[] { 5000, 10 }, 1)] // over the budget on its own: alone
    [InlineData(1000, new[] { 10, 5000 }, 1)]
    [InlineData(0, new[] { 50_000, 50_000 }, 2)] // no pacing: only the 100 texts count
    public void A_group_holds_what_fits_the_budget_and_at_least_one_text(int budget, int[] tokens, int expected)
    {
        var pacer = new EmbedPacer(budget, Minute, new SteppingClock());

        Assert.Equal(expected, pacer.NextGroup(tokens, GeminiClient.MaxTextsPerEmbedCall));
    }

    [Fact]
    public void A_group_never_holds_more_than_100_texts()
    {
        var pacer = new EmbedPacer(30_000, Minute, new SteppingClock());

        Assert.Equal(100, pacer.NextGroup(Enumerable.Repeat(10, 250).ToArray(), GeminiClient.MaxTextsPerEmbedCall));
    }

    [Fact]
    public async Task Calls_over_the_budget_wait_until_earlier_calls_leave_the_window()
    {
        var clock = new SteppingClock();
        var pacer = new EmbedPacer(1000, Minute, clock);

        pacer.Complete(await pacer.ReserveAsync(600, null, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(10));
        pacer.Complete(await pacer.ReserveAsync(300, null, CancellationToken.None));
        var waits = new List<TimeSpan>();
        pacer.Complete(await pacer.ReserveAsync(600, waits.Add, CancellationToken.None)); // fits once the first has left

        Assert.Equal([TimeSpan.FromSeconds(50) + Margin], waits);
        Assert.Equal([TimeSpan.FromSeconds(50) + Margin], clock.Delays);
    }

    [Fact]
    public async Task A_call_over_the_budget_waits_for_an_empty_window_and_goes_alone()
    {
        var clock = new SteppingClock();
        var pacer = new EmbedPacer(1000, Minute, clock);

        pacer.Complete(await pacer.ReserveAsync(100, null, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(15));
        pacer.Complete(await pacer.ReserveAsync(5000, null, CancellationToken.None));
        pacer.Complete(await pacer.ReserveAsync(1, null, CancellationToken.None));

        Assert.Equal([TimeSpan.FromSeconds(45) + Margin, Minute + Margin], clock.Delays);
    }

    [Fact]
    public async Task A_call_is_counted_from_its_answer()
    {
        var clock = new SteppingClock();
        var pacer = new EmbedPacer(1000, Minute, clock);

        var slow = await pacer.ReserveAsync(1000, null, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(20)); // the call takes 20 s to be answered
        pacer.Complete(slow);
        pacer.Complete(await pacer.ReserveAsync(1, null, CancellationToken.None));

        Assert.Equal([Minute + Margin], clock.Delays);
    }

    [Fact]
    public async Task Without_a_budget_nothing_waits()
    {
        var clock = new SteppingClock();
        var pacer = new EmbedPacer(0, Minute, clock);

        for (var i = 0; i < 10; i++) pacer.Complete(await pacer.ReserveAsync(1_000_000, null, CancellationToken.None));

        Assert.Empty(clock.Delays);
    }

    [Fact]
    public async Task A_per_minute_refusal_blocks_every_call_for_the_delay_and_halves_the_groups_for_a_window()
    {
        var clock = new SteppingClock();
        var pacer = new EmbedPacer(30_000, Minute, clock);
        var small = Enumerable.Repeat(10, 100).ToArray();
        var large = Enumerable.Repeat(1000, 100).ToArray();

        pacer.Throttled(TimeSpan.FromSeconds(7), texts: 100, tokens: 30_000);
        Assert.Equal(50, pacer.NextGroup(small, GeminiClient.MaxTextsPerEmbedCall));
        Assert.Equal(15, pacer.NextGroup(large, GeminiClient.MaxTextsPerEmbedCall)); // half the refused call's tokens
        pacer.Throttled(TimeSpan.FromSeconds(3), texts: 15, tokens: 15_000);
        Assert.Equal(7, pacer.NextGroup(small, GeminiClient.MaxTextsPerEmbedCall));
        pacer.Complete(await pacer.ReserveAsync(10, null, CancellationToken.None));

        Assert.Equal([TimeSpan.FromSeconds(7)], clock.Delays); // the longer block stands
        clock.Advance(Minute);
        Assert.Equal(100, pacer.NextGroup(small, GeminiClient.MaxTextsPerEmbedCall));
    }

    [Fact]
    public async Task Clients_of_one_key_model_and_endpoint_share_a_window_others_do_not()
    {
        var options = new GeminiOptions { Endpoint = new Uri("http://127.0.0.1:9/"), TokensPerMinute = 1000 };
        var key = new ApiKey("shared-window-key-1");

        var first = EmbedPacer.Shared(options, key);

        Assert.Same(first, EmbedPacer.Shared(options with { TokensPerMinute = 500 }, key));
        Assert.Equal(500, first.TokensPerWindow); // the newest options' budget
        Assert.NotSame(first, EmbedPacer.Shared(options, new ApiKey("shared-window-key-2")));
        Assert.NotSame(first, EmbedPacer.Shared(options with { Model = "gemini-embedding-2" }, key));
        Assert.NotSame(first, EmbedPacer.Shared(options with { Endpoint = new Uri("http://127.0.0.1:10/") }, key));
    }

    [Fact]
    public async Task A_wait_for_the_budget_ends_promptly_on_cancellation()
    {
        var pacer = new EmbedPacer(100, TimeSpan.FromHours(1), TimeProvider.System);
        pacer.Complete(await pacer.ReserveAsync(100, null, CancellationToken.None));
        using var cts = new CancellationTokenSource();

        var waiting = pacer.ReserveAsync(100, _ => cts.Cancel(), cts.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    /// <summary>The client against the fake: a per-minute 429 is waited out as asked and the rest goes in halved groups.</summary>
    [Fact]
    public async Task After_a_per_minute_429_the_client_waits_as_asked_and_sends_smaller_groups()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests(":batchEmbedContents", 1, 429, retryDelay: "7s");
        var clock = new SteppingClock();
        var client = t.CreateClient(time: clock);
        var texts = Enumerable.Range(0, 150).Select(i => $"text {i:D3}").ToList(); // 4 tokens each

        var vectors = await client.EmbedAsync(texts, "RETRIEVAL_DOCUMENT");

        Assert.Equal(150, vectors.Count);
        Assert.All(vectors, Assert.NotNull);
        var sizes = t.RequestsTo(":batchEmbedContents").Select(r => System.Text.Json.JsonDocument.Parse(r.Body!).RootElement.GetProperty("requests").GetArrayLength()).ToList();
        Assert.Equal([100, 50, 50, 50], sizes); // refused, then halved
        Assert.Equal([TimeSpan.FromSeconds(7)], clock.Delays);
    }
}

/// <summary>A clock that starts at a fixed time, moves only when told to or when a wait is asked of it (jumping over it at once), and records the waits.</summary>
internal sealed class SteppingClock : TimeProvider
{
    private readonly object gate = new();
    private readonly List<TimeSpan> delays = [];
    private DateTimeOffset now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    public IReadOnlyList<TimeSpan> Delays
    {
        get { lock (gate) return delays.ToArray(); }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate) return now;
    }

    public void Advance(TimeSpan by)
    {
        lock (gate) now += by;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan) return System.CreateTimer(callback, state, dueTime, period);
        lock (gate)
        {
            delays.Add(dueTime);
            now += dueTime;
        }

        return System.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}
