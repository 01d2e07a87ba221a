using System.Globalization;
using SemanticCore.Batches;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Embedding;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Backends;

/// <summary>
/// The child side of the concurrent batch measurement (internal command <c>flush-sync-worker</c>): one process of several
/// draining one index as <c>Invoke-BatchFlush -Wait</c> does on its host: claims Pending chunks into jobs of the Local
/// provider (spooled in the index's own spool, which every worker shares), waits for them and stores their results, until nothing is Pending.
/// Prints <c>JOBS=</c> (the jobs it created or synced) and <c>ERRORS=</c>; exit code 1 when the drain reported errors.
/// </summary>
internal static class FlushSyncWorkerCommand
{
    public const string Name = "flush-sync-worker";

    public static readonly string[] Options = ["db", "batch"];

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var database = options.RequiredString("db");
        var batch = options.Int("batch", 1_000);
        using var index = SemanticIndex.Open(database, createIfMissing: false);
        var manager = new BatchManager(index, new LocalBatchService(index.Spool, new LocalEmbeddingProvider(index.Settings)));
        var result = await manager.DrainAsync(
            new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = batch, MaxJobTokens = long.MaxValue },
            new DrainOptions(TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(30), MaxRetries: 3), progress: null, cancellationToken);
        Console.Out.WriteLine($"JOBS={result.Jobs.Count.ToString(CultureInfo.InvariantCulture)}");
        Console.Out.WriteLine($"ERRORS={result.Errors.Count.ToString(CultureInfo.InvariantCulture)}");
        ChildProcess.PrintPeakWorkingSet();
        foreach (var error in result.Errors) Console.Error.WriteLine($"{error.ErrorId}: {error.Message}");
        return result.Errors.Count == 0 ? 0 : 1;
    }
}
