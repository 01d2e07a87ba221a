using System.Text;

namespace SemanticCore.Host;

/// <summary>pwsh-like entry point: parse the command line, prepare the module, run, return the exit code.</summary>
internal static class Program
{
    private const int ExitUsage = 64;

    private static int Main(string[] args)
    {
        // Before anything captures Console.Out/In: UTF-8 whatever the platform's default.
        try
        {
            Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            Console.InputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        }
        catch (IOException)
        {
            // No console to configure (a detached process); the streams keep their defaults.
        }

        HostOptions options;
        string? file = null;
        try
        {
            options = HostOptions.Parse(args);
            if (options.File is not null)
            {
                file = Path.GetFullPath(options.File);
                if (!File.Exists(file))
                {
                    throw new UsageException($"The script file '{options.File}' does not exist.");
                }

                // The engine would start any other file as a native program rather than parse it.
                if (!string.Equals(Path.GetExtension(file), ".ps1", StringComparison.OrdinalIgnoreCase))
                {
                    throw new UsageException($"The script file '{options.File}' must have the .ps1 extension.");
                }
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"SemanticCore.Host: {e.Message}");
            Console.Error.WriteLine();
            Console.Error.WriteLine(HostOptions.Usage);
            return ExitUsage;
        }

        if (options.ShowHelp)
        {
            Console.Out.WriteLine(HostOptions.Usage);
            return 0;
        }

        var modules = ModuleLocator.Plan(options, Console.Error);
        if (modules is null)
        {
            return ExitUsage;
        }

        ModuleLocator.PrependToPSModulePath(modules.ModulePathEntries);

        // Read before the runspace exists, so the script is whole before anything runs.
        var command = options.CommandFromStdin ? Console.In.ReadToEnd() : options.Command;

        using var runner = new ScriptRunner();

        // Opening the runspace puts the user's and shared module folders in front; put ours back
        // first so that a module name resolves to this build rather than an installed copy.
        ModuleLocator.PrependToPSModulePath(modules.ModulePathEntries);
        Console.CancelKeyPress += (_, e) => e.Cancel = runner.Stop();
        return runner.ImportModules(modules.Imports)
            ?? (file is not null ? runner.RunFile(file, options.FileArguments) : runner.RunCommand(command ?? string.Empty));
    }
}
