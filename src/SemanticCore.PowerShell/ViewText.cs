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

    /// <summary>A chunk's name: its file's name and its place in it ("guide.md#3"), without the folder.</summary>
    public static string ChunkName(string? documentPath, int ordinal) =>
        documentPath is null ? "(earlier layout)" : $"{Path.GetFileName(documentPath)}#{ordinal}";

    /// <summary>What a chunk holds in lower case ("text", "quote"), a code chunk's language in its place ("powershell"), in at most <paramref name="width"/> characters.</summary>
    public static string ChunkKind(string chunkType, string? language, int width) =>
        CutRight(string.IsNullOrEmpty(language) ? chunkType.ToLowerInvariant() : language, width);

    /// <summary>The text on one line (runs of white space as one space), its start kept in at most <paramref name="width"/> characters.</summary>
    public static string OneLine(string? text, int width) =>
        CutRight(string.Join(' ', (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), width);

    /// <summary>The text on lines of at most <paramref name="width"/> characters, broken between words (a longer word is split).</summary>
    /// <remarks>A wrapping table breaks a cell anywhere ("Re" / "quest"); a cell that already holds lines keeps them.</remarks>
    public static string WordWrap(string? text, int width)
    {
        var lines = new List<string>();
        var line = "";
        foreach (var word in (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var rest = word;
            if (line.Length > 0 && line.Length + 1 + rest.Length <= width)
            {
                line += " " + rest;
                continue;
            }

            if (line.Length > 0) lines.Add(line);
            for (; rest.Length > width; rest = rest.Substring(width)) lines.Add(rest.Substring(0, width));
            line = rest;
        }

        if (line.Length > 0) lines.Add(line);
        return string.Join("\n", lines);
    }

    /// <summary>The text's start in at most <paramref name="width"/> characters, an ellipsis where it was cut.</summary>
    public static string CutRight(string text, int width) => text.Length <= width ? text : text.Substring(0, width - 1) + Ellipsis;

    /// <summary>The text's end in at most <paramref name="width"/> characters, an ellipsis where it was cut.</summary>
    public static string CutLeft(string text, int width) => text.Length <= width ? text : Ellipsis + text.Substring(text.Length - (width - 1));
}
