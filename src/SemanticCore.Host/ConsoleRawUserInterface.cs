using System.Management.Automation.Host;

namespace SemanticCore.Host;

/// <summary>
/// Window and buffer facts for the formatter and for scripts. Reads the console when there is one;
/// when output is redirected (CI, tests) it reports a fixed 120x50 so tables stay stable and nothing throws.
/// </summary>
internal sealed class ConsoleRawUserInterface : PSHostRawUserInterface
{
    private static readonly Size RedirectedSize = new(120, 50);

    // Unix terminals report an unknown colour as -1; the engine would turn that into black.
    private ConsoleColor _foreground = KnownColor(Try(() => Console.ForegroundColor, ConsoleColor.Gray), ConsoleColor.Gray);
    private ConsoleColor _background = KnownColor(Try(() => Console.BackgroundColor, ConsoleColor.Black), ConsoleColor.Black);
    private string _windowTitle = string.Empty;

    public override ConsoleColor ForegroundColor
    {
        get => _foreground;
        set => _foreground = value;
    }

    public override ConsoleColor BackgroundColor
    {
        get => _background;
        set => _background = value;
    }

    public override Size BufferSize
    {
        get => Console.IsOutputRedirected
            ? RedirectedSize
            : Try(() => new Size(Console.BufferWidth, Console.BufferHeight), RedirectedSize);
        set { }
    }

    public override Size WindowSize
    {
        get => ConsoleWindowSize;
        set { }
    }

    public override Size MaxWindowSize => WindowSize;

    public override Size MaxPhysicalWindowSize => WindowSize;

    public override Coordinates CursorPosition
    {
        get => Console.IsOutputRedirected
            ? default
            : Try(() => new Coordinates(Console.CursorLeft, Console.CursorTop), default);
        set
        {
            if (!Console.IsOutputRedirected)
            {
                Try(() => Console.SetCursorPosition(value.X, value.Y));
            }
        }
    }

    public override Coordinates WindowPosition
    {
        get => default;
        set { }
    }

    public override int CursorSize
    {
        get => 25;
        set { }
    }

    // Kept, not applied: changing the terminal's title from a batch run surprises more than it helps.
    public override string WindowTitle
    {
        get => _windowTitle;
        set => _windowTitle = value ?? string.Empty;
    }

    public override bool KeyAvailable => !Console.IsInputRedirected && Try(() => Console.KeyAvailable, false);

    internal static Size ConsoleWindowSize => Console.IsOutputRedirected
        ? RedirectedSize
        : Try(() => new Size(Console.WindowWidth, Console.WindowHeight), RedirectedSize);

    public override KeyInfo ReadKey(ReadKeyOptions options)
    {
        if (Console.IsInputRedirected)
        {
            var ch = Console.In.Read();
            if (ch < 0)
            {
                throw new InvalidOperationException("Cannot read a key: standard input is at its end.");
            }

            return new KeyInfo(0, (char)ch, default, keyDown: true);
        }

        var key = Console.ReadKey(intercept: (options & ReadKeyOptions.NoEcho) != 0);
        return new KeyInfo((int)key.Key, key.KeyChar, ToControlKeyStates(key.Modifiers), keyDown: true);
    }

    public override void FlushInputBuffer()
    {
        while (KeyAvailable)
        {
            Console.ReadKey(intercept: true);
        }
    }

    // There is no readable screen buffer on a terminal or a pipe; scripts that need one need a real console host.
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) =>
        throw new NotSupportedException("SemanticCore.Host cannot read the screen buffer.");

    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill)
    {
    }

    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents)
    {
    }

    public override void SetBufferContents(Rectangle rectangle, BufferCell fill)
    {
        // Clear-Host-style "fill everything with blanks": clear the terminal when there is one.
        if (rectangle.Left == -1 && !Console.IsOutputRedirected)
        {
            Try(Console.Clear);
        }
    }

    private static ConsoleColor KnownColor(ConsoleColor color, ConsoleColor fallback) =>
        Enum.IsDefined(color) ? color : fallback;

    private static ControlKeyStates ToControlKeyStates(ConsoleModifiers modifiers)
    {
        ControlKeyStates states = 0;
        if ((modifiers & ConsoleModifiers.Alt) != 0)
        {
            states |= ControlKeyStates.LeftAltPressed;
        }

        if ((modifiers & ConsoleModifiers.Control) != 0)
        {
            states |= ControlKeyStates.LeftCtrlPressed;
        }

        if ((modifiers & ConsoleModifiers.Shift) != 0)
        {
            states |= ControlKeyStates.ShiftPressed;
        }

        return states;
    }

    // Console properties throw on some terminals and platforms; a script asking for them must not fail.
    private static T Try<T>(Func<T> read, T fallback)
    {
        try
        {
            var value = read();
            return value is Size { Width: <= 0 } ? fallback : value;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return fallback;
        }
    }

    private static void Try(Action action) => Try(() => { action(); return true; }, false);
}
