using System.Diagnostics;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>Elapsed times of one measured operation, in milliseconds: every sample is kept.</summary>
internal sealed class Timings
{
    private readonly double[] sorted;

    public Timings(IEnumerable<double> samplesMs, long? allocatedBytes = null)
    {
        sorted = samplesMs.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("No samples.", nameof(samplesMs));
        AllocatedBytes = allocatedBytes;
    }

    public int Count => sorted.Length;

    /// <summary>Managed bytes allocated during the timed calls (garbage included), when measured in this process.</summary>
    public long? AllocatedBytes { get; }

    public double? AllocatedBytesPerSample => AllocatedBytes / (double)Count;
    public double Min => sorted[0];
    public double Max => sorted[^1];

    public double Median => sorted.Length % 2 == 1
        ? sorted[sorted.Length / 2]
        : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

/// <summary>Runs and times operations: one sample per call, wall-clock time by <see cref="Stopwatch"/>.</summary>
internal static class Measure
{
    public static double Milliseconds(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;

    /// <summary>
    /// Calls <paramref name="body"/>(run, item) for every item, <paramref name="runs"/> times over (run-major: each run
    /// goes through all items in order), timing each call. Nothing is discarded: warm-up is the caller's choice.
    /// </summary>
    public static async Task<Timings> RepeatAsync(int runs, int items, Func<int, int, Task> body)
    {
        var samples = new List<double>(runs * items);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (var run = 0; run < runs; run++)
        {
            for (var item = 0; item < items; item++)
            {
                var start = Stopwatch.GetTimestamp();
                await body(run, item).ConfigureAwait(false);
                samples.Add(Milliseconds(start));
            }
        }

        return new Timings(samples, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    /// <summary>Synchronous twin of <see cref="RepeatAsync"/>.</summary>
    public static Timings Repeat(int runs, int items, Action<int, int> body) =>
        RepeatAsync(runs, items, (run, item) =>
        {
            body(run, item);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
}

/// <summary>What one scenario did to this process's memory.</summary>
internal sealed record MemoryUse(double PeakWorkingSetMb, double ManagedGrowthMb);

/// <summary>
/// Memory around a scenario: the process's peak working set and the growth of the managed heap (live objects
/// after a full GC, before and after).
/// </summary>
/// <remarks>
/// <see cref="Process.PeakWorkingSet64"/> is a high-water mark for the whole process. On Linux it is reset at
/// the start of each scenario (writing 5 to /proc/self/clear_refs resets VmHWM), so each scenario reports
/// its own peak; where that is not possible the peak is the process's since it started
/// (<see cref="PeakIsPerScenario"/> says which).
/// </remarks>
internal sealed class MemoryScope
{
    private const double Mb = 1024.0 * 1024.0;

    private readonly long managedAtStart;

    private MemoryScope()
    {
        managedAtStart = GC.GetTotalMemory(forceFullCollection: true);
        PeakIsPerScenario = TryResetPeakWorkingSet();
    }

    /// <summary>False once a reset failed: peaks are then cumulative for the process.</summary>
    public static bool PeakIsPerScenario { get; private set; } = true;

    public static MemoryScope Start() => new();

    public MemoryUse Stop()
    {
        var peak = PeakWorkingSetBytes();
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        return new MemoryUse(peak / Mb, (managed - managedAtStart) / Mb);
    }

    /// <summary>Starts a new high-water mark of the working set (for one timed call); false where that is not possible.</summary>
    public static bool ResetPeak() => TryResetPeakWorkingSet();

    public static long PeakWorkingSetBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }

    private static bool TryResetPeakWorkingSet()
    {
        if (!OperatingSystem.IsLinux()) return PeakIsPerScenario = false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return PeakIsPerScenario;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return PeakIsPerScenario = false;
        }
    }
}
