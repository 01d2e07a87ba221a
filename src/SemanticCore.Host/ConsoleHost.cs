using System.Globalization;
using System.Management.Automation.Host;

namespace SemanticCore.Host;

/// <summary>
/// The engine's view of this process: output, prompts and progress go through <see cref="UI"/>,
/// and <c>exit N</c> arrives through <see cref="SetShouldExit"/>.
/// </summary>
internal sealed class ConsoleHost : PSHost
{
    private readonly ConsoleHostUserInterface _ui = new();

    public override string Name => "SemanticCore.Host";

    public override Version Version { get; } =
        typeof(ConsoleHost).Assembly.GetName().Version ?? new Version(0, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface UI => _ui;

    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    /// <summary>Set once the script ran <c>exit</c>.</summary>
    public int? ExitCode { get; private set; }

    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;

    // No interactive loop to nest into: a script asking for one (or choosing [S] Suspend) gets a clear error.
    public override void EnterNestedPrompt() =>
        throw new NotSupportedException($"{Name} runs scripts non-interactively and has no nested prompt.");

    public override void ExitNestedPrompt() =>
        throw new NotSupportedException($"{Name} has no nested prompt.");

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }
}
