using System.Text;
using Markdig.Syntax.Inlines;

namespace SemanticCore.Chunking;

/// <summary>Input normalisation shared by the chunkers.</summary>
internal static class SourceText
{
    /// <summary>Drops a leading BOM, turns CRLF/CR into LF and removes characters rejected by <see cref="VectorText.Clean"/>.</summary>
    public static string Normalize(string text)
    {
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        return VectorText.Clean(text);
    }
}

/// <summary>Plain text of Markdig inlines (for headings and image alt texts): markup dropped, whitespace collapsed.</summary>
internal static class InlineText
{
    public static string Of(Inline? inline)
    {
        if (inline is null)
        {
            return string.Empty;
        }

        var sb = new StringBuilder();
        Append(sb, inline, includeImages: true);
        return VectorText.SingleLine(sb.ToString());
    }

    /// <summary>A heading's text: images (badges, logos) are left out unless the heading has nothing else.</summary>
    public static string OfHeading(Inline? inline)
    {
        if (inline is null)
        {
            return string.Empty;
        }

        var sb = new StringBuilder();
        Append(sb, inline, includeImages: false);
        string text = VectorText.SingleLine(sb.ToString());
        return text.Length > 0 ? text : Of(inline);
    }

    private static void Append(StringBuilder sb, Inline inline, bool includeImages)
    {
        switch (inline)
        {
            case LiteralInline literal:
                sb.Append(literal.Content.ToString());
                break;
            case CodeInline code:
                sb.Append(code.Content);
                break;
            case AutolinkInline autolink:
                sb.Append(autolink.Url);
                break;
            case HtmlEntityInline entity:
                sb.Append(entity.Transcoded.ToString());
                break;
            case LineBreakInline:
                sb.Append(' ');
                break;
            case LinkInline { IsImage: true } when !includeImages:
                sb.Append(' ');
                break;
            case ContainerInline container:
                foreach (Inline child in container)
                {
                    Append(sb, child, includeImages);
                }

                break;
        }
    }
}

/// <summary>Reads the <c>title:</c> of a YAML front matter block without a YAML library (top-level scalar only).</summary>
internal static class FrontMatter
{
    public static string? ReadTitle(string block)
    {
        string[] lines = block.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (i > 0 && line.TrimEnd() is "---" or "...")
            {
                break;
            }

            if (!line.StartsWith("title:", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string value = line["title:".Length..].Trim();
            if (value.Length == 0 || value[0] is '|' or '>')
            {
                // Block scalar or plain value continued on indented lines.
                var sb = new StringBuilder();
                for (int j = i + 1; j < lines.Length && lines[j].Length > 0 && lines[j][0] is ' ' or '\t'; j++)
                {
                    sb.Append(' ').Append(lines[j].Trim());
                }

                value = sb.ToString();
            }
            else if (value[0] == '"')
            {
                value = Unquote(value, '"');
            }
            else if (value[0] == '\'')
            {
                value = Unquote(value, '\'');
            }
            else
            {
                int comment = value.IndexOf(" #", StringComparison.Ordinal);
                if (comment >= 0)
                {
                    value = value[..comment];
                }
            }

            value = VectorText.SingleLine(value);
            return value.Length > 0 ? value : null;
        }

        return null;
    }

    private static string Unquote(string value, char quote)
    {
        var sb = new StringBuilder(value.Length);
        for (int i = 1; i < value.Length; i++)
        {
            char c = value[i];
            if (quote == '\'' && c == '\'')
            {
                if (i + 1 < value.Length && value[i + 1] == '\'')
                {
                    sb.Append('\'');
                    i++;
                    continue;
                }

                break;
            }

            if (quote == '"' && c == '\\' && i + 1 < value.Length)
            {
                char e = value[++i];
                sb.Append(e switch { 'n' => ' ', 't' => ' ', _ => e });
                continue;
            }

            if (quote == '"' && c == '"')
            {
                break;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
