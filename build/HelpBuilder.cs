// Turns the platyPS-schema Markdown help in docs/<culture>/ into what Get-Help reads offline: MAML
// (<CmdletAssembly>-Help.xml) for the cmdlet pages and about_*.help.txt for the topics. platyPS itself
// is not served here; this covers the schema our pages use (platyPS 2.0.0). The module build runs it
// as an MSBuild inline task (compiled against netstandard2.0, hence the plain C#); the tests compile
// the reader with HELP_READER_ONLY to check the pages against the cmdlets.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace SemanticCore.Build
{
    /// <summary>One cmdlet's page, as written in docs/en-US/&lt;Cmdlet&gt;.md.</summary>
    public sealed class HelpPage
    {
        public string Name = "";
        public string OnlineVersion = "";
        public string Synopsis = "";
        public List<string> Description = new List<string>();
        /// <summary>The SYNTAX section's parameter sets, in page order; one named "__AllParameterSets" when it has no headings.</summary>
        public List<(string Name, bool IsDefault)> ParameterSets = new List<(string, bool)>();
        public List<HelpExample> Examples = new List<HelpExample>();
        public List<HelpParameter> Parameters = new List<HelpParameter>();
        public List<(string Type, List<string> Description)> Inputs = new List<(string, List<string>)>();
        public List<(string Type, List<string> Description)> Outputs = new List<(string, List<string>)>();
        public List<string> Notes = new List<string>();
        public List<(string Text, string Uri)> Links = new List<(string, string)>();

        public string Verb => Name.Split('-')[0];
        public string Noun => Name.Substring(Name.IndexOf('-') + 1);
    }

    public sealed class HelpExample
    {
        public string Title = "";
        public string Code = "";
        public List<string> Remarks = new List<string>();
    }

    public sealed class HelpParameter
    {
        public string Name = "";
        public List<string> Description = new List<string>();
        /// <summary>One per yaml block: a parameter whose attributes differ between sets has one block per group of sets.</summary>
        public List<ParameterUsage> Usages = new List<ParameterUsage>();
    }

    /// <summary>A parameter's yaml block.</summary>
    public sealed class ParameterUsage
    {
        public string Type = "";
        /// <summary>The sets named by "Parameter Sets"; empty for "(All)".</summary>
        public List<string> Sets = new List<string>();
        public List<string> Aliases = new List<string>();
        public List<string> AcceptedValues = new List<string>();
        public bool Required;
        /// <summary>"Named" or the position's number.</summary>
        public string Position = "Named";
        public string DefaultValue = "None";
        /// <summary>"False", or "True (ByValue)", "True (ByPropertyName)", "True (ByPropertyName, ByValue)".</summary>
        public string PipelineInput = "False";
        public bool Wildcards;

        public bool InSet(string set) => Sets.Count == 0 || Sets.Contains(set);
    }

    public static class HelpPageReader
    {
        public const string AllParameterSets = "__AllParameterSets";

        public static HelpPage Read(string path)
        {
            var lines = File.ReadAllLines(path);
            var page = new HelpPage();
            var body = 0;
            if (lines.Length > 0 && lines[0].Trim() == "---")
            {
                for (body = 1; body < lines.Length && lines[body].Trim() != "---"; body++)
                {
                    if (lines[body].StartsWith("online version:", StringComparison.Ordinal)) page.OnlineVersion = lines[body].Substring("online version:".Length).Trim();
                }

                body++;
            }

            foreach (var (heading, section) in Split(lines, body, "## "))
            {
                switch (heading)
                {
                    case "": page.Name = section.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?.Substring(2).Trim() ?? ""; break;
                    case "SYNOPSIS": page.Synopsis = string.Join(" ", Markdown.Paragraphs(section)); break;
                    case "SYNTAX": page.ParameterSets = ReadSets(section); break;
                    case "DESCRIPTION": page.Description = Markdown.Paragraphs(section); break;
                    case "EXAMPLES": page.Examples = Split(section, 0, "### ").Where(s => s.Heading != "").Select(s => ReadExample(s.Heading, s.Lines)).ToList(); break;
                    case "PARAMETERS": page.Parameters = Split(section, 0, "### ").Where(s => s.Heading.StartsWith("-", StringComparison.Ordinal)).Select(s => ReadParameter(s.Heading, s.Lines)).ToList(); break;
                    case "INPUTS": page.Inputs = ReadTypes(section); break;
                    case "OUTPUTS": page.Outputs = ReadTypes(section); break;
                    case "NOTES": page.Notes = Markdown.Paragraphs(section); break;
                    case "RELATED LINKS":
                        foreach (Match link in Regex.Matches(string.Join("\n", section), @"\[([^\]]+)\]\(([^)]*)\)")) page.Links.Add((link.Groups[1].Value, link.Groups[2].Value));
                        break;
                }
            }

            if (page.Name.Length == 0) throw new InvalidDataException($"{path}: no '# <cmdlet name>' heading.");
            return page;
        }

        /// <summary>The lines under each heading with this prefix ("" for what comes before the first).</summary>
        private static List<(string Heading, List<string> Lines)> Split(IList<string> lines, int start, string prefix)
        {
            var sections = new List<(string, List<string>)> { ("", new List<string>()) };
            var inFence = false;
            for (var i = start; i < lines.Count; i++)
            {
                var line = lines[i];
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
                if (!inFence && line.StartsWith(prefix, StringComparison.Ordinal)) sections.Add((line.Substring(prefix.Length).Trim(), new List<string>()));
                else sections[sections.Count - 1].Item2.Add(line);
            }

            return sections;
        }

        private static List<(string, bool)> ReadSets(List<string> section)
        {
            var sets = Split(section, 0, "### ").Where(s => s.Heading != "")
                .Select(s => s.Heading.EndsWith("(Default)", StringComparison.Ordinal)
                    ? (s.Heading.Substring(0, s.Heading.Length - "(Default)".Length).Trim(), true)
                    : (s.Heading, false))
                .ToList();
            return sets.Count > 0 ? sets : new List<(string, bool)> { (AllParameterSets, true) };
        }

        private static HelpExample ReadExample(string heading, List<string> lines)
        {
            var example = new HelpExample { Title = heading };
            var rest = new List<string>();
            for (var i = 0; i < lines.Count; i++)
            {
                var fence = lines[i].Trim();
                if (example.Code.Length == 0 && (fence == "```powershell" || fence == "```"))
                {
                    var code = new List<string>();
                    for (i++; i < lines.Count && lines[i].Trim() != "```"; i++) code.Add(lines[i]);
                    example.Code = string.Join("\n", code);
                }
                else
                {
                    rest.Add(lines[i]);
                }
            }

            example.Remarks = Markdown.Paragraphs(rest);
            return example;
        }

        private static HelpParameter ReadParameter(string heading, List<string> lines)
        {
            var parameter = new HelpParameter { Name = heading.TrimStart('-') };
            var text = new List<string>();
            for (var i = 0; i < lines.Count; i++)
            {
                if (lines[i].Trim() != "```yaml")
                {
                    text.Add(lines[i]);
                    continue;
                }

                var usage = new ParameterUsage();
                for (i++; i < lines.Count && lines[i].Trim() != "```"; i++)
                {
                    var colon = lines[i].IndexOf(':');
                    if (colon < 0) continue;
                    var key = lines[i].Substring(0, colon).Trim();
                    var value = lines[i].Substring(colon + 1).Trim();
                    switch (key)
                    {
                        case "Type": usage.Type = value; break;
                        case "Parameter Sets": usage.Sets = value == "(All)" ? new List<string>() : List(value); break;
                        case "Aliases": usage.Aliases = List(value); break;
                        case "Accepted values": usage.AcceptedValues = List(value); break;
                        case "Required": usage.Required = string.Equals(value, "True", StringComparison.OrdinalIgnoreCase); break;
                        case "Position": usage.Position = value; break;
                        case "Default value": usage.DefaultValue = value; break;
                        case "Accept pipeline input": usage.PipelineInput = value; break;
                        case "Accept wildcard characters": usage.Wildcards = string.Equals(value, "True", StringComparison.OrdinalIgnoreCase); break;
                    }
                }

                parameter.Usages.Add(usage);
            }

            parameter.Description = Markdown.Paragraphs(text);
            return parameter;
        }

        private static List<(string, List<string>)> ReadTypes(List<string> section) =>
            Split(section, 0, "### ").Where(s => s.Heading != "").Select(s => (s.Heading, Markdown.Paragraphs(s.Lines))).ToList();

        private static List<string> List(string value) =>
            value.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries).Select(v => v.Trim()).Where(v => v.Length > 0).ToList();
    }

    /// <summary>Markdown as the plain paragraphs that Get-Help prints.</summary>
    public static class Markdown
    {
        /// <summary>
        /// Prose paragraphs and list items become one line each; code blocks and tables keep their lines
        /// (Get-Help wraps a paragraph at the window's width and keeps the line breaks inside it).
        /// </summary>
        public static List<string> Paragraphs(IList<string> lines)
        {
            var paragraphs = new List<string>();
            var current = new List<string>();
            void Flush(string separator)
            {
                if (current.Count > 0) paragraphs.Add(string.Join(separator, current));
                current.Clear();
            }

            for (var i = 0; i < lines.Count; i++)
            {
                var line = lines[i];
                var trimmed = line.Trim();
                if (trimmed.StartsWith("```", StringComparison.Ordinal))
                {
                    Flush(" ");
                    for (i++; i < lines.Count && lines[i].Trim() != "```"; i++) current.Add(lines[i]);
                    Flush("\n");
                }
                else if (trimmed.StartsWith("|", StringComparison.Ordinal))
                {
                    Flush(" ");
                    for (; i < lines.Count && lines[i].Trim().StartsWith("|", StringComparison.Ordinal); i++)
                    {
                        var cells = lines[i].Trim().Trim('|').Split('|').Select(c => Inline(c.Trim())).ToList();
                        if (!cells.All(c => Regex.IsMatch(c, "^:?-+:?$"))) current.Add(string.Join(" | ", cells));
                    }

                    i--;
                    Flush("\n");
                }
                else if (trimmed.Length == 0)
                {
                    Flush(" ");
                }
                else if (Regex.IsMatch(trimmed, @"^([-*]|\d+\.) "))
                {
                    Flush(" ");
                    current.Add(Inline(trimmed));
                }
                else
                {
                    current.Add(Inline(trimmed));
                }
            }

            Flush(" ");
            return paragraphs;
        }

        /// <summary>Links keep their text; Markdown escapes go.</summary>
        public static string Inline(string text) =>
            Regex.Replace(Regex.Replace(text, @"\[([^\]]+)\]\([^)]*\)", "$1"), @"\\([\\`*_{}\[\]()#+\-.!|<>])", "$1");
    }

    /// <summary>Writes MAML, the XML help format of binary cmdlets, as platyPS writes it.</summary>
    public static class MamlWriter
    {
        private static readonly XNamespace Msh = "http://msh";
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        public static XDocument Write(IEnumerable<HelpPage> pages) =>
            new XDocument(new XDeclaration("1.0", "utf-8", null),
                new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                    pages.Select(Command_)));

        private static XElement Command_(HelpPage page) =>
            new XElement(Command + "command",
                new XAttribute(XNamespace.Xmlns + "maml", Maml),
                new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev),
                new XElement(Command + "details",
                    new XElement(Command + "name", page.Name),
                    new XElement(Command + "verb", page.Verb),
                    new XElement(Command + "noun", page.Noun),
                    Description(new[] { page.Synopsis })),
                Description(page.Description),
                new XElement(Command + "syntax",
                    page.ParameterSets.Select(set => new XElement(Command + "syntaxItem",
                        new XElement(Maml + "name", page.Name),
                        page.Parameters
                            .Select(p => (Parameter: p, Usage: p.Usages.FirstOrDefault(u => u.InSet(set.Name))))
                            .Where(p => p.Usage != null)
                            .OrderBy(p => p.Usage!.Position == "Named" ? int.MaxValue : int.Parse(p.Usage.Position))
                            .Select(p => Parameter(p.Parameter, p.Usage!, inSyntax: true))))),
                new XElement(Command + "parameters", page.Parameters.Select(p => Parameter(p, p.Usages[0], inSyntax: false))),
                new XElement(Command + "inputTypes", page.Inputs.Select(t => new XElement(Command + "inputType", Type(t.Type), Description(t.Description)))),
                new XElement(Command + "returnValues", page.Outputs.Select(t => new XElement(Command + "returnValue", Type(t.Type), Description(t.Description)))),
                new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(page.Notes))),
                new XElement(Command + "examples", page.Examples.Select(e => new XElement(Command + "example",
                    new XElement(Maml + "title", $"-------------------------- {e.Title} --------------------------"),
                    new XElement(Dev + "code", e.Code),
                    new XElement(Dev + "remarks", Paragraphs(e.Remarks))))),
                new XElement(Command + "relatedLinks",
                    page.OnlineVersion.Length > 0 ? Link("Online Version:", page.OnlineVersion) : null,
                    page.Links.Select(l => Link(l.Text, l.Uri.StartsWith("http", StringComparison.Ordinal) ? l.Uri : ""))));

        private static XElement Parameter(HelpParameter parameter, ParameterUsage usage, bool inSyntax)
        {
            var isSwitch = usage.Type == "SwitchParameter";
            return new XElement(Command + "parameter",
                new XAttribute("required", usage.Required ? "true" : "false"),
                new XAttribute("variableLength", "true"),
                new XAttribute("globbing", usage.Wildcards ? "true" : "false"),
                new XAttribute("pipelineInput", usage.PipelineInput),
                new XAttribute("position", usage.Position == "Named" ? "named" : usage.Position),
                new XAttribute("aliases", usage.Aliases.Count > 0 ? string.Join(", ", usage.Aliases) : "none"),
                new XElement(Maml + "name", parameter.Name),
                Description(parameter.Description),
                usage.AcceptedValues.Count == 0 ? null : new XElement(Command + "parameterValueGroup",
                    usage.AcceptedValues.Select(v => new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))),
                isSwitch && inSyntax ? null : new XElement(Command + "parameterValue", new XAttribute("required", isSwitch ? "false" : "true"), new XAttribute("variableLength", "false"), usage.Type),
                Type(usage.Type),
                new XElement(Dev + "defaultValue", usage.DefaultValue));
        }

        private static XElement Type(string name) => new XElement(Dev + "type", new XElement(Maml + "name", name), new XElement(Maml + "uri"));

        private static XElement Description(IEnumerable<string> paragraphs) => new XElement(Maml + "description", Paragraphs(paragraphs));

        private static IEnumerable<XElement> Paragraphs(IEnumerable<string> paragraphs) => paragraphs.Select(p => new XElement(Maml + "para", p));

        private static XElement Link(string text, string uri) => new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", text), new XElement(Maml + "uri", uri));
    }

    /// <summary>Writes an about topic as the plain text Get-Help shows: headings in capitals, text indented and wrapped at 80 columns.</summary>
    /// <remarks>Get-Help prints a .help.txt as it is, so the text is laid out here: prose and list items wrapped, pipe tables as aligned columns.</remarks>
    public static class AboutTopicWriter
    {
        public const int Width = 80;
        private const string Indent = "    ";
        private const string CodeIndent = "        ";

        public static string Write(string topicName, IEnumerable<string> markdown)
        {
            var text = new StringBuilder();
            text.Append("TOPIC\n").Append(Indent).Append(topicName).Append('\n');
            var lines = markdown.ToList();
            for (var i = 0; i < lines.Count; i++)
            {
                var line = lines[i];
                var trimmed = line.Trim();
                if (trimmed.StartsWith("```", StringComparison.Ordinal))
                {
                    for (i++; i < lines.Count && !lines[i].Trim().StartsWith("```", StringComparison.Ordinal); i++) text.Append(CodeIndent).Append(lines[i].TrimEnd()).Append('\n');
                }
                else if (line.StartsWith("# ", StringComparison.Ordinal))
                {
                    text.Append('\n').Append(line.Substring(2).Trim().ToUpperInvariant()).Append('\n');
                }
                else if (line.StartsWith("#", StringComparison.Ordinal))
                {
                    text.Append('\n').Append("  ").Append(line.TrimStart('#').Trim().ToUpperInvariant()).Append('\n');
                }
                else if (trimmed.Length == 0)
                {
                    text.Append('\n');
                }
                else if (trimmed.StartsWith("|", StringComparison.Ordinal))
                {
                    var rows = new List<string>();
                    for (; i < lines.Count && lines[i].Trim().StartsWith("|", StringComparison.Ordinal); i++) rows.Add(lines[i].Trim());
                    i--;
                    AppendTable(text, rows);
                }
                else
                {
                    // A paragraph or a list item: its lines up to a blank line, a heading, a fence, a table or the next item.
                    var marker = Regex.Match(trimmed, @"^([-*]|\d+\.) ");
                    var words = new List<string> { trimmed };
                    for (; i + 1 < lines.Count && ContinuesParagraph(lines[i + 1]); i++) words.Add(lines[i + 1].Trim());
                    var hanging = Indent + new string(' ', marker.Success ? marker.Length : 0);
                    AppendWrapped(text, Markdown.Inline(string.Join(" ", words)), Indent, hanging);
                }
            }

            return Regex.Replace(text.ToString(), "\n{3,}", "\n\n");
        }

        private static bool ContinuesParagraph(string line)
        {
            var trimmed = line.Trim();
            return trimmed.Length > 0 && !line.StartsWith("#", StringComparison.Ordinal) && !trimmed.StartsWith("```", StringComparison.Ordinal)
                && !trimmed.StartsWith("|", StringComparison.Ordinal) && !Regex.IsMatch(trimmed, @"^([-*]|\d+\.) ");
        }

        /// <summary>The text's words on lines of at most 80 columns: the first line after <paramref name="first"/>, the others after <paramref name="rest"/>.</summary>
        private static void AppendWrapped(StringBuilder text, string paragraph, string first, string rest)
        {
            var lines = Wrap(paragraph, Width - rest.Length);
            for (var i = 0; i < lines.Count; i++) text.Append(i == 0 ? first : rest).Append(lines[i]).Append('\n');
        }

        /// <summary>
        /// A Markdown pipe table as aligned columns, its last column wrapped between words; a table whose other columns leave
        /// the last fewer than 20 columns is written a row at a time instead, each cell under the row's first cell with its header.
        /// </summary>
        private static void AppendTable(StringBuilder text, List<string> rows)
        {
            var cells = rows.Select(r => r.Trim('|').Split('|').Select(c => Markdown.Inline(c.Trim())).ToList())
                .Where(r => !r.All(c => Regex.IsMatch(c, "^:?-+:?$"))).ToList();
            var columns = cells.Max(r => r.Count);
            foreach (var row in cells) while (row.Count < columns) row.Add("");
            var widths = Enumerable.Range(0, columns).Select(c => cells.Max(r => r[c].Length)).ToArray();
            var last = Width - Indent.Length - widths.Take(columns - 1).Sum(w => w + 2);
            if (last < 20)
            {
                AppendRecords(text, cells);
                return;
            }

            widths[columns - 1] = Math.Min(widths[columns - 1], last);
            for (var r = 0; r < cells.Count; r++)
            {
                var wrapped = Wrap(cells[r][columns - 1], widths[columns - 1]);
                for (var line = 0; line < wrapped.Count; line++)
                {
                    var parts = cells[r].Take(columns - 1).Select((cell, c) => (line == 0 ? cell : "").PadRight(widths[c])).Concat(new[] { wrapped[line] });
                    text.Append((Indent + string.Join("  ", parts)).TrimEnd()).Append('\n');
                }

                if (r == 0) text.Append(Indent).Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
            }
        }

        /// <summary>Each row of a wide table as its first cell, then its other cells under it, each after its column's header.</summary>
        private static void AppendRecords(StringBuilder text, List<List<string>> cells)
        {
            var headers = cells[0];
            var label = headers.Skip(1).Max(h => h.Length) + 2;
            var first = Indent + Indent;
            var rest = first + new string(' ', label);
            foreach (var row in cells.Skip(1))
            {
                text.Append('\n');
                AppendWrapped(text, row[0], Indent, Indent + "  ");
                for (var c = 1; c < row.Count; c++)
                {
                    if (row[c].Length > 0) AppendWrapped(text, row[c], first + headers[c].PadRight(label), rest);
                }
            }

            text.Append('\n');
        }

        /// <summary>The text on lines of at most <paramref name="width"/> characters, broken between words (a longer word is split).</summary>
        private static List<string> Wrap(string text, int width)
        {
            var lines = new List<string>();
            var line = "";
            foreach (var word in text.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length <= width)
                {
                    line += " " + word;
                    continue;
                }

                if (line.Length > 0) lines.Add(line);
                var rest = word;
                for (; rest.Length > width; rest = rest.Substring(width)) lines.Add(rest.Substring(0, width));
                line = rest;
            }

            if (line.Length > 0 || lines.Count == 0) lines.Add(line);
            return lines;
        }

        /// <summary>The lines after the topic's title lines ("# Module" and "## about_Name").</summary>
        public static IEnumerable<string> Body(string[] lines) =>
            lines.SkipWhile(l => !l.StartsWith("## about_", StringComparison.Ordinal)).Skip(1);
    }

#if !HELP_READER_ONLY
    /// <summary>The build step: docs/en-US/*.md into the module's en-US/ folder.</summary>
    public sealed class BuildModuleHelp : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public string SourceDirectory { get; set; } = "";
        [Microsoft.Build.Framework.Required] public string OutputDirectory { get; set; } = "";
        /// <summary>The cmdlet assembly's file name; the MAML file is named after it.</summary>
        [Microsoft.Build.Framework.Required] public string CmdletAssembly { get; set; } = "";

        public override bool Execute()
        {
            Directory.CreateDirectory(OutputDirectory);
            var pages = new List<HelpPage>();
            foreach (var file in Directory.GetFiles(SourceDirectory, "*.md").OrderBy(f => f, StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (name.StartsWith("about_", StringComparison.Ordinal))
                {
                    var topic = AboutTopicWriter.Write(name, AboutTopicWriter.Body(File.ReadAllLines(file)));
                    File.WriteAllText(Path.Combine(OutputDirectory, name + ".help.txt"), topic, new UTF8Encoding(false));
                }
                else
                {
                    pages.Add(HelpPageReader.Read(file));
                }
            }

            var maml = Path.Combine(OutputDirectory, CmdletAssembly + "-Help.xml");
            using (var writer = new StreamWriter(maml, false, new UTF8Encoding(false))) MamlWriter.Write(pages).Save(writer);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"Help: {pages.Count} cmdlet pages -> {maml}");
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
