namespace SemanticCore.Embedding;

/// <summary>Where the Gemini keys come from.</summary>
public static class Keyring
{
    public const string BatchKeyVariable = "GEMINI_BATCH_API_KEY";

    /// <summary>True when a dedicated batch key is configured.</summary>
    public static bool HasBatchKey => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(BatchKeyVariable));
}
