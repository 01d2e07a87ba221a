namespace SemanticCore;

/// <summary>What went wrong, in terms the PowerShell layer maps onto its ErrorCategory.</summary>
public enum FailureKind
{
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    ObjectNotFound,
    PermissionDenied,
    ReadError,
    WriteError,
    NotImplemented,
    ResourceUnavailable,
    AuthenticationError,
    ConnectionError,
    QuotaExceeded,
    OperationStopped,
    OperationTimeout,
    ResourceExists,
    NotInstalled,
}

/// <summary>
/// A failure the user can act on. <see cref="ErrorId"/> is stable (runbooks match on it) and the
/// message says what happened and what to do; neither ever carries an API key.
/// </summary>
public sealed class SemanticCoreException(string errorId, FailureKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string ErrorId { get; } = errorId;
    public FailureKind Kind { get; } = kind;
}
