using System.Collections.ObjectModel;
using System.Management.Automation.Runspaces;

namespace SemanticCore.Host;

/// <summary>The command line, parsed the way pwsh parses its own (case-insensitive, '-' prefixed).</summary>
internal sealed class HostOptions
{
    public const string Usage =
        """
        Usage: SemanticCore.Host [options] -File <script.ps1> [args...]
               SemanticCore.Host [options] -Command <text...>
               SemanticCore.Host [options] -Command -          (script read from stdin)

        Runs PowerShell on the engine from NuGet, with the SemanticCore.PS module imported.

          -File, -f <path> [args...]  Run a script; the remaining arguments are bound to its
                                      parameters (positional, -Name value, -Name:value, -Switch).
                                      A first argument that is not an option means -File.
          -Command, -c <text...>      Run the remaining arguments, joined with spaces, as a script.
          -Module, -m <path>          Module folder (holding <version>/<Name>.psd1 or <Name>.psd1)
                                      or a module file (.psd1/.psm1/.dll) to import first.
                                      Repeatable. Default: the nearest out/SemanticCore.PS found
                                      upwards from the current directory, then from this program.
          -NoModule                   Import nothing before the script (a module folder still goes
                                      on $env:PSModulePath, so Import-Module <Name> works).
          -NoProfile, -NonInteractive, -NoLogo
                                      Accepted for pwsh compatibility; no effect.
          -Help, -?                   This text.

        Exit code: the value of 'exit N'; 1 after a terminating error (or, with -Command, when
        $? is false at the end); 130 after Ctrl+C; 64 for a bad command line; otherwise 0.
        """;

    public string? File { get; private set; }

    /// <summary>Arguments for -File, already split into names and values as pwsh does.</summary>
    public Collection<CommandParameter> FileArguments { get; } = [];

    public string? Command { get; private set; }

    public bool CommandFromStdin { get; private set; }

    public List<string> Modules { get; } = [];

    public bool NoModule { get; private set; }

    public bool ShowHelp { get; private set; }

    public static HostOptions Parse(IReadOnlyList<string> args)
    {
        var options = new HostOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!IsOption(arg))
            {
                // pwsh treats a first bare argument as the script file.
                options.SetFile(args, i);
                return options;
            }

            switch (arg.TrimStart('-').ToLowerInvariant())
            {
                case "file" or "f":
                    options.SetFile(args, i + 1);
                    return options;
                case "command" or "c":
                    options.SetCommand(args, i + 1);
                    return options;
                case "module" or "m":
                    if (++i >= args.Count)
                    {
                        throw new UsageException("-Module needs a path.");
                    }

                    options.Modules.Add(args[i]);
                    break;
                case "nomodule":
                    options.NoModule = true;
                    break;
                case "noprofile" or "nop" or "noninteractive" or "noni" or "nologo" or "nol":
                    break;
                case "help" or "h" or "?" or "/?":
                    options.ShowHelp = true;
                    return options;
                default:
                    throw new UsageException($"Unknown option '{arg}'.");
            }
        }

        // Like pwsh: with no command, a redirected stdin is the script.
        if (!Console.IsInputRedirected)
        {
            throw new UsageException("Give -File or -Command.");
        }

        options.CommandFromStdin = true;
        return options;
    }

    private static bool IsOption(string arg) => arg.Length > 1 && arg[0] == '-' || arg == "/?";

    private void SetFile(IReadOnlyList<string> args, int index)
    {
        if (index >= args.Count)
        {
            throw new UsageException("-File needs a script path.");
        }

        File = args[index];
        string? pendingName = null;
        foreach (var arg in args.Skip(index + 1))
        {
            if (pendingName is not null)
            {
                FileArguments.Add(new CommandParameter(pendingName, arg));
                pendingName = null;
            }
            else if (arg.Length > 1 && arg[0] == '-')
            {
                // "-Name" alone is left for the binder to pair with the next value (or to be a
                // switch); "-Name:value" is split here, as pwsh -File does.
                var colon = arg.IndexOf(':');
                if (colon < 0)
                {
                    FileArguments.Add(new CommandParameter(arg));
                }
                else if (colon == arg.Length - 1)
                {
                    pendingName = arg[..colon];
                }
                else
                {
                    FileArguments.Add(new CommandParameter(arg[..colon], BoolIfPossible(arg[(colon + 1)..])));
                }
            }
            else
            {
                FileArguments.Add(new CommandParameter(null, arg));
            }
        }

        if (pendingName is not null)
        {
            throw new UsageException($"Missing value for '{pendingName}:'.");
        }
    }

    private void SetCommand(IReadOnlyList<string> args, int index)
    {
        if (index >= args.Count)
        {
            throw new UsageException("-Command needs a value.");
        }

        if (args[index] == "-")
        {
            if (index + 1 != args.Count)
            {
                throw new UsageException("Nothing may follow '-Command -'.");
            }

            CommandFromStdin = true;
            return;
        }

        Command = string.Join(' ', args.Skip(index));
    }

    // "-Switch:$false" must bind as a bool, as in pwsh.
    private static object BoolIfPossible(string value) =>
        bool.TryParse(value.StartsWith('$') ? value[1..] : value, out var b) ? b : value;
}
