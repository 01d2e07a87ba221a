namespace SemanticCore.Bench.Infrastructure;

/// <summary>
/// One benchmark scenario, run by name from the command line (and by <c>all</c>, in registration order).
/// To add one: a class in Scenarios/, one file, registered in <see cref="Program"/>'s scenario list.
/// </summary>
internal interface IScenario
{
    /// <summary>The command-line name, e.g. "search".</summary>
    string Name { get; }

    /// <summary>One line for the usage text, options included.</summary>
    string Usage { get; }

    /// <summary>The <c>--name value</c> options the scenario reads (flags such as --quick are always allowed).</summary>
    IReadOnlyCollection<string> Options { get; }

    /// <summary>Runs the scenario; progress goes to <paramref name="log"/> (stderr), results into the report.</summary>
    Task<ScenarioReport> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken);
}
