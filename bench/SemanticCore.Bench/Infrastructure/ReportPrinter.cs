using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>Writes the plain-text report: a header, then per scenario its setup lines, a Markdown table and notes.</summary>
internal sealed class ReportPrinter(TextWriter output)
{
    public void PrintHeader(BenchOptions options)
    {
        output.WriteLine("# SemanticCore.Bench");
        output.WriteLine();
        output.WriteLine($"- Date: {DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture)}");
        output.WriteLine($"- Command: dotnet run --project bench/SemanticCore.Bench -c Release -- {string.Join(' ', options.Arguments.Select(Quote))}");
        output.WriteLine($"- Machine: {Environment.ProcessorCount} logical processors{(CpuModel() is { } cpu ? $" ({cpu})" : "")}, " +
                         $"{Format.Bytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)} memory available to the GC");
        output.WriteLine($"- OS: {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}), RID {RuntimeInformation.RuntimeIdentifier}");
        output.WriteLine($"- .NET: {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.ProcessArchitecture}), " +
                         $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC{(GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent")}");
        output.WriteLine($"- SemanticCore: {typeof(SemanticCore.Search.IndexSearch).Assembly.GetName().Version}, " +
                         $"built {(IsOptimized(typeof(SemanticCore.Search.IndexSearch).Assembly) ? "optimized (Release)" : "NOT optimized (Debug)")}" +
                         (SourceRevision() is { } revision ? $", source {revision}" : ""));
        if (!IsOptimized(typeof(ReportPrinter).Assembly) || !IsOptimized(typeof(SemanticCore.Search.IndexSearch).Assembly))
        {
            output.WriteLine("- WARNING: a Debug build; run with -c Release for numbers worth keeping.");
        }

        output.WriteLine();
    }

    public void Print(ScenarioReport report)
    {
        output.WriteLine($"## {report.Title}");
        output.WriteLine();
        foreach (var line in report.Setup) output.WriteLine(line);
        if (report.Setup.Count > 0) output.WriteLine();
        if (report.Table.Rows.Count > 0)
        {
            PrintTable(report.Table);
            output.WriteLine();
        }

        foreach (var line in report.Notes) output.WriteLine(line);
        foreach (var warning in report.Warnings) output.WriteLine($"WARN {warning}");
        foreach (var failure in report.Failures) output.WriteLine($"FAIL {failure}");
        if (report.Notes.Count + report.Warnings.Count + report.Failures.Count > 0) output.WriteLine();
    }

    /// <summary>A Markdown table with the columns padded, so it reads as well in a terminal as rendered.</summary>
    public void PrintTable(ReportTable table)
    {
        var widths = table.Headers.Select((h, i) => Math.Max(3, table.Rows.Select(r => r[i].Length).Append(h.Length).Max())).ToArray();
        // Numbers right-aligned: every column but the first.
        string Line(IReadOnlyList<string> cells) =>
            "| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";

        output.WriteLine(Line(table.Headers));
        output.WriteLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : " " + new string('-', w - 1) + ": ")) + "|");
        foreach (var row in table.Rows) output.WriteLine(Line(row));
    }

    /// <summary>The repository's commit, and whether src/ has uncommitted changes; null when git is not available.</summary>
    private static string? SourceRevision()
    {
        try
        {
            var root = RepositoryPaths.Root;
            var commit = Git(root, "rev-parse", "--short", "HEAD");
            if (string.IsNullOrEmpty(commit)) return null;
            var changes = Git(root, "status", "--porcelain", "--", "src");
            return changes is null ? $"commit {commit}" : $"commit {commit}{(changes.Length == 0 ? "" : " + uncommitted changes in src/")}";
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            return null;
        }
    }

    private static string? Git(string root, params string[] args)
    {
        var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-C");
        info.ArgumentList.Add(root);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info);
        if (process is null) return null;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : null;
    }

    private static string Quote(string arg) => arg.Length > 0 && !arg.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? arg : $"\"{arg.Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    private static bool IsOptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };

    private static string? CpuModel()
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !File.Exists("/proc/cpuinfo")) return null;
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
