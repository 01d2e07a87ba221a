using System.Globalization;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>A bad command line: printed with the usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The command line: a command (a scenario name, <c>all</c>, or the internal <c>cold-query</c>) followed by
/// <c>--name value</c> options and <c>--flag</c> switches. Scenarios read the options they understand.
/// </summary>
internal sealed class BenchOptions
{
    /// <summary>Options that take no value.</summary>
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "quick", "keep" };

    private readonly Dictionary<string, string?> values;

    private BenchOptions(string command, Dictionary<string, string?> values, IReadOnlyList<string> arguments)
    {
        Command = command;
        this.values = values;
        Arguments = arguments;
    }

    public string Command { get; }

    /// <summary>The whole command line as given (for the report header).</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary><c>--quick</c>: a smoke run at small sizes (CI).</summary>
    public bool Quick => Has("quick");

    public static BenchOptions Parse(IReadOnlyList<string> args, IReadOnlySet<string> knownOptions)
    {
        if (args.Count == 0) throw new UsageException("No command given.");
        var command = args[0];
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"Unexpected argument '{arg}': options are written --name value.");
            var name = arg[2..];
            if (!knownOptions.Contains(name) && !Flags.Contains(name)) throw new UsageException($"Unknown option '--{name}'.");
            if (Flags.Contains(name))
            {
                values[name] = null;
                continue;
            }

            if (i + 1 >= args.Count) throw new UsageException($"The option '--{name}' needs a value.");
            values[name] = args[++i];
        }

        return new BenchOptions(command, values, args.ToList());
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string? String(string name) => values.TryGetValue(name, out var value) ? value : null;

    public string RequiredString(string name) =>
        String(name) ?? throw new UsageException($"The option '--{name}' is required for '{Command}'.");

    /// <summary>An integer option: the value given, else <paramref name="quickDefault"/> under --quick, else <paramref name="defaultValue"/>.</summary>
    public int Int(string name, int defaultValue, int? quickDefault = null, int min = 1, int max = int.MaxValue)
    {
        if (String(name) is not { } text) return Quick && quickDefault is { } q ? q : defaultValue;
        if (!int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
        {
            throw new UsageException($"The option '--{name}' needs an integer from {min} to {max}, not '{text}'.");
        }

        return value;
    }

    /// <summary>A decimal option (invariant culture): the value given, else <paramref name="defaultValue"/>.</summary>
    public double Double(string name, double defaultValue, double min, double max)
    {
        if (String(name) is not { } text) return defaultValue;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new UsageException($"The option '--{name}' needs a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not '{text}'.");
        }

        return value;
    }
}
