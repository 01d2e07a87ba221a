namespace SemanticCore.Storage;

/// <summary>
/// The MIME type the Files API last accepted for this index's batch input, kept in the index's setting values
/// (key <c>upload_mime_type</c>) so every flush, from any process, starts with a type that works.
/// </summary>
public sealed class UploadMimeTypeSetting(SemanticIndex index)
{
    private const string Key = "upload_mime_type";

    /// <summary>The remembered type, or null when no upload was accepted yet.</summary>
    public string? Read() => index.Values.Get(Key);

    /// <summary>Remembers the type the service accepted.</summary>
    public void Remember(string mimeType) => index.Values.Set(Key, mimeType);
}
