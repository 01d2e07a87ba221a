using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Tests.Chunking;

public class MarkdownChunkerTests
{
    private static ChunkedDocument Chunk(string markdown, ChunkingOptions? options = null)
    {
        ChunkedDocument document = MarkdownChunker.Chunk(markdown, "fallback", options);
        ChunkAssert.Invariants(document, options?.MaxChunkTokens ?? 1024);
        return document;
    }

    [Fact]
    public void Nested_headings_build_breadcrumbs_and_a_new_heading_pops_deeper_levels()
    {
        const string md = """
            # Guide

            Intro paragraph.

            ## Install

            Install text.

            ### Linux

            Linux text.

            ### Windows

            Windows text.

            ## Usage *basics*

            Usage text.

            # Appendix

            Appendix text.
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal("Guide", doc.Title);
        Assert.Equal(
            [
                "Intro paragraph.", "Install text.", "Linux text.", "Windows text.", "Usage text.", "Appendix text.",
            ],
            doc.Chunks.Select(c => c.Content));
        Assert.All(doc.Chunks, c => Assert.Equal(ChunkType.Text, c.Type));
        Assert.All(doc.Chunks, c => Assert.Null(c.Language));
        Assert.Equal(["Guide"], doc.Chunks[0].Breadcrumbs);
        Assert.Equal(["Guide", "Install"], doc.Chunks[1].Breadcrumbs);
        Assert.Equal(["Guide", "Install", "Linux"], doc.Chunks[2].Breadcrumbs);
        Assert.Equal(["Guide", "Install", "Windows"], doc.Chunks[3].Breadcrumbs);
        Assert.Equal(["Guide", "Usage basics"], doc.Chunks[4].Breadcrumbs);
        Assert.Equal(["Appendix"], doc.Chunks[5].Breadcrumbs);
        Assert.Equal(Enumerable.Range(0, 6), doc.Chunks.Select(c => c.Ordinal));

        Assert.Equal("Title: Guide\n\nIntro paragraph.", doc.Chunks[0].VectorSource);
        Assert.Equal("Title: Guide\nSection: Install > Linux\n\nLinux text.", doc.Chunks[2].VectorSource);
        Assert.Equal("Title: Guide\nSection: Appendix\n\nAppendix text.", doc.Chunks[5].VectorSource);
    }

    [Fact]
    public void Heading_text_is_plain_text_and_setext_headings_count()
    {
        const string md = """
            Project **Zeta**
            ================

            Top text.

            The `Foo` *API* [reference](http://example.com) &amp; more
            ----------------------------------------------------------

            API text.

            ### ![logo](logo.png) Deep <b>bold</b> [![badge](b.svg)](http://ci)

            Deep text.

            ## ![Only an image](x.png)

            Image heading text.
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal("Project Zeta", doc.Title);
        Assert.Equal(["Project Zeta", "The Foo API reference & more"], doc.Chunks[1].Breadcrumbs);
        Assert.Equal(["Project Zeta", "The Foo API reference & more", "Deep bold"], doc.Chunks[2].Breadcrumbs);
        Assert.Equal(["Project Zeta", "Only an image"], doc.Chunks[3].Breadcrumbs);
    }

    [Fact]
    public void Content_before_any_heading_has_no_breadcrumbs_and_headings_alone_give_no_chunks()
    {
        ChunkedDocument doc = Chunk("Preamble text.\n\n## Later\n\nBody.");
        Assert.Equal("fallback", doc.Title);
        Assert.Empty(doc.Chunks[0].Breadcrumbs);
        Assert.Equal("Title: fallback\n\nPreamble text.", doc.Chunks[0].VectorSource);
        Assert.Equal(["Later"], doc.Chunks[1].Breadcrumbs);

        Assert.Empty(Chunk("# One\n\n## Two\n\n### Three\n").Chunks);
    }

    [Fact]
    public void Paragraphs_and_lists_of_one_section_are_grouped_up_to_the_target()
    {
        const string md = """
            # Notes

            First paragraph.

            Second paragraph
            spans two lines.

            - item one
            - item two
              - nested item

            1. first
            2. second

            ---

            <!-- an html comment -->

            Last paragraph.
            """;
        ChunkedDocument doc = Chunk(md);

        ChunkDraft only = Assert.Single(doc.Chunks);
        Assert.Equal(
            "First paragraph.\n\nSecond paragraph\nspans two lines.\n\n- item one\n- item two\n  - nested item\n\n1. first\n2. second\n\nLast paragraph.",
            only.Content);

        ChunkedDocument small = Chunk(md, new ChunkingOptions { TargetChunkTokens = 8 });
        Assert.Equal(
            ["First paragraph.", "Second paragraph\nspans two lines.", "- item one\n- item two\n  - nested item", "1. first\n2. second", "Last paragraph."],
            small.Chunks.Select(c => c.Content));
    }

    [Fact]
    public void A_section_change_always_starts_a_new_chunk()
    {
        ChunkedDocument doc = Chunk("# A\n\none\n\n# B\n\ntwo\n\nthree");
        Assert.Equal(["one", "two\n\nthree"], doc.Chunks.Select(c => c.Content));
    }

    [Fact]
    public void Html_blocks_with_visible_text_are_kept_and_empty_ones_ignored()
    {
        const string md = """
            Before.

            <div align="center"><br/></div>

            <details>
            <summary>More</summary>
            Hidden body.
            </details>

            <script>alert(1)</script>
            """;
        ChunkedDocument doc = Chunk(md);
        Assert.Equal("Before.\n\n<details>\n<summary>More</summary>\nHidden body.\n</details>", Assert.Single(doc.Chunks).Content);
    }

    [Fact]
    public void Fenced_code_is_a_code_chunk_with_its_language()
    {
        const string md = """
            # Setup

            Run this:

            ```Python title="x.py"
            print("hi")
            ```

            ~~~
            no language
            ~~~

            ```{r}
            x <- 1
            ```
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal([ChunkType.Text, ChunkType.Code, ChunkType.Code, ChunkType.Code], doc.Chunks.Select(c => c.Type));
        Assert.Equal([null, "python", null, "{r}"], doc.Chunks.Select(c => c.Language));
        Assert.Equal("```Python title=\"x.py\"\nprint(\"hi\")\n```", doc.Chunks[1].Content);
        Assert.Equal("~~~\nno language\n~~~", doc.Chunks[2].Content);
        Assert.Equal("Title: Setup\nCode (python):\n\n```Python title=\"x.py\"\nprint(\"hi\")\n```", doc.Chunks[1].VectorSource);
        Assert.Equal("Title: Setup\nCode:\n\n~~~\nno language\n~~~", doc.Chunks[2].VectorSource);
        Assert.All(doc.Chunks, c => Assert.Equal(["Setup"], c.Breadcrumbs));
    }

    [Fact]
    public void Indented_code_keeps_its_indentation()
    {
        ChunkedDocument doc = Chunk("Example:\n\n    x = 1\n    y = 2\n\nAfter.");
        Assert.Equal([ChunkType.Text, ChunkType.Code, ChunkType.Text], doc.Chunks.Select(c => c.Type));
        Assert.Equal("    x = 1\n    y = 2", doc.Chunks[1].Content);
        Assert.Null(doc.Chunks[1].Language);
        Assert.Equal("Title: fallback\nCode:\n\n    x = 1\n    y = 2", doc.Chunks[1].VectorSource);
    }

    [Fact]
    public void An_unclosed_fence_runs_to_the_end_of_the_document()
    {
        ChunkedDocument doc = Chunk("Text.\n\n```sh\necho one\necho two\n");
        Assert.Equal("```sh\necho one\necho two", doc.Chunks[1].Content);
        Assert.Equal("sh", doc.Chunks[1].Language);
    }

    [Fact]
    public void A_large_code_block_is_split_on_lines_and_every_piece_is_fenced()
    {
        string[] lines = Enumerable.Range(0, 400).Select(i => $"    var value{i} = Compute({i}, \"item {i}\"); // step {i}").ToArray();
        string md = "# Code\n\n```csharp\n" + string.Join('\n', lines) + "\n```\n\nAfter the code.";
        ChunkedDocument doc = Chunk(md);

        List<ChunkDraft> pieces = doc.Chunks.Where(c => c.Type == ChunkType.Code).ToList();
        Assert.True(pieces.Count >= 3, $"only {pieces.Count} pieces");
        Assert.Equal(Enumerable.Range(0, pieces.Count), pieces.Select(p => p.Ordinal));
        var body = new List<string>();
        foreach (ChunkDraft piece in pieces)
        {
            Assert.Equal("csharp", piece.Language);
            Assert.Equal(["Code"], piece.Breadcrumbs);
            Assert.StartsWith("```csharp\n", piece.Content);
            Assert.EndsWith("\n```", piece.Content);
            Assert.True(TokenEstimator.Estimate(piece.Content) <= 1024);
            Assert.StartsWith("Title: Code\nCode (csharp):\n\n```csharp\n", piece.VectorSource);
            string[] pieceLines = piece.Content.Split('\n');
            body.AddRange(pieceLines[1..^1]);
        }

        Assert.Equal(lines, body);
        Assert.Equal("After the code.", doc.Chunks[^1].Content);
        Assert.Equal(ChunkType.Text, doc.Chunks[^1].Type);

        // Balanced: no tiny tail piece.
        int smallest = pieces.Min(p => TokenEstimator.Estimate(p.Content));
        int largest = pieces.Max(p => TokenEstimator.Estimate(p.Content));
        Assert.True(smallest * 2 > largest, $"unbalanced: {smallest} vs {largest}");
    }

    [Fact]
    public void A_single_over_long_code_line_is_hard_split()
    {
        string line = string.Concat(Enumerable.Range(0, 3000).Select(i => $"a{i}=" + (i % 7) + ";"));
        ChunkedDocument doc = Chunk("```js\n" + line + "\n```");

        Assert.True(doc.Chunks.Count > 1);
        Assert.All(doc.Chunks, c => Assert.Equal(ChunkType.Code, c.Type));
        Assert.All(doc.Chunks, c => Assert.StartsWith("```js\n", c.Content));
        Assert.All(doc.Chunks, c => Assert.EndsWith("\n```", c.Content));
        string joined = string.Concat(doc.Chunks.SelectMany(c => c.Content.Split('\n')[1..^1]));
        Assert.Equal(line, joined);
    }

    [Fact]
    public void Tables_are_table_chunks_kept_whole_when_they_fit()
    {
        const string md = """
            ## Limits

            | Model | Tokens |
            |:------|-------:|
            | gemini-embedding-001 | 2048 |
            | other | 512 |

            +-------+-------+
            | Grid  | Table |
            +=======+=======+
            | a     | b     |
            +-------+-------+
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal([ChunkType.Table, ChunkType.Table], doc.Chunks.Select(c => c.Type));
        Assert.Equal("| Model | Tokens |\n|:------|-------:|\n| gemini-embedding-001 | 2048 |\n| other | 512 |", doc.Chunks[0].Content);
        Assert.Equal("Section: Limits\nTable:\n\n" + doc.Chunks[0].Content, doc.Chunks[0].VectorSource[(doc.Chunks[0].VectorSource.IndexOf('\n') + 1)..]);
        Assert.StartsWith("+-------+-------+\n| Grid  | Table |", doc.Chunks[1].Content);
        Assert.Equal(["Limits"], doc.Chunks[1].Breadcrumbs);
    }

    [Fact]
    public void A_paragraph_line_right_before_a_table_stays_text()
    {
        ChunkedDocument doc = Chunk("Intro line\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        Assert.Equal([ChunkType.Text, ChunkType.Table], doc.Chunks.Select(c => c.Type));
        Assert.Equal("Intro line", doc.Chunks[0].Content);
        Assert.Equal("| a | b |\n|---|---|\n| 1 | 2 |", doc.Chunks[1].Content);
    }

    [Fact]
    public void An_oversized_table_is_split_on_rows_with_the_header_repeated()
    {
        const string header = "| Id | Name | Description |";
        const string delimiter = "|---:|:-----|-------------|";
        string[] rows = Enumerable.Range(0, 300).Select(i => $"| {i} | name-{i} | the description of row number {i} |").ToArray();
        string md = "# Data\n\n" + header + "\n" + delimiter + "\n" + string.Join('\n', rows) + "\n";
        ChunkedDocument doc = Chunk(md);

        Assert.True(doc.Chunks.Count > 2);
        var seen = new List<string>();
        foreach (ChunkDraft piece in doc.Chunks)
        {
            Assert.Equal(ChunkType.Table, piece.Type);
            string[] lines = piece.Content.Split('\n');
            Assert.Equal(header, lines[0]);
            Assert.Equal(delimiter, lines[1]);
            Assert.True(lines.Length > 2);
            Assert.True(TokenEstimator.Estimate(piece.Content) <= 1024);
            seen.AddRange(lines[2..]);
        }

        Assert.Equal(rows, seen);
    }

    [Fact]
    public void An_oversized_grid_table_repeats_its_header_block()
    {
        var md = new System.Text.StringBuilder("+----+--------+\n| Id | Name   |\n+====+========+\n");
        for (int i = 0; i < 90; i++)
        {
            md.Append($"| {i,-2} | row{i,-4}|\n+----+--------+\n");
        }

        ChunkedDocument doc = Chunk(md.ToString(), new ChunkingOptions { MaxChunkTokens = 300 });
        Assert.True(doc.Chunks.Count > 2);
        Assert.All(doc.Chunks, c => Assert.StartsWith("+----+--------+\n| Id | Name   |\n+====+========+\n| ", c.Content));
        Assert.All(doc.Chunks, c => Assert.EndsWith("+----+--------+", c.Content));
        Assert.Equal(90, doc.Chunks.Sum(c => c.Content.Split('\n').Count(l => l.StartsWith("| ", StringComparison.Ordinal)) - 1));
    }

    [Fact]
    public void An_image_only_paragraph_is_an_image_ref_and_inline_images_stay_text()
    {
        const string md = """
            # Architecture

            ![Architecture diagram](docs/arch.png "The big picture")

            The icon ![icon](icon.png) appears inline.

            [![Build status](https://ci.example.com/badge.svg)](https://ci.example.com) ![Coverage][cov]

            [cov]: https://cov.example.com/badge.svg
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal([ChunkType.ImageRef, ChunkType.Text, ChunkType.ImageRef], doc.Chunks.Select(c => c.Type));
        ChunkDraft image = doc.Chunks[0];
        Assert.Equal("![Architecture diagram](docs/arch.png \"The big picture\")", image.Content);
        Assert.Equal("Title: Architecture\nImage:\n\n![Architecture diagram](docs/arch.png \"The big picture\")", image.VectorSource);
        Assert.Contains("Architecture diagram", image.VectorSource);
        Assert.Contains("docs/arch.png", image.VectorSource);

        Assert.Equal("The icon ![icon](icon.png) appears inline.", doc.Chunks[1].Content);

        ChunkDraft badges = doc.Chunks[2];
        Assert.Equal("[![Build status](https://ci.example.com/badge.svg)](https://ci.example.com) ![Coverage][cov]", badges.Content);
        Assert.EndsWith("\nCoverage https://cov.example.com/badge.svg", badges.VectorSource); // reference resolved for the embedding
    }

    [Fact]
    public void Block_quotes_are_quote_chunks()
    {
        const string md = """
            Intro.

            > Simplicity is prerequisite for reliability.
            > It really is.
            >
            > -- Dijkstra

            > [!WARNING]
            > Back up first.

            Outro.
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal([ChunkType.Text, ChunkType.Quote, ChunkType.Quote, ChunkType.Text], doc.Chunks.Select(c => c.Type));
        Assert.Equal("> Simplicity is prerequisite for reliability.\n> It really is.\n>\n> -- Dijkstra", doc.Chunks[1].Content);
        Assert.Equal("> [!WARNING]\n> Back up first.", doc.Chunks[2].Content);
        Assert.Equal("Title: fallback\nQuote:\n\n> [!WARNING]\n> Back up first.", doc.Chunks[2].VectorSource);
    }

    [Fact]
    public void An_oversized_quote_is_split_by_paragraph_and_size()
    {
        string big = "> " + string.Join(' ', Enumerable.Range(0, 400).Select(i => $"Quoted sentence {i} says something."));
        string md = big + "\n>\n> Short closing paragraph.";
        ChunkedDocument doc = Chunk(md, new ChunkingOptions { MaxChunkTokens = 300 });

        Assert.True(doc.Chunks.Count > 3);
        Assert.All(doc.Chunks, c => Assert.Equal(ChunkType.Quote, c.Type));
        Assert.All(doc.Chunks, c => Assert.StartsWith("> ", c.Content));
        Assert.EndsWith("> Short closing paragraph.", doc.Chunks[^1].Content);
        string all = string.Concat(doc.Chunks.Select(c => c.Content.Replace(">", string.Empty)));
        Assert.Equal(ChunkAssert.WithoutWhiteSpace(md.Replace(">", string.Empty)), ChunkAssert.WithoutWhiteSpace(all));
    }

    [Fact]
    public void Yaml_front_matter_gives_the_title_and_is_never_a_chunk()
    {
        const string md = """
            ---
            title: "Release Notes: v2"
            tags: [release, notes]
            ---
            # Version 2

            Everything changed.
            """;
        ChunkedDocument doc = Chunk(md);

        Assert.Equal("Release Notes: v2", doc.Title);
        ChunkDraft chunk = Assert.Single(doc.Chunks);
        Assert.Equal("Everything changed.", chunk.Content);
        Assert.Equal(["Version 2"], chunk.Breadcrumbs);
        Assert.Equal("Title: Release Notes: v2\nSection: Version 2\n\nEverything changed.", chunk.VectorSource);
        Assert.DoesNotContain(doc.Chunks, c => c.Content.Contains("tags:"));
    }

    [Theory]
    [InlineData("---\ntitle: Plain title # comment\n---\nBody.", "Plain title")]
    [InlineData("---\ntitle: 'It''s quoted'\n---\nBody.", "It's quoted")]
    [InlineData("---\nTitle: >\n  Folded\n  title\n---\nBody.", "Folded title")]
    [InlineData("---\nauthor: me\n---\n# From H1\n\nBody.", "From H1")]
    [InlineData("---\nauthor: me\n---\nBody.", "fallback")]
    [InlineData("Body first.\n\n# Later H1\n\nMore.", "Later H1")]
    [InlineData("## Only H2\n\nBody.", "fallback")]
    [InlineData("# Project [![ci](https://ci/badge.svg)](https://ci) ![cov](c.svg)\n\nBody.", "Project")]
    public void Title_comes_from_front_matter_then_first_h1_then_fallback(string md, string title) =>
        Assert.Equal(title, Chunk(md).Title);

    [Fact]
    public void Front_matter_only_or_empty_documents_give_no_chunks()
    {
        Assert.Empty(Chunk("").Chunks);
        Assert.Empty(Chunk("   \n\t\n  ").Chunks);
        Assert.Empty(Chunk("\r\n\r\n").Chunks);
        Assert.Empty(Chunk("\uFEFF").Chunks);
        Assert.Empty(Chunk("---\ntitle: Only\n---\n").Chunks);
        Assert.Equal("fallback", Chunk(" ").Title);
    }

    [Fact]
    public void Crlf_input_gives_the_same_chunks_as_lf_input()
    {
        const string lf = "---\ntitle: T\n---\n# A\n\npara one\nline two\n\n```py\nx = 1\n\ny = 2\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> q\n>\n> r\n\n## B\n\n    indented\n\n- x\n- y\n";
        ChunkedDocument a = Chunk(lf);
        ChunkedDocument b = Chunk(lf.Replace("\n", "\r\n"));
        ChunkedDocument c = Chunk(lf.Replace("\n", "\r"));

        Assert.Equal(6, a.Chunks.Count);
        Assert.Equal([ChunkType.Text, ChunkType.Code, ChunkType.Table, ChunkType.Quote, ChunkType.Code, ChunkType.Text], a.Chunks.Select(x => x.Type));
        Assert.Equal("```py\nx = 1\n\ny = 2\n```", a.Chunks[1].Content);
        foreach (ChunkedDocument other in new[] { b, c })
        {
            Assert.Equal(a.Title, other.Title);
            Assert.Equal(a.Chunks.Count, other.Chunks.Count);
            for (int i = 0; i < a.Chunks.Count; i++)
            {
                Assert.Equal(a.Chunks[i].Type, other.Chunks[i].Type);
                Assert.Equal(a.Chunks[i].Language, other.Chunks[i].Language);
                Assert.Equal(a.Chunks[i].Content, other.Chunks[i].Content);
                Assert.Equal(a.Chunks[i].Breadcrumbs, other.Chunks[i].Breadcrumbs);
                Assert.Equal(a.Chunks[i].VectorSource, other.Chunks[i].VectorSource);
                Assert.Equal(a.Chunks[i].ContentHash, other.Chunks[i].ContentHash);
            }
        }
    }

    [Fact]
    public void A_huge_single_paragraph_is_split_on_sentences_without_losing_text()
    {
        var random = new Random(42);
        string[] words = ["embedding", "vector", "chunk", "token", "model", "search", "index", "query", "document", "semantic"];
        var sb = new System.Text.StringBuilder();
        while (sb.Length < 50_000)
        {
            int n = random.Next(5, 25);
            for (int i = 0; i < n; i++)
            {
                sb.Append(i == 0 ? "The" : words[random.Next(words.Length)]).Append(i == n - 1 ? ". " : " ");
            }
        }

        string paragraph = sb.ToString().Trim();
        ChunkedDocument doc = Chunk("# Big\n\n" + paragraph);

        Assert.True(doc.Chunks.Count > 20);
        Assert.All(doc.Chunks, c => Assert.True(TokenEstimator.Estimate(c.VectorSource) <= 2048));
        Assert.All(doc.Chunks, c => Assert.True(TokenEstimator.Estimate(c.Content) <= 400)); // pieces are grouped to the target
        Assert.All(doc.Chunks, c => Assert.EndsWith(".", c.Content));
        Assert.All(doc.Chunks, c => Assert.StartsWith("The ", c.Content));
        Assert.Equal(ChunkAssert.WithoutWhiteSpace(paragraph), ChunkAssert.WithoutWhiteSpace(string.Concat(doc.Chunks.Select(c => c.Content))));
    }

    [Fact]
    public void A_huge_paragraph_without_sentences_or_spaces_is_hard_split()
    {
        string blob = string.Concat(Enumerable.Range(0, 12_000).Select(i => (char)('a' + (i * 7 % 26)) + (i % 10).ToString()));
        ChunkedDocument doc = Chunk(blob);
        Assert.True(doc.Chunks.Count > 10);
        Assert.Equal(blob, string.Concat(doc.Chunks.Select(c => c.Content)));
    }

    [Fact]
    public void A_huge_list_is_grouped_item_by_item()
    {
        string[] items = Enumerable.Range(0, 500).Select(i => $"- item {i} with a few words of text").ToArray();
        ChunkedDocument doc = Chunk("# L\n\n" + string.Join('\n', items));
        Assert.True(doc.Chunks.Count > 3);
        Assert.Equal(items, doc.Chunks.SelectMany(c => c.Content.Split('\n')));
    }

    [Fact]
    public void Cyrillic_text_is_kept_and_estimated_at_about_two_characters_per_token()
    {
        const string md = "# Руководство\n\n## Установка\n\nСначала установите пакет, затем перезапустите службу.";
        ChunkedDocument doc = Chunk(md);

        Assert.Equal("Руководство", doc.Title);
        ChunkDraft chunk = Assert.Single(doc.Chunks);
        Assert.Equal("Сначала установите пакет, затем перезапустите службу.", chunk.Content);
        Assert.Equal(["Руководство", "Установка"], chunk.Breadcrumbs);
        Assert.Equal("Title: Руководство\nSection: Установка\n\nСначала установите пакет, затем перезапустите службу.", chunk.VectorSource);
        Assert.True(TokenEstimator.Estimate(chunk.Content) >= chunk.Content.Count(char.IsLetter) / 2);
    }

    [Fact]
    public void Cjk_text_is_kept_and_estimated_at_one_token_per_character_or_more()
    {
        string sentence = "日本語の文書を意味検索のために分割します。";
        string paragraph = string.Concat(Enumerable.Repeat(sentence, 300)); // ~6,300 characters, no spaces
        ChunkedDocument doc = Chunk("# 説明\n\n" + paragraph);

        Assert.Equal("説明", doc.Title);
        Assert.True(doc.Chunks.Count > 5);
        Assert.All(doc.Chunks, c => Assert.True(TokenEstimator.Estimate(c.Content) >= c.Content.Length));
        Assert.All(doc.Chunks, c => Assert.EndsWith("。", c.Content)); // split on the ideographic full stop
        Assert.Equal(paragraph, string.Concat(doc.Chunks.Select(c => c.Content)));
    }

    [Fact]
    public void Emoji_are_kept_and_cost_two_tokens_each()
    {
        ChunkedDocument doc = Chunk("# Party 🎉\n\nShip it 🚀🚀 and celebrate 👍🏽.");
        ChunkDraft chunk = Assert.Single(doc.Chunks);
        Assert.Equal("Party 🎉", doc.Title);
        Assert.Equal("Ship it 🚀🚀 and celebrate 👍🏽.", chunk.Content);
        Assert.Equal("Title: Party 🎉\n\nShip it 🚀🚀 and celebrate 👍🏽.", chunk.VectorSource);
        Assert.Equal(15, TokenEstimator.Estimate(chunk.Content)); // Ship 1, it 1, 🚀🚀 4, and 1, celebrate 3, 👍🏽 4, "." 1
    }

    [Fact]
    public void Control_characters_are_removed_while_newlines_and_tabs_are_kept()
    {
        string md = "# Ctl\u0007\n\nBell\u0007 escape\u001B[31m start\u0001 next\u0085line\u0000\n\n```\ncol1\tcol2\u0008\n```";
        ChunkedDocument doc = Chunk(md);

        Assert.Equal("Ctl", doc.Title);
        Assert.Equal("Bell escape[31m start nextline", doc.Chunks[0].Content);
        Assert.Equal("```\ncol1\tcol2\n```", doc.Chunks[1].Content);
        foreach (ChunkDraft chunk in doc.Chunks)
        {
            foreach (char bad in "\u0000\u0001\u0007\u0008\u001B\u0085\r")
            {
                Assert.DoesNotContain(bad, chunk.VectorSource);
            }
        }

        Assert.Contains('\t', doc.Chunks[1].VectorSource);
        Assert.Contains('\n', doc.Chunks[1].VectorSource);
    }

    [Fact]
    public void Content_hash_is_the_sha256_of_the_vector_source_and_stable_across_runs()
    {
        ChunkDraft chunk = Assert.Single(Chunk("# Doc\n\nHello world.").Chunks);
        Assert.Equal("Title: Doc\n\nHello world.", chunk.VectorSource);
        Assert.Equal("56eb0a87f02e6370e1ff885e785516807628fe73cd4bbc73560a2151531dc2f3", chunk.ContentHash);

        ChunkDraft unicode = Assert.Single(Chunk("# Guide\n\n## Install\n\nRun the installer. Привет 日本 😀").Chunks);
        Assert.Equal("26e740bc2c072f5081bf4edd9042f8c117c627bc2fbed1368bc5d6832c8891a8", unicode.ContentHash);
        Assert.Matches("^[0-9a-f]{64}$", unicode.ContentHash);
    }

    [Fact]
    public void Identical_documents_give_identical_hashes()
    {
        const string md = "# A\n\nalpha\n\n```go\nfunc main() {}\n```\n\n## B\n\nbeta";
        ChunkedDocument first = Chunk(md);
        ChunkedDocument second = Chunk(new string(md.AsSpan()));
        Assert.Equal(first.Chunks.Select(c => c.ContentHash), second.Chunks.Select(c => c.ContentHash));
        Assert.Equal(3, first.Chunks.Select(c => c.ContentHash).Distinct().Count());
    }

    [Fact]
    public void Changing_one_section_changes_only_that_sections_hashes()
    {
        const string original = "# Doc\n\n## One\n\nFirst section text.\n\n## Two\n\nSecond section text.\n\n```sh\nmake\n```\n\n## Three\n\nThird section text.";
        string edited = original.Replace("Second section text.", "Second section text, edited.");
        ChunkedDocument a = Chunk(original);
        ChunkedDocument b = Chunk(edited);

        Assert.Equal(4, a.Chunks.Count);
        Assert.Equal(4, b.Chunks.Count);
        Assert.Equal(a.Chunks[0].ContentHash, b.Chunks[0].ContentHash);
        Assert.NotEqual(a.Chunks[1].ContentHash, b.Chunks[1].ContentHash);
        Assert.Equal(a.Chunks[2].ContentHash, b.Chunks[2].ContentHash); // the code block in section Two did not change
        Assert.Equal(a.Chunks[3].ContentHash, b.Chunks[3].ContentHash);
    }

    [Fact]
    public void Invalid_options_are_rejected_and_oversized_ones_clamped()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MarkdownChunker.Chunk("x", "t", new ChunkingOptions { MaxChunkTokens = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => MarkdownChunker.Chunk("x", "t", new ChunkingOptions { TargetChunkTokens = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => MarkdownChunker.Chunk("x", "t", new ChunkingOptions { MaxContextTokens = -1 }));

        var greedy = new ChunkingOptions { MaxChunkTokens = 100_000, TargetChunkTokens = 100_000, MaxContextTokens = 100_000 };
        string longTitle = string.Join(' ', Enumerable.Repeat("title", 3000));
        string text = string.Join(' ', Enumerable.Repeat("A sentence of ordinary words.", 3000));
        ChunkedDocument doc = MarkdownChunker.Chunk("# " + longTitle + "\n\n" + text, "t", greedy);
        Assert.True(doc.Chunks.Count > 1);
        Assert.All(doc.Chunks, c => Assert.True(TokenEstimator.Estimate(c.VectorSource) <= 2048));
    }

    [Theory]
    [InlineData("[a](", 2000, false)]       // 8 KB: the scans cost little, and it is parsed
    [InlineData("[a](", 100_000, true)]     // 400 KB: minutes of the parser's time
    [InlineData("![a](", 100_000, true)]
    public void Inline_links_that_never_close_are_refused_before_parsing_past_a_budget(string unit, int count, bool refused)
    {
        var markdown = "# Links\n\n" + string.Concat(Enumerable.Repeat(unit, count));

        var error = Record.Exception(() => MarkdownChunker.Chunk(markdown, "t"));

        Assert.Equal(refused, error is MarkdownTooComplexException);
        if (!refused) Assert.Null(error);
    }

    [Fact]
    public void Link_definitions_are_refused_only_when_one_paragraph_holds_thousands()
    {
        static string Definitions(int count, string separator) =>
            string.Concat(Enumerable.Range(0, count).Select(i => $"[r{i}]: http://example.com/{i}{separator}"));

        Assert.Throws<MarkdownTooComplexException>(() => MarkdownChunker.Chunk(Definitions(100_000, "\n") + "\ntext [r1]", "t"));
        // The same definitions apart (a blank line between them) cost the parser nothing more than their length.
        Assert.Single(Chunk(Definitions(20_000, "\n\n") + "text [r1]").Chunks);
        Assert.Single(Chunk(Definitions(500, "\n") + "\ntext [r1]").Chunks);
    }

    [Theory]
    [InlineData("- a")]
    [InlineData("-")]
    [InlineData("1. a")]
    public void Nesting_past_the_depth_limit_is_refused_when_a_line_reaches_it_not_after_the_whole_parse(string item)
    {
        // 1,500 levels, a few MB: Markdig took tens of seconds to refuse them at the end of its parse.
        var markdown = string.Concat(Enumerable.Range(0, 1500).Select(i => new string(' ', (item.Length + 1) * i) + item + "\n"));

        var error = Assert.Throws<ArgumentException>(() => MarkdownChunker.Chunk(markdown, "t"));

        Assert.Contains("depth limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_within_the_depth_limit_and_closed_links_are_chunked_as_before()
    {
        var nested = string.Concat(Enumerable.Range(0, 30).Select(i => new string(' ', 2 * i) + $"- item {i}\n"));
        var links = string.Concat(Enumerable.Range(0, 5000).Select(i => $"See [link {i}](http://example.com/{i}) and ![i](data:image/png;base64,{new string('A', 300)}).\n"));

        Assert.Contains("item 29", Assert.Single(Chunk(nested).Chunks).Content, StringComparison.Ordinal);
        Assert.NotEmpty(Chunk(links).Chunks);
    }
}
