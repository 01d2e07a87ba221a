namespace SemanticCore.PowerShell;

/// <summary>The cell texts of the default views (module/SemanticCore.PS.format.ps1xml), cut so the part that tells rows apart stays.</summary>
public static class ViewText
{
    private const char Ellipsis = '\u2026';

    /// <summary>The path's end in at most <paramref name="width"/> characters: the folder is cut from the left, the file name only when it alone is too long.</summary>
    public static string PathTail(string? path, int width)
    {
        if (string.IsNullOrEmpty(path) || path.Length <= width) return path ?? "";
        var name = Path.GetFileName(path);
        if (name.Length > width - 1) return CutLeft(name, width);
        return Ellipsis + path.Substring(path.Length - (width - 1));
    }

    /// <summary>A chunk's name, its file's name and its place in it ("guide.md#3"), in at most <paramref name="width"/> characters.</summary>
    public static string ChunkName(string? documentPath, int ordinal, int width) =>
        documentPath is null ? "(earlier layout)" : CutLeft($"{Path.GetFileName(documentPath)}#{ordinal}", width);

    /// <summary>What a chunk holds in lower case, with a code chunk's language ("code/powershell"), in at most <paramref name="width"/> characters.</summary>
    public static string ChunkKind(string chunkType, string? language, int width) =>
        CutRight(string.IsNullOrEmpty(language) ? chunkType.ToLowerInvariant() : $"{chunkType.ToLowerInvariant()}/{language}", width);

    /// <summary>The text on one line (runs of white space as one space), its start kept in at most <paramref name="width"/> characters.</summary>
    public static string OneLine(string? text, int width) =>
        CutRight(string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), width);

    /// <summary>The text's start in at most <paramref name="width"/> characters, an ellipsis where it was cut.</summary>
    public static string CutRight(string text, int width) => text.Length <= width ? text : text.Substring(0, width - 1) + Ellipsis;

    /// <summary>The text's end in at most <paramref name="width"/> characters, an ellipsis where it was cut.</summary>
    public static string CutLeft(string text, int width) => text.Length <= width ? text : Ellipsis + text.Substring(text.Length - (width - 1));
}
