using SemanticCore.Bench.Backends;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Scenarios;
using SemanticCore.Embedding;
using SemanticCore.Onnx;

namespace SemanticCore.Bench;

/// <summary>
/// <c>dotnet run --project bench/SemanticCore.Bench -c Release -- &lt;scenario|all&gt; [options]</c>: runs scenarios and prints
/// a plain-text report (Markdown tables) on stdout; progress goes to stderr. Exit code 0 when every check passed,
/// 1 when one failed, 2 for a bad command line.
/// </summary>
internal static class Program
{
    /// <summary>Every scenario, in the order <c>all</c> runs them. Add new ones here.</summary>
    private static readonly IScenario[] Scenarios =
    [
        new SearchScenario(),
        new QualityScenario(),
        new ImportScenario(),
        new FlushScenario(),
        new EmbedScenario(),
        new ApplyScenario(),
        new BackendsScenario(),
    ];

    private static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        // The Onnx provider, as Import-Module SemanticCore.PS.Onnx adds it: its models are in models/ beside the bench.
        EmbeddingProviders.Install(new OnnxProvider());
        try
        {
            var known = Scenarios.SelectMany(s => s.Options).Concat(ColdQueryCommand.Options).Concat(FlushSyncWorkerCommand.Options).ToHashSet(StringComparer.Ordinal);
            var options = BenchOptions.Parse(args, known);
            if (options.Command == ColdQueryCommand.Name) return await ColdQueryCommand.RunAsync(options, cancellation.Token);
            if (options.Command == FlushSyncWorkerCommand.Name) return await FlushSyncWorkerCommand.RunAsync(options, cancellation.Token);
            if (options.Command is "help" or "--help" or "-h" or "-?")
            {
                PrintUsage(Console.Out);
                return 0;
            }

            var selected = options.Command == "all" ? Scenarios : Scenarios.Where(s => s.Name == options.Command).ToArray();
            if (selected.Length == 0) throw new UsageException($"Unknown command '{options.Command}'.");
            return await RunAsync(selected, options, cancellation.Token);
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine(ex.Message);
            PrintUsage(Console.Error);
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Cancelled.");
            return 130;
        }
    }

    private static async Task<int> RunAsync(IReadOnlyList<IScenario> scenarios, BenchOptions options, CancellationToken cancellationToken)
    {
        var printer = new ReportPrinter(Console.Out);
        printer.PrintHeader(options);
        var failures = 0;
        foreach (var scenario in scenarios)
        {
            Console.Error.WriteLine($"[{scenario.Name}] started");
            try
            {
                var report = await scenario.RunAsync(options, Console.Error, cancellationToken);
                printer.Print(report);
                failures += report.Failures.Count;
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or UsageException))
            {
                Console.Out.WriteLine($"FAIL {scenario.Name}: {ex.GetType().Name}: {ex.Message}");
                Console.Out.WriteLine();
                Console.Error.WriteLine(ex);
                failures++;
            }
        }

        Console.Out.WriteLine(failures == 0 ? "RESULT: PASS" : $"RESULT: FAIL ({failures} failed check(s), see the FAIL lines above)");
        return failures == 0 ? 0 : 1;
    }

    private static void PrintUsage(TextWriter output)
    {
        output.WriteLine("Usage: dotnet run --project bench/SemanticCore.Bench -c Release -- <command> [options]");
        output.WriteLine("Commands:");
        foreach (var scenario in Scenarios) output.WriteLine($"  {scenario.Usage}");
        output.WriteLine("  all [--quick]   every scenario in turn (--quick: a smoke run at small sizes)");
        output.WriteLine("Options shared by all: --keep (keep the temporary index files).");
    }
}
