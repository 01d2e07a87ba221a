using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace SemanticCore.Host;

/// <summary>
/// One runspace on <see cref="ConsoleHost"/>: imports the modules, runs the script with its output
/// (errors merged in) piped to Out-Default, as pwsh does, and turns the outcome into an exit code.
/// </summary>
internal sealed class ScriptRunner : IDisposable
{
    public const int ExitScriptFailed = 1;
    public const int ExitStopped = 130;

    private const string StatusVariable = "SemanticCoreHostLastStatus";

    private readonly ConsoleHost _host = new();
    private readonly ConsoleHostUserInterface _ui;
    private readonly Runspace _runspace;

    private volatile PowerShell? _current;
    private volatile bool _stopRequested;

    public ScriptRunner()
    {
        var state = InitialSessionState.CreateDefault2();
        WriteCmdlets.AddMissing(state);
        if (OperatingSystem.IsWindows())
        {
            // A machine policy of Restricted would otherwise refuse the module's .ps1xml files.
            state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Unrestricted;
        }

        _ui = (ConsoleHostUserInterface)_host.UI;
        _runspace = RunspaceFactory.CreateRunspace(_host, state);
        _runspace.Open();
        _runspace.SessionStateProxy.Path.SetLocation(WildcardPattern.Escape(Environment.CurrentDirectory));
    }

    /// <summary>Imports each module (a name on PSModulePath or a path), stopping at the first failure.</summary>
    /// <returns>Null when all are imported; otherwise the exit code (the failure is already reported).</returns>
    public int? ImportModules(IEnumerable<string> modules)
    {
        foreach (var module in modules)
        {
            var outcome = Invoke(ps => ps.AddCommand("Import-Module")
                .AddParameter("Name", module)
                .AddParameter("ErrorAction", ActionPreference.Stop), out _);
            if (outcome != Outcome.Completed)
            {
                return ExitCodeFor(outcome);
            }
        }

        return null;
    }

    /// <summary>Runs the script text in the global scope, like pwsh -Command.</summary>
    public int RunCommand(string script)
    {
        // Parsed here too: the engine reports an incomplete script without any position.
        var ast = Parser.ParseInput(script, out _, out var errors);
        if (errors.Length > 0)
        {
            ReportTerminatingError(new ParseException(errors));
            return ExitScriptFailed;
        }

        // pwsh -Command exits with 1 when $? is false after the last statement. Each API pipeline
        // starts with $? reset, so the script itself records it in a last line of its own (the blank
        // line ends a trailing backtick). A script with param() or named blocks cannot take a line
        // after them; for those any error written means failure.
        var isStatementList = ast.ParamBlock is null && ast.EndBlock is { Unnamed: true }
            && ast.BeginBlock is null && ast.ProcessBlock is null && ast.DynamicParamBlock is null;
        var text = isStatementList ? $"{script}\n\n${{global:{StatusVariable}}} = $?" : script;
        var outcome = Invoke(ps => ps.AddScript(text), out var hadErrors);
        var succeeded = isStatementList
            ? _runspace.SessionStateProxy.GetVariable(StatusVariable) is true
            : !hadErrors;
        return ExitCodeFor(outcome) ?? (succeeded ? 0 : ExitScriptFailed);
    }

    /// <summary>Runs a script file with pwsh -File's argument binding and exit code rules.</summary>
    public int RunFile(string path, IEnumerable<CommandParameter> arguments)
    {
        var outcome = Invoke(ps =>
        {
            var command = new Command(path, isScript: false, useLocalScope: false);
            foreach (var argument in arguments)
            {
                command.Parameters.Add(argument);
            }

            ps.Commands.AddCommand(command);
            LetExitLeaveTheScript();
        }, out _);
        return ExitCodeFor(outcome) ?? 0;
    }

    /// <summary>Ctrl+C: stops whatever runs (the engine calls StopProcessing on the running cmdlet).</summary>
    /// <returns>False when a stop was already requested, so a second Ctrl+C can end the process.</returns>
    public bool Stop()
    {
        if (_stopRequested)
        {
            return false;
        }

        _stopRequested = true;
        _current?.BeginStop(null, null);
        return true;
    }

    public void Dispose() => _runspace.Dispose();

    /// <summary>
    /// pwsh -File makes 'exit N' in the script end the process with N. Otherwise a script file catches
    /// its own exit and only sets $LASTEXITCODE. The switch pwsh uses is internal to the engine (one flag,
    /// read by the next script started), so it is set by reflection; if a future engine renames it, the
    /// script still runs and only that exit code is lost, which is reported once.
    /// </summary>
    private void LetExitLeaveTheScript()
    {
        const BindingFlags NonPublic = BindingFlags.NonPublic | BindingFlags.Instance;
        var context = typeof(Runspace).Assembly.GetType("System.Management.Automation.Runspaces.LocalRunspace")
            ?.GetProperty("ExecutionContext", NonPublic)?.GetValue(_runspace);
        var flag = context?.GetType().GetProperty("ScriptCommandProcessorShouldRethrowExit", NonPublic);
        if (flag is null)
        {
            _ui.WriteWarningLine("This PowerShell engine does not let 'exit N' in a -File script set the exit code.");
            return;
        }

        flag.SetValue(context, true);
    }

    private int? ExitCodeFor(Outcome outcome) => outcome switch
    {
        Outcome.Stopped => ExitStopped,
        _ when _host.ExitCode is { } code => code,
        Outcome.Failed => ExitScriptFailed,
        _ => null,
    };

    private Outcome Invoke(Action<PowerShell> build, out bool hadErrors)
    {
        hadErrors = false;
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        build(ps);

        // Errors travel with the output into Out-Default, which renders them with $ErrorView and
        // sends them to the host's error line, exactly as in pwsh.
        ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
        ps.AddCommand("Out-Default");

        _current = ps;
        try
        {
            if (_stopRequested)
            {
                return Outcome.Stopped;
            }

            ps.Invoke();
            hadErrors = ps.HadErrors;
            return _stopRequested ? Outcome.Stopped : Outcome.Completed;
        }
        catch (Exception e) when (_stopRequested || e is PipelineStoppedException)
        {
            return Outcome.Stopped;
        }
        catch (Exception e)
        {
            // Whatever escapes the engine is the script's failure, reported like pwsh, never a crash.
            ReportTerminatingError(e);
            return Outcome.Failed;
        }
        finally
        {
            _current = null;
        }
    }

    // As pwsh's ReportException: the error record rendered by Out-Default ($ErrorView), sent to stderr.
    private void ReportTerminatingError(Exception e)
    {
        if (e is ParseException parse)
        {
            // Its record has no invocation info, so $ErrorView would print an empty line;
            // each ParseError prints its own position ("At line:1 char:5" and the marked line).
            var errors = parse.Errors is { Length: > 0 } ? parse.Errors.Select(error => error.ToString()) : [e.Message];
            _ui.WriteErrorLine("ParserError: " + string.Join(Environment.NewLine + Environment.NewLine, errors));
            return;
        }

        var record = (e as IContainsErrorRecord)?.ErrorRecord
            ?? new ErrorRecord(e, "SemanticCore.Host.UnhandledException", ErrorCategory.NotSpecified, null);
        try
        {
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddCommand("Out-Default");
            _ui.DivertOutputToError(() => ps.Invoke(new[] { record }));
        }
        catch (RuntimeException)
        {
            _ui.WriteErrorLine(e.Message);
        }
    }

    private enum Outcome
    {
        Completed,
        Failed,
        Stopped,
    }
}
