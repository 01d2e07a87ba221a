using System.Diagnostics;
using System.Globalization;
using SemanticCore.Bench.Search;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>What a child run of this bench printed: its exit code, its stdout and stderr, and its KEY=value lines.</summary>
internal sealed record ChildRun(int ExitCode, string Output, IReadOnlyDictionary<string, string> Values)
{
    /// <summary>The child's <c>PEAK_WS_MB=</c> line (its own peak working set), 0 when it printed none.</summary>
    public double PeakWorkingSetMb => Values.TryGetValue(ChildProcess.PeakWorkingSetKey, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var mb) ? mb : 0;
}

/// <summary>Starts this bench again as a child process (<c>dotnet SemanticCore.Bench.dll &lt;command&gt; …</c>) and reads what it printed.</summary>
internal static class ChildProcess
{
    /// <summary>The line a child prints with its peak working set in MB.</summary>
    public const string PeakWorkingSetKey = "PEAK_WS_MB";

    public static async Task<ChildRun> RunAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(ColdProcessRunner.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        foreach (var arg in arguments) info.ArgumentList.Add(arg);

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start '{info.FileName}'.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = await stdout;
        var values = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
        return new ChildRun(process.ExitCode, output + await stderr, values);
    }

    /// <summary>Prints this process's peak working set as the <see cref="PeakWorkingSetKey"/> line.</summary>
    public static void PrintPeakWorkingSet() =>
        Console.Out.WriteLine($"{PeakWorkingSetKey}={(MemoryScope.PeakWorkingSetBytes() / (1024.0 * 1024.0)).ToString("R", CultureInfo.InvariantCulture)}");
}
