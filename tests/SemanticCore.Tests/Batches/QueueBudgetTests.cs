using SemanticCore.Batches;

namespace SemanticCore.Tests.Batches;

/// <summary>The queue budget's rules (what a refusal teaches, how it grows back) and the flush forecast's jobs and rounds.</summary>
public sealed class QueueBudgetTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_refusal_with_jobs_in_flight_makes_the_budget_what_the_service_had_accepted()
    {
        var learned = new QueueBudget().AfterRefusal(tokensInFlight: 1_200_000, jobTokens: 500_000, Now)!;

        Assert.Equal(1_200_000, learned.LearnedLimit);
        Assert.Equal(1_200_000, learned.QueueTokens);
        Assert.Equal(1_700_000, learned.RefusedTokens);
        Assert.Equal(500_000, learned.JobTokens(500_000));
    }

    [Fact]
    public void A_refusal_with_nothing_in_flight_halves_the_job_and_keeps_the_queue_below_the_refused_job()
    {
        var learned = new QueueBudget().AfterRefusal(tokensInFlight: 0, jobTokens: 500_000, Now)!;

        Assert.Equal(250_000, learned.JobTokens(500_000));
        Assert.Equal(499_999, learned.QueueTokens);
        Assert.Null(learned.LearnedLimit);
    }

    [Fact]
    public void A_small_job_refused_with_nothing_in_flight_teaches_nothing()
    {
        Assert.Null(new QueueBudget().AfterRefusal(tokensInFlight: 0, jobTokens: QueueBudget.SmallestLearnedJob, Now));
        Assert.Equal(QueueBudget.SmallestLearnedJob, new QueueBudget().AfterRefusal(0, QueueBudget.SmallestLearnedJob + 2, Now)!.LearnedJobTokens);
    }

    [Fact]
    public void The_limit_set_wins_over_a_larger_learned_one_and_the_smaller_wins_either_way()
    {
        Assert.Equal(100, new QueueBudget { Limit = 100, LearnedLimit = 200 }.QueueTokens);
        Assert.Equal(100, new QueueBudget { Limit = 300, LearnedLimit = 100 }.QueueTokens);
        Assert.Null(new QueueBudget().QueueTokens);
    }

    [Theory]
    [InlineData(1_000_000L, null, 1_250_000L)]        // never refused: a quarter more
    [InlineData(1_000_000L, 1_200_000L, 1_100_000L)]  // at most halfway to the smallest total refused
    [InlineData(1_000_000L, 1_000_001L, 1_000_000L)]  // at the ceiling: no growth
    public void An_accepted_round_held_by_the_queue_grows_the_learned_limit_slowly(long learned, long? refused, long expected)
    {
        var budget = new QueueBudget { LearnedLimit = learned, RefusedTokens = refused };

        Assert.Equal(expected, budget.AfterAcceptedRound(heldByQueue: true, heldByJobSize: false, maxJobTokens: 500_000).LearnedLimit);
        Assert.Equal(budget, budget.AfterAcceptedRound(heldByQueue: false, heldByJobSize: false, maxJobTokens: 500_000));
    }

    [Fact]
    public void A_refused_total_is_a_ceiling_for_a_day_only()
    {
        var learned = new QueueBudget().AfterRefusal(tokensInFlight: 0, jobTokens: 7_812, Now)!;

        Assert.Equal(7_811, learned.AsOf(Now + TimeSpan.FromHours(23)).QueueTokens);
        var dayAfter = learned.AsOf(Now + QueueBudget.CeilingLifetime + TimeSpan.FromMinutes(1));
        Assert.Null(dayAfter.QueueTokens);
        Assert.Null(dayAfter.RefusedAt);
        Assert.Equal(learned.LearnedJobTokens, dayAfter.LearnedJobTokens); // the job size grows back round by round
    }

    [Fact]
    public void A_learned_job_size_that_grows_back_to_the_maximum_is_forgotten()
    {
        var budget = new QueueBudget { LearnedJobTokens = 450_000 };

        Assert.Null(budget.AfterAcceptedRound(heldByQueue: false, heldByJobSize: true, maxJobTokens: 500_000).LearnedJobTokens);
        Assert.Equal(187_500, new QueueBudget { LearnedJobTokens = 150_000 }.AfterAcceptedRound(false, true, 500_000).LearnedJobTokens);
    }

    [Fact]
    public void A_packer_refuses_what_passes_its_limits_but_always_takes_a_first_chunk_past_the_soft_one()
    {
        var packer = new ClaimLimits(MaxChunks: 3, MaxJobTokens: 100, QueueTokens: null, AffordableTokens: null).PackerFor(0, 0)!;

        Assert.True(packer.TryAdd(150, 1)); // a first chunk alone may pass the job size
        Assert.False(packer.TryAdd(1, 1));
        var counted = new ClaimLimits(3, 100, null, null).PackerFor(0, 0)!;
        Assert.True(counted.TryAdd(10, 1) && counted.TryAdd(10, 1) && counted.TryAdd(10, 1));
        Assert.False(counted.TryAdd(10, 1)); // -MaxBatchSize
        Assert.False(new ClaimLimits(3, 100, null, AffordableTokens: 5).PackerFor(0, 0)!.TryAdd(10, 1)); // the cost cap is hard
    }

    [Fact]
    public void The_queue_has_no_room_at_its_budget_or_at_100_unfinished_jobs_and_a_busy_queue_takes_no_oversized_chunk()
    {
        var limits = new ClaimLimits(MaxChunks: 1_000, MaxJobTokens: 500, QueueTokens: 1_000, AffordableTokens: null);

        Assert.Null(limits.PackerFor(unfinishedJobs: 2, tokensInFlight: 1_000));
        Assert.Null(limits.PackerFor(unfinishedJobs: ClaimLimits.MaxUnfinishedJobs, tokensInFlight: 0));
        Assert.False(limits.PackerFor(unfinishedJobs: 1, tokensInFlight: 900)!.TryAdd(101, 1));
        Assert.True(limits.PackerFor(unfinishedJobs: 0, tokensInFlight: 0)!.TryAdd(2_000, 1));
    }

    [Fact]
    public void The_forecast_counts_the_jobs_of_each_round_and_what_the_cost_cap_holds()
    {
        // 20 chunks of 100 tokens, jobs of 300, a budget of 600 with 200 already in flight: this round has room for 400
        // (a job of 300, then one of 100); each later round for two full jobs.
        var forecast = new FlushForecast(new ClaimLimits(MaxChunks: 1_000, MaxJobTokens: 300, QueueTokens: 600, AffordableTokens: null), 1, 200);
        for (var i = 0; i < 20; i++) forecast.Add(100, 10);
        forecast.Close();

        Assert.Equal((4L, 2, 400L), forecast.FirstRound);
        Assert.Equal((20L, 8, 2_000L), forecast.Drained);
        Assert.Equal(1 + 3, forecast.Rounds);
        Assert.Equal(0, forecast.HeldByCost);

        var capped = new FlushForecast(new ClaimLimits(1_000, 300, null, AffordableTokens: 750), 0, 0);
        for (var i = 0; i < 20; i++) capped.Add(100, 10);
        capped.Close();
        Assert.Equal((7L, 3, 700L), capped.Drained);
        Assert.Equal(13, capped.HeldByCost);
        Assert.Equal(1, capped.Rounds);
    }
}
