namespace SemanticCore.Bench.Import;

/// <summary>A file changed by <see cref="ParagraphEditor"/>, with its original bytes to put back.</summary>
internal sealed record EditedFile(int Index, string Path, byte[] Original);

/// <summary>
/// Edits a seeded share of a corpus the way a writer does: one prose paragraph of each chosen file replaced by a new
/// one (the front matter, headings, lists, tables, quotes and code blocks are left alone); <see cref="Restore"/>
/// puts the original bytes back, so every run edits the same files from the same state.
/// </summary>
internal static class ParagraphEditor
{
    public static List<EditedFile> Edit(IReadOnlyList<string> files, double share, int seed, MarkdownCorpusGenerator generator)
    {
        var random = new Random(seed);
        var count = Math.Max(1, (int)Math.Round(files.Count * share));
        var chosen = Enumerable.Range(0, files.Count).ToArray();
        random.Shuffle(chosen);
        var edited = new List<EditedFile>(count);
        foreach (var index in chosen.Take(count).Order())
        {
            var path = files[index];
            var original = File.ReadAllBytes(path);
            var lines = File.ReadAllLines(path);
            var paragraphs = ProseLines(lines);
            if (paragraphs.Count == 0) throw new InvalidOperationException($"'{path}' has no prose paragraph to edit.");
            var at = paragraphs[random.Next(paragraphs.Count)];
            string replacement;
            do replacement = generator.Paragraph(random);
            while (replacement == lines[at]);
            lines[at] = replacement;
            File.WriteAllText(path, string.Join('\n', lines) + "\n");
            edited.Add(new EditedFile(index, path, original));
        }

        return edited;
    }

    public static void Restore(IEnumerable<EditedFile> edited)
    {
        foreach (var file in edited) File.WriteAllBytes(file.Path, file.Original);
    }

    /// <summary>Lines that are paragraphs of prose: outside the front matter and code fences, starting with a letter.</summary>
    private static List<int> ProseLines(string[] lines)
    {
        var prose = new List<int>();
        var inFrontMatter = lines.Length > 0 && lines[0] == "---";
        var inFence = false;
        for (var i = inFrontMatter ? 1 : 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (inFrontMatter)
            {
                inFrontMatter = line != "---";
                continue;
            }

            if (line.StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
            else if (!inFence && line.Length >= 40 && char.IsLetter(line[0])) prose.Add(i);
        }

        return prose;
    }
}
