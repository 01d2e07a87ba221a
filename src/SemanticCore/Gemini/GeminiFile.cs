using System.Text.Json;

namespace SemanticCore.Gemini;

/// <summary>A file of the Files API (uploaded input or generated output). Kept 48 h by the service.</summary>
public sealed record GeminiFile
{
    /// <summary>"files/{id}".</summary>
    public required string Name { get; init; }
    public string? DisplayName { get; init; }
    public string? MimeType { get; init; }
    public long SizeBytes { get; init; }

    /// <summary>PROCESSING, ACTIVE or FAILED, as the API spells it.</summary>
    public string? State { get; init; }
    public string? Uri { get; init; }
    public DateTimeOffset? ExpirationTime { get; init; }

    /// <summary>Reads <c>{"file":{...}}</c> or a bare file object.</summary>
    internal static GeminiFile Parse(JsonElement element)
    {
        var file = Json.GetObject(element, "file");
        if (file.ValueKind != JsonValueKind.Object) file = element;
        return new GeminiFile
        {
            Name = Json.GetString(file, "name") ?? throw new JsonException("The file has no name."),
            DisplayName = Json.GetString(file, "displayName"),
            MimeType = Json.GetString(file, "mimeType"),
            SizeBytes = Json.GetInt64(file, "sizeBytes") ?? 0,
            State = Json.GetString(file, "state"),
            Uri = Json.GetString(file, "uri"),
            ExpirationTime = Json.GetTime(file, "expirationTime"),
        };
    }
}
