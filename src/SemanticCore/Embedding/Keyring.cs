using System.Net;
using System.Security;
using SemanticCore.Gemini;

namespace SemanticCore.Embedding;

/// <summary>
/// The two Gemini keys: the default key (interactive embedding, search) and the batch key (batch
/// jobs), kept apart so batch traffic can never spend the quota the interactive path relies on.
/// </summary>
public enum KeyKind
{
    Default,
    Batch,
}

/// <summary>Keys from SecureStrings and from the environment; the PowerShell layer adds its session keyring in front.</summary>
public static class Keyring
{
    public const string ApiKeyVariable = "GEMINI_API_KEY";
    public const string AlternateApiKeyVariable = "GOOGLE_API_KEY";
    public const string BatchKeyVariable = "GEMINI_BATCH_API_KEY";

    public static ApiKey? FromEnvironment(KeyKind kind)
    {
        var value = kind == KeyKind.Batch
            ? Environment.GetEnvironmentVariable(BatchKeyVariable)
            : Environment.GetEnvironmentVariable(ApiKeyVariable) is { } key && !string.IsNullOrWhiteSpace(key) ? key : Environment.GetEnvironmentVariable(AlternateApiKeyVariable);
        return string.IsNullOrWhiteSpace(value) ? null : new ApiKey(value);
    }

    /// <summary>The key held by a SecureString (decrypted only here, straight into the key object).</summary>
    public static ApiKey? FromSecureString(SecureString? secure) =>
        secure is null || secure.Length == 0 ? null : new ApiKey(new NetworkCredential(string.Empty, secure).Password);

    public static SemanticCoreException Missing(KeyKind kind) => kind == KeyKind.Batch
        ? new SemanticCoreException("BatchApiKeyMissing", FailureKind.AuthenticationError,
            "Batch operations require a dedicated API key. Provide it with -BatchApiKey, with Set-SemanticKeyring -BatchApiKey, " +
            $"or in $env:{BatchKeyVariable}; it is kept apart from the interactive key so batch traffic never spends that key's quota.")
        : new SemanticCoreException("ApiKeyMissing", FailureKind.AuthenticationError,
            "Interactive embedding requires an API key. Provide it with -ApiKey, with Set-SemanticKeyring -ApiKey, " +
            $"or in $env:{ApiKeyVariable} (or $env:{AlternateApiKeyVariable}); or import with -Mode Async to queue the chunks for a batch job.");
}
