using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Scenarios;

namespace SemanticCore.Bench.Search;

/// <summary>One cold query in a new process: the child's own measurements and the parent's wall time.</summary>
internal sealed record ColdRun(double InProcessMs, double WallMs, int Hits, long? VectorsScored, bool FromCache, double PeakWorkingSetMb, double ManagedMb);

/// <summary>
/// Starts this bench again as a child process, <c>dotnet SemanticCore.Bench.dll cold-query --db … --query … --mode …</c>,
/// and reads back what it measured. Wall time runs from just before the process starts until it has exited.
/// </summary>
internal static class ColdProcessRunner
{
    public static async Task<ColdRun> RunAsync(string databasePath, string query, string mode, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var child = await ChildProcess.RunAsync([ColdQueryCommand.Name, "--db", databasePath, "--query", query, "--mode", mode], cancellationToken);
        var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var output = child.Output;
        if (child.ExitCode != 0) throw new InvalidOperationException($"The cold-query child exited with code {child.ExitCode}: {output.Trim()}");

        var values = child.Values;
        double Number(string key) => values.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidOperationException($"The cold-query child printed no {key}= line. Its output: {output.Trim()}");

        return new ColdRun(
            Number(ColdQueryCommand.Keys.ColdMs),
            wall,
            (int)Number(ColdQueryCommand.Keys.Hits),
            long.TryParse(values.GetValueOrDefault(ColdQueryCommand.Keys.VectorsScored), NumberStyles.Integer, CultureInfo.InvariantCulture, out var scored) ? scored : null,
            bool.TryParse(values.GetValueOrDefault(ColdQueryCommand.Keys.FromCache), out var fromCache) && fromCache,
            Number(ColdQueryCommand.Keys.PeakWorkingSetMb),
            Number(ColdQueryCommand.Keys.ManagedMb));
    }

    /// <summary>
    /// The dotnet host: this process when it is one (<c>dotnet bench.dll</c>), else the host next to the running
    /// runtime (<c>dotnet run</c> starts the apphost), else DOTNET_HOST_PATH / DOTNET_ROOT, else "dotnet" on the PATH.
    /// </summary>
    public static string DotnetHost()
    {
        var exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } self && Path.GetFileName(self).Equals(exe, StringComparison.OrdinalIgnoreCase)) return self;

        var candidates = new List<string?>();
        // <root>/shared/Microsoft.NETCore.App/<version>/
        var runtime = new DirectoryInfo(RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        candidates.Add(runtime.Parent?.Parent?.Parent is { } root ? Path.Combine(root.FullName, exe) : null);
        candidates.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"));
        candidates.Add(Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } dotnetRoot ? Path.Combine(dotnetRoot, exe) : null);
        return candidates.FirstOrDefault(c => c is not null && File.Exists(c)) ?? exe;
    }
}
