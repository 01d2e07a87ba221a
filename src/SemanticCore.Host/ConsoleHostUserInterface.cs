using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Internal;
using System.Security;
using System.Text;

namespace SemanticCore.Host;

/// <summary>
/// Where the engine's text goes. Output (Out-Default, Write-Host, Write-Information) goes to stdout;
/// errors, warnings, verbose and debug lines, progress and prompts go to stderr. pwsh writes all but
/// errors to stdout; here stdout carries only what the script produced, so callers can parse it.
/// </summary>
internal sealed class ConsoleHostUserInterface : PSHostUserInterface
{
    private readonly ConsoleRawUserInterface _rawUI = new();
    private readonly TextWriter _out = Console.Out;
    private readonly TextWriter _error = Console.Error;
    private readonly bool _colorOut = !Console.IsOutputRedirected;
    private readonly bool _colorError = !Console.IsErrorRedirected;
    private readonly ProgressRenderer _progress = new(Console.Error, enabled: !Console.IsErrorRedirected);
    private bool _outputToError;

    public override PSHostRawUserInterface RawUI => _rawUI;

    // The error view and scripts ask this before colouring text; errors go to stderr and output to
    // stdout, so both must be terminals. (Escape codes that reach a redirected stream are stripped.)
    public override bool SupportsVirtualTerminal => _colorOut && _colorError;

    public override void Write(string value) => WriteOut(value);

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) =>
        WriteOut(Colorize(foregroundColor, backgroundColor, value));

    public override void WriteLine() => WriteOut(Environment.NewLine);

    public override void WriteLine(string value) => WriteOut(value + Environment.NewLine);

    public override void WriteLine(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) =>
        WriteOut(Colorize(foregroundColor, backgroundColor, value) + Environment.NewLine);

    public override void WriteErrorLine(string value) => WriteError(value, PSStyle.Instance.Formatting.Error);

    public override void WriteWarningLine(string message) =>
        WriteError("WARNING: " + message, PSStyle.Instance.Formatting.Warning);

    public override void WriteVerboseLine(string message) =>
        WriteError("VERBOSE: " + message, PSStyle.Instance.Formatting.Verbose);

    public override void WriteDebugLine(string message) =>
        WriteError("DEBUG: " + message, PSStyle.Instance.Formatting.Debug);

    /// <summary>
    /// Runs <paramref name="render"/> with output going to stderr. The public API cannot mark an object
    /// for Out-Default's error stream, so a terminating error is rendered this way instead.
    /// </summary>
    public void DivertOutputToError(Action render)
    {
        _outputToError = true;
        try
        {
            render();
        }
        finally
        {
            _outputToError = false;
        }
    }

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        // A progress bar must never be the reason a script fails.
        try
        {
            _progress.Update(sourceId, record);
        }
        catch (Exception)
        {
        }
    }

    public override string ReadLine() => ReadInputLine(echo: true)
        ?? throw new PromptingException("Cannot read a line: standard input is at its end.");

    public override SecureString ReadLineAsSecureString()
    {
        _progress.Hide();
        var secure = new SecureString();
        if (Console.IsInputRedirected)
        {
            var line = ReadInputLine(echo: false)
                ?? throw new PromptingException("Cannot read a line: standard input is at its end.");
            foreach (var ch in line)
            {
                secure.AppendChar(ch);
            }
        }
        else
        {
            // Read keys unechoed so a typed secret never shows on screen.
            for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
            {
                if (key.Key == ConsoleKey.Backspace)
                {
                    if (secure.Length > 0)
                    {
                        secure.RemoveAt(secure.Length - 1);
                    }
                }
                else if (key.KeyChar != '\0')
                {
                    secure.AppendChar(key.KeyChar);
                }
            }

            _error.WriteLine();
        }

        secure.MakeReadOnly();
        return secure;
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        WritePromptHeader(caption, message);
        var results = new Dictionary<string, PSObject>();
        foreach (var field in descriptions)
        {
            var label = string.IsNullOrEmpty(field.Label) ? field.Name : field.Label.Replace("&", string.Empty, StringComparison.Ordinal);
            var type = field.ParameterTypeFullName ?? string.Empty;
            if (type == typeof(PSCredential).FullName)
            {
                results[field.Name] = PSObject.AsPSObject(PromptForCredential(caption, message, null!, null!));
            }
            else if (type == typeof(SecureString).FullName)
            {
                _error.Write(label + ": ");
                results[field.Name] = PSObject.AsPSObject(ReadPromptLine(label, secure: true));
            }
            else if (type.EndsWith("[]", StringComparison.Ordinal))
            {
                // Like pwsh: one element per line, an empty line ends the list.
                var items = new List<object>();
                while (true)
                {
                    _error.Write($"{label}[{items.Count}]: ");
                    var line = (string)ReadPromptLine(label, secure: false);
                    if (line.Length == 0)
                    {
                        break;
                    }

                    items.Add(line);
                }

                results[field.Name] = PSObject.AsPSObject(items.ToArray());
            }
            else
            {
                _error.Write(label + ": ");
                results[field.Name] = PSObject.AsPSObject(ReadPromptLine(label, secure: false));
            }
        }

        return results;
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        WritePromptHeader(caption, message);
        var hotkeys = choices.Select(c => HotKey(c.Label)).ToList();
        var line = new StringBuilder();
        for (var i = 0; i < choices.Count; i++)
        {
            line.Append('[').Append(hotkeys[i]).Append("] ").Append(choices[i].Label.Replace("&", string.Empty, StringComparison.Ordinal)).Append("  ");
        }

        line.Append("[?] Help");
        if (defaultChoice >= 0 && defaultChoice < choices.Count)
        {
            line.Append(" (default is \"").Append(hotkeys[defaultChoice]).Append("\")");
        }

        line.Append(": ");
        while (true)
        {
            _error.Write(line);
            var answer = ReadInputLine(echo: true)?.Trim()
                ?? throw new PromptingException(
                    $"Cannot ask \"{caption}\": standard input has no answer. Pipe one in (e.g. 'Y') "
                    + "or avoid the prompt (for confirmations: -Confirm:$false).");
            if (answer.Length == 0 && defaultChoice >= 0 && defaultChoice < choices.Count)
            {
                return defaultChoice;
            }

            if (answer == "?")
            {
                for (var i = 0; i < choices.Count; i++)
                {
                    _error.WriteLine($"{hotkeys[i]} - {choices[i].HelpMessage}");
                }

                continue;
            }

            var chosen = hotkeys.FindIndex(k => string.Equals(k, answer, StringComparison.OrdinalIgnoreCase));
            if (chosen < 0)
            {
                chosen = choices.ToList().FindIndex(c =>
                    string.Equals(c.Label.Replace("&", string.Empty, StringComparison.Ordinal), answer, StringComparison.CurrentCultureIgnoreCase));
            }

            if (chosen >= 0)
            {
                return chosen;
            }
        }
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        throw new NotSupportedException(
            "SemanticCore.Host cannot prompt for a credential; pass a PSCredential object to the parameter instead.");

    public override PSCredential PromptForCredential(
        string caption, string message, string userName, string targetName,
        PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
        PromptForCredential(caption, message, userName, targetName);

    // The letter after '&' in "&Yes", or the first letter, as pwsh shows choices.
    private static string HotKey(string label)
    {
        var amp = label.IndexOf('&', StringComparison.Ordinal);
        var key = amp >= 0 && amp + 1 < label.Length ? label[amp + 1] : label.FirstOrDefault(char.IsLetterOrDigit);
        return key == '\0' ? "?" : char.ToUpper(key, CultureInfo.CurrentCulture).ToString();
    }

    private object ReadPromptLine(string label, bool secure)
    {
        try
        {
            return secure ? ReadLineAsSecureString() : ReadLine();
        }
        catch (PromptingException)
        {
            throw new PromptingException(
                $"Cannot prompt for '{label}': standard input has no value. Pass it as a parameter instead.");
        }
    }

    /// <summary>A line from stdin; null at its end. A redirected answer is echoed (or a line ended)
    /// after the prompt on stderr, so a log reads "...(default is "Y"): Y" rather than run on.</summary>
    private string? ReadInputLine(bool echo)
    {
        _progress.Hide();
        _error.Flush();
        var line = Console.In.ReadLine();
        if (Console.IsInputRedirected)
        {
            _error.WriteLine(echo ? line : null);
        }

        return line;
    }

    private void WritePromptHeader(string? caption, string? message)
    {
        _progress.Hide();
        if (!string.IsNullOrEmpty(caption))
        {
            _error.WriteLine(caption);
        }

        if (!string.IsNullOrEmpty(message))
        {
            _error.WriteLine(message);
        }
    }

    // $PSStyle.OutputRendering, as pwsh applies it: Host means colour only on a terminal.
    private static bool UseColor(bool terminal) => PSStyle.Instance.OutputRendering switch
    {
        OutputRendering.PlainText => false,
        OutputRendering.Host => terminal,
        _ => true,
    };

    // The formatter colours table headers whatever the destination; a redirected stream gets plain text.
    private static string Plain(string text, bool terminal) =>
        !UseColor(terminal) && text.Contains('\e') ? new StringDecorated(text).ToString(OutputRendering.PlainText) : text;

    private void WriteOut(string text)
    {
        _progress.Hide();
        if (_outputToError)
        {
            _error.Write(Plain(text, _colorError));
        }
        else
        {
            _out.Write(Plain(text, _colorOut));
        }
    }

    private void WriteError(string line, string style)
    {
        _progress.Hide();

        // Text that already carries escape codes (the engine's error view) keeps its own colours.
        var colored = UseColor(_colorError) && !line.Contains('\e');
        _error.WriteLine(colored ? style + line + PSStyle.Instance.Reset : Plain(line, _colorError));
    }

    private string Colorize(ConsoleColor foreground, ConsoleColor background, string value)
    {
        if (!UseColor(_colorOut))
        {
            return value;
        }

        var prefix = (foreground != _rawUI.ForegroundColor ? PSStyle.MapForegroundColorToEscapeSequence(foreground) : string.Empty)
            + (background != _rawUI.BackgroundColor ? PSStyle.MapBackgroundColorToEscapeSequence(background) : string.Empty);
        return prefix.Length == 0 ? value : prefix + value + PSStyle.Instance.Reset;
    }
}
