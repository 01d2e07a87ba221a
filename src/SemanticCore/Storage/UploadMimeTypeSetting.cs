namespace SemanticCore.Storage;

/// <summary>
/// The MIME type the Files API last accepted for this index's batch input, kept in the index's <c>settings</c> table
/// (key <c>upload_mime_type</c>) so every flush, from any process, starts with a type that works.
/// </summary>
public sealed class UploadMimeTypeSetting(SemanticIndex index)
{
    private const string Key = "upload_mime_type";

    /// <summary>The remembered type, or null when no upload was accepted yet.</summary>
    public string? Read() => Sql.Scalar(index.Connection, "SELECT value FROM settings WHERE key = $key", ("$key", Key)) as string;

    /// <summary>Remembers the type the service accepted.</summary>
    public void Remember(string mimeType) =>
        Sql.Execute(index.Connection, "INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ("$key", Key), ("$value", mimeType));
}
