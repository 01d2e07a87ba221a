namespace SemanticCore.Model;

/// <summary>What a chunk holds; stored in <c>chunks.chunk_type</c> as its lower-case storage name.</summary>
public enum ChunkType
{
    Text,
    Code,
    Table,
    ImageRef,
    Quote,
}

public static class ChunkTypeNames
{
    public static string ToStorageName(this ChunkType type) => type switch
    {
        ChunkType.Text => "text",
        ChunkType.Code => "code",
        ChunkType.Table => "table",
        ChunkType.ImageRef => "image_ref",
        ChunkType.Quote => "quote",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Reads a stored name; unknown or missing names (older layouts) read as <see cref="ChunkType.Text"/>.</summary>
    public static ChunkType FromStorageName(string? name) => name?.ToLowerInvariant() switch
    {
        "code" => ChunkType.Code,
        "table" => ChunkType.Table,
        "image_ref" or "imageref" or "image" => ChunkType.ImageRef,
        "quote" => ChunkType.Quote,
        _ => ChunkType.Text,
    };
}
