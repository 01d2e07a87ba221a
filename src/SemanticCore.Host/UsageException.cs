namespace SemanticCore.Host;

/// <summary>A bad command line: reported with the usage text and exit code 64, like pwsh.</summary>
internal sealed class UsageException(string message) : Exception(message);
