using System.Diagnostics;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>
/// One row's runs of a call that needs untimed work around it (a fresh copy of a database, a fresh server):
/// only the call itself is timed, and only its allocations, managed-heap growth and peak working set count.
/// </summary>
/// <remarks>
/// Before each call a compacting full GC hands memory left by earlier rows back to the OS, and the working-set
/// high-water mark is reset (<see cref="MemoryScope.ResetPeak"/>), so a row's peak is its own call's, not what a
/// baseline that held everything in memory left committed. Peak and growth are the maxima over the runs.
/// </remarks>
internal sealed class TimedCalls
{
    private const double Mb = 1024.0 * 1024.0;

    private readonly List<double> samples = [];
    private long allocated;
    private long maxGrowth = long.MinValue;
    private long maxPeak;
    private long minStart = long.MaxValue, maxStart;
    private bool peakIsPerCall = true;

    /// <summary>Managed bytes allocated by the last call (garbage included).</summary>
    public long LastAllocatedBytes { get; private set; }

    public async Task<T> RunAsync<T>(Func<Task<T>> call)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        peakIsPerCall &= MemoryScope.ResetPeak();
        var startWorkingSet = MemoryScope.PeakWorkingSetBytes(); // just reset: the working set now
        (minStart, maxStart) = (Math.Min(minStart, startWorkingSet), Math.Max(maxStart, startWorkingSet));
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var start = Stopwatch.GetTimestamp();

        var result = await call().ConfigureAwait(false);

        samples.Add(Measure.Milliseconds(start));
        LastAllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        allocated += LastAllocatedBytes;
        maxPeak = Math.Max(maxPeak, MemoryScope.PeakWorkingSetBytes());
        // The call may have completed on another thread, running this continuation inline beneath its own frames
        // (the core's pipelined sync does): those frames still hold its last objects. Measure from a fresh stack.
        await Task.Yield();
        maxGrowth = Math.Max(maxGrowth, GC.GetTotalMemory(forceFullCollection: true) - heapBefore);
        return result;
    }

    public Task RunAsync(Func<Task> call) => RunAsync(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    public Timings Timings => new(samples, allocated);

    /// <summary>False when the peak could not be reset per call (then it is the process's peak so far).</summary>
    public bool PeakIsPerCall => peakIsPerCall;

    public MemoryUse Memory => new(maxPeak / Mb, maxGrowth / Mb);

    /// <summary>The process's working set when the calls started (min and max over runs): the floor under their peaks.</summary>
    public (double Min, double Max) StartWorkingSetMb => (minStart / Mb, maxStart / Mb);

    /// <summary>The start working sets of several rows, e.g. "the calls started at 95–120 MB".</summary>
    public static string StartRange(IEnumerable<TimedCalls> rows)
    {
        var all = rows.Select(r => r.StartWorkingSetMb).ToList();
        return $"{Format.Mb(all.Min(r => r.Min))}–{Format.Mb(all.Max(r => r.Max))} MB";
    }

    public TimingRow Row(string scenario, double? ratio) => new(scenario, Timings, ratio, Memory);
}
