using System.Globalization;
using System.Text;
using SemanticCore.Bench.Search;

namespace SemanticCore.Bench.Import;

/// <summary>What <see cref="MarkdownCorpusGenerator"/> wrote.</summary>
internal sealed record MarkdownCorpus(IReadOnlyList<string> Files, long Bytes, long MinBytes, long MaxBytes, TimeSpan Elapsed);

/// <summary>
/// A deterministic corpus of Markdown documents shaped like a team's docs folder: YAML front matter with a title,
/// an H1, then 3–10 H2 sections (some with an H3) of paragraphs with inline links, code and emphasis, bullet and
/// numbered lists, fenced code blocks (bash, powershell, sql, json), small pipe tables, block quotes and images.
/// Sizes run from about 1 KB to 20 KB, skewed towards small files (about 5 KB on average, 50 MB per 10,000 files).
/// Prose comes from <see cref="SyntheticCorpus"/> (Zipf-distributed made-up words), so keyword statistics are realistic.
/// </summary>
internal sealed class MarkdownCorpusGenerator(int seed)
{
    /// <summary>Files per subfolder, as a docs tree would split them.</summary>
    private const int FilesPerFolder = 500;
    private const int MinTargetBytes = 1024;
    private const double MaxOverMin = 20;
    /// <summary>Skew of the size distribution: target = 1 KB × 20^(u^1.8), mean about 4.5 KB before the last block's overshoot.</summary>
    private const double SizeSkew = 1.8;

    private static readonly string[] Languages = ["bash", "powershell", "sql", "json"];

    private readonly SyntheticCorpus words = new(seed);

    public MarkdownCorpus Write(string folder, int count)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var random = new Random(seed);
        var files = new List<string>(count);
        long total = 0, min = long.MaxValue, max = 0;
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        for (var i = 0; i < count; i++)
        {
            var directory = Path.Combine(folder, $"area-{i / FilesPerFolder:D2}");
            if (i % FilesPerFolder == 0) Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, $"doc-{i:D5}.md");
            var bytes = utf8.GetBytes(Document(random));
            File.WriteAllBytes(path, bytes);
            files.Add(path);
            total += bytes.Length;
            min = Math.Min(min, bytes.Length);
            max = Math.Max(max, bytes.Length);
        }

        return new MarkdownCorpus(files, total, min, max, System.Diagnostics.Stopwatch.GetElapsedTime(start));
    }

    /// <summary>A paragraph of prose on one line (what an edit replaces).</summary>
    public string Paragraph(Random random)
    {
        var text = words.Text(random, random.Next(30, 111)).Split(' ');
        // A few inline constructs, as real prose has them.
        if (random.Next(3) == 0) Decorate(text, random, w => $"[{w} {words.Word(random)}](https://docs.example.com/{Slug(random)}/{Slug(random)})");
        if (random.Next(3) == 0) Decorate(text, random, w => $"`{w}-{words.Word(random)}`");
        if (random.Next(4) == 0) Decorate(text, random, w => $"**{w}**");
        return string.Join(' ', text);
    }

    private string Document(Random random)
    {
        var target = MinTargetBytes * Math.Pow(MaxOverMin, Math.Pow(random.NextDouble(), SizeSkew));
        var title = words.Heading(random, random.Next(2, 6));
        var text = new StringBuilder((int)target + 2048);
        text.Append("---\n")
            .Append("title: \"").Append(title).Append("\"\n")
            .Append("date: ").Append(new DateOnly(2024, 1, 1).AddDays(random.Next(730)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append('\n')
            .Append("tags: [").Append(string.Join(", ", Enumerable.Range(0, random.Next(1, 5)).Select(_ => Slug(random)))).Append("]\n")
            .Append("---\n\n")
            .Append("# ").Append(title).Append("\n\n")
            .Append(Paragraph(random)).Append("\n\n");

        var sections = Math.Clamp((int)(target / 1400) + random.Next(-1, 2), 3, 10);
        var perSection = Math.Max(200, (target - text.Length) / sections);
        for (var s = 0; s < sections; s++)
        {
            var sectionStart = text.Length;
            text.Append("## ").Append(words.Heading(random, random.Next(2, 5))).Append("\n\n");
            text.Append(Paragraph(random)).Append("\n\n");
            var subsectionAt = random.Next(3) == 0 ? perSection / 2 : double.MaxValue;
            while (text.Length - sectionStart < perSection)
            {
                if (text.Length - sectionStart >= subsectionAt)
                {
                    text.Append("### ").Append(words.Heading(random, random.Next(2, 5))).Append("\n\n");
                    subsectionAt = double.MaxValue;
                }

                Block(text, random);
            }
        }

        return text.ToString();
    }

    private void Block(StringBuilder text, Random random)
    {
        var pick = random.Next(100);
        if (pick < 42) text.Append(Paragraph(random));
        else if (pick < 57) List(text, random, numbered: false);
        else if (pick < 62) List(text, random, numbered: true);
        else if (pick < 78) Code(text, random);
        else if (pick < 86) Table(text, random);
        else if (pick < 94) Quote(text, random);
        else text.Append("![").Append(words.Heading(random, random.Next(2, 4))).Append("](images/").Append(Slug(random)).Append('-').Append(Slug(random)).Append(".png)");
        text.Append("\n\n");
    }

    private void List(StringBuilder text, Random random, bool numbered)
    {
        var items = random.Next(3, 8);
        for (var i = 0; i < items; i++)
        {
            if (i > 0) text.Append('\n');
            text.Append(numbered ? $"{i + 1}. " : "- ");
            var item = words.Text(random, random.Next(4, 15)).Split(' ');
            if (random.Next(4) == 0) Decorate(item, random, w => $"`{w}`");
            if (random.Next(6) == 0) Decorate(item, random, w => $"[{w}](https://docs.example.com/{Slug(random)})");
            text.Append(string.Join(' ', item));
            if (!numbered && random.Next(10) == 0) text.Append("\n  - ").Append(words.Text(random, random.Next(3, 9)));
        }
    }

    private void Code(StringBuilder text, Random random)
    {
        var language = Languages[random.Next(Languages.Length)];
        text.Append("```").Append(language).Append('\n');
        var lines = random.Next(3, 13);
        if (language == "json")
        {
            text.Append("{\n");
            for (var i = 0; i < lines; i++)
            {
                text.Append("  \"").Append(Slug(random)).Append("\": ").Append(random.Next(3) switch
                {
                    0 => random.Next(1, 5000).ToString(CultureInfo.InvariantCulture),
                    1 => random.Next(2) == 0 ? "true" : "false",
                    _ => $"\"{Slug(random)}-{Slug(random)}\"",
                }).Append(i < lines - 1 ? ",\n" : "\n");
            }

            text.Append("}\n");
        }
        else
        {
            for (var i = 0; i < lines; i++) text.Append(CodeLine(language, random)).Append('\n');
        }

        text.Append("```");
    }

    private string CodeLine(string language, Random random)
    {
        string W() => Slug(random);
        var n = random.Next(1, 500).ToString(CultureInfo.InvariantCulture);
        return (language, random.Next(5)) switch
        {
            ("bash", 0) => $"sudo systemctl restart {W()}.service",
            ("bash", 1) => $"grep -rn \"{W()}\" /var/log/{W()}/ | tail -n {n}",
            ("bash", 2) => $"curl -fsS https://api.example.com/v1/{W()}?limit={n} | jq '.{W()}'",
            ("bash", 3) => $"export {W().ToUpperInvariant()}_HOME=/opt/{W()}",
            ("bash", _) => $"# {words.Text(random, random.Next(3, 9))}",
            ("powershell", 0) => $"Get-ChildItem -Path C:\\{W()} -Recurse | Where-Object {{ $_.Length -gt {n}KB }}",
            ("powershell", 1) => $"Import-SemanticDocument -Path .\\docs\\{W()}.md -Mode Async",
            ("powershell", 2) => $"$result = Invoke-RestMethod -Uri \"https://api.example.com/{W()}\" -Method Get",
            ("powershell", 3) => $"Set-Item -Path Env:{W().ToUpperInvariant()} -Value '{W()}'",
            ("powershell", _) => $"# {words.Text(random, random.Next(3, 9))}",
            ("sql", 0) => $"SELECT {W()}, COUNT(*) AS total FROM {W()} WHERE {W()} > {n} GROUP BY 1;",
            ("sql", 1) => $"UPDATE {W()} SET {W()} = '{W()}' WHERE id = {n};",
            ("sql", 2) => $"CREATE INDEX ix_{W()} ON {W()} ({W()}, {W()});",
            ("sql", 3) => $"DELETE FROM {W()} WHERE created_at < now() - interval '{n} days';",
            _ => $"-- {words.Text(random, random.Next(3, 9))}",
        };
    }

    private void Table(StringBuilder text, Random random)
    {
        var columns = random.Next(2, 6);
        var rows = random.Next(2, 7);
        text.Append("| ").Append(string.Join(" | ", Enumerable.Range(0, columns).Select(_ => words.Heading(random, 1)))).Append(" |\n");
        text.Append('|').Append(string.Concat(Enumerable.Repeat(" --- |", columns))).Append('\n');
        for (var r = 0; r < rows; r++)
        {
            text.Append("| ").Append(string.Join(" | ", Enumerable.Range(0, columns).Select(c => c > 0 && random.Next(3) == 0
                ? random.Next(1, 10_000).ToString(CultureInfo.InvariantCulture)
                : words.Word(random)))).Append(" |");
            if (r < rows - 1) text.Append('\n');
        }
    }

    private void Quote(StringBuilder text, Random random)
    {
        text.Append("> ");
        if (random.Next(3) == 0) text.Append(random.Next(2) == 0 ? "**Note:** " : "**Warning:** ");
        text.Append(words.Text(random, random.Next(10, 41)));
        if (random.Next(4) == 0) text.Append("\n>\n> ").Append(words.Text(random, random.Next(8, 25)));
    }

    /// <summary>Replaces one word of <paramref name="text"/> with a construct built from it.</summary>
    private static void Decorate(string[] text, Random random, Func<string, string> construct)
    {
        var at = random.Next(text.Length);
        var word = text[at].TrimEnd('.');
        if (word.Length == 0) return;
        text[at] = construct(word) + (text[at].EndsWith('.') ? "." : "");
    }

    private string Slug(Random random) => words.Word(random).ToLowerInvariant();
}
