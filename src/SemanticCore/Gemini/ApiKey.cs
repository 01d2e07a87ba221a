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
            // Nor can anything but printable ASCII be sent in a header: such a key can never be valid, so it fails here, not after retries.
            if (c > '~') throw new ArgumentException("The API key contains characters other than printable ASCII (a key is letters, digits, '-' and '_').", nameof(value));
        }

        _value = value;
    }

    internal string Value => _value;

    /// <summary>"sha256:" and the first 8 hex digits of the key's SHA-256: tells two keys apart without revealing either.</summary>
    public string Fingerprint => "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_value)))[..8].ToLowerInvariant();

    public override string ToString() => "***";
}
