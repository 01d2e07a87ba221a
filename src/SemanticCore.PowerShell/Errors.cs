using System.Management.Automation;

namespace SemanticCore.PowerShell;

/// <summary>ErrorRecords from core failures: the stable ErrorId, the matching category, the item as target.</summary>
internal static class Errors
{
    public static ErrorRecord From(SemanticCoreException exception, object? target) =>
        new(exception, exception.ErrorId, Category(exception.Kind), target);

    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target, Exception? inner = null) =>
        new(new SemanticCoreException(errorId, Kind(category), message, inner), errorId, category, target);

    private static ErrorCategory Category(FailureKind kind) =>
        Enum.TryParse<ErrorCategory>(kind.ToString(), out var category) ? category : ErrorCategory.NotSpecified;

    private static FailureKind Kind(ErrorCategory category) =>
        Enum.TryParse<FailureKind>(category.ToString(), out var kind) ? kind : FailureKind.InvalidOperation;
}
