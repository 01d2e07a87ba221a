using System.Diagnostics;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>The host (pwsh 7.6 from the SDK) in its own process, as CI and the quick start run it (and as "another process" on an index).</summary>
public static class HostProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string workingDirectory, params string[] args) =>
        Run(workingDirectory, new Dictionary<string, string?>(), args);

    /// <summary>Runs the host with these environment variables set (or removed, when null).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the host did not finish");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the host without waiting: the caller reads its output and waits for it.</summary>
    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, new Dictionary<string, string?>(), args);

    /// <summary>Starts the host with these environment variables set (or removed, when null).</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var hostDll = Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "src", "SemanticCore.Host", "bin"), "SemanticCore.Host.dll", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).First();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(hostDll);
        start.ArgumentList.Add("-NoProfile");
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment.Remove("SEMANTICCORE_DATABASE");
        start.Environment["NO_COLOR"] = "1"; // plain text, as the assertions read it
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }
}
