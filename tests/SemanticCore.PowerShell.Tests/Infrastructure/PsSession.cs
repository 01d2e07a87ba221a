using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>What one script run produced on every stream.</summary>
public sealed record PsResult(
    IReadOnlyList<PSObject> Output,
    IReadOnlyList<ErrorRecord> Errors,
    IReadOnlyList<string> Verbose,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> Debug,
    IReadOnlyList<ProgressRecord> Progress,
    IReadOnlyList<InformationRecord> Information,
    ErrorRecord? Terminating)
{
    /// <summary>Everything the run printed or raised, as text: for asserting that a secret appears nowhere.</summary>
    public string AllText => string.Join("\n", Output.Select(o => o?.ToString())
        .Concat(Errors.Select(e => e.ToString() + " " + e.Exception))
        .Concat(Verbose).Concat(Warnings).Concat(Debug)
        .Concat(Information.Select(i => i.MessageData?.ToString()))
        .Concat(Progress.Select(p => $"{p.Activity} {p.StatusDescription} {p.CurrentOperation}"))
        .Append(Terminating is null ? "" : Terminating + " " + Terminating.Exception));

    public PSObject Single() => Assert.Single(Output);

    /// <summary>Fails with every error's text when the run had any error.</summary>
    public PsResult AssertNoErrors()
    {
        Assert.True(Terminating is null && Errors.Count == 0,
            "Unexpected errors:\n" + string.Join("\n", Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")) + Terminating);
        return this;
    }
}

/// <summary>A runspace with the module imported, its location in a test's own directory.</summary>
public sealed class PsSession : IDisposable
{
    private const string TerminatingVariable = "__TestTerminatingError";

    private readonly Runspace runspace;

    public PsSession(InitialSessionState state, string workingDirectory)
    {
        runspace = RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        runspace.SessionStateProxy.Path.SetLocation(workingDirectory);
    }

    public PsResult Run(string script, IDictionary<string, object?>? variables = null)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = runspace;
        foreach (var (name, value) in variables ?? new Dictionary<string, object?>())
        {
            runspace.SessionStateProxy.SetVariable(name, value);
        }

        // try/catch sees exactly the terminating errors (ThrowTerminatingError, throw); per-item errors flow past it.
        runspace.SessionStateProxy.SetVariable(TerminatingVariable, null);
        ps.AddScript($"try {{\n{script}\n}} catch {{ $global:{TerminatingVariable} = $_ }}");
        Collection<PSObject> output = ps.Invoke();
        var terminating = (runspace.SessionStateProxy.GetVariable(TerminatingVariable) as PSObject)?.BaseObject as ErrorRecord
            ?? runspace.SessionStateProxy.GetVariable(TerminatingVariable) as ErrorRecord;

        return new PsResult(
            output.Where(o => o is not null).ToList(),
            ps.Streams.Error.ToList(),
            ps.Streams.Verbose.Select(v => v.Message).ToList(),
            ps.Streams.Warning.Select(w => w.Message).ToList(),
            ps.Streams.Debug.Select(d => d.Message).ToList(),
            ps.Streams.Progress.ToList(),
            ps.Streams.Information.ToList(),
            terminating);
    }

    public void Dispose() => runspace.Dispose();
}
