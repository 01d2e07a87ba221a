using System.Globalization;

namespace SemanticCore.Storage;

/// <summary>Timestamps are stored as ISO 8601 UTC text: sortable, and readable in any SQLite tool.</summary>
internal static class Timestamps
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Now() => ToText(DateTimeOffset.UtcNow);

    public static string ToText(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset? Parse(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : null;

    /// <summary>A stored timestamp as a UTC DateTime (what PowerShell's date arithmetic expects); MinValue when absent.</summary>
    public static DateTime? ParseUtcOrNull(string? text) => Parse(text)?.UtcDateTime;

    public static DateTime ParseUtc(string? text) => Parse(text)?.UtcDateTime ?? DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);
}
