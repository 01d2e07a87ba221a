using System.Diagnostics;

namespace SemanticCore.Gemini;

/// <summary>
/// A Gemini API key. It formats as "***" everywhere (ToString, string interpolation, the debugger),
/// so it cannot leak into a message, a log or an ErrorRecord by accident; only <see cref="GeminiClient"/>
/// reads the value, to set the x-goog-api-key header.
/// </summary>
[DebuggerDisplay("***")]
public sealed class ApiKey
{
    [DebuggerBrowsable(DebuggerBrowsableState.Never)]
    private readonly string _value;

    public ApiKey(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        value = value.Trim();
        // Never echo the value: the message names the problem only.
        if (value.Length == 0) throw new ArgumentException("The API key is empty.", nameof(value));
        foreach (var c in value)
        {
            // A header value with control characters would be rejected (or worse, split the header).
            if (char.IsControl(c) || char.IsWhiteSpace(c)) throw new ArgumentException("The API key contains whitespace or control characters.", nameof(value));
        }

        _value = value;
    }

    internal string Value => _value;

    public override string ToString() => "***";
}
