using System.Text;
using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Tests.Chunking;

/// <summary>Random documents (fixed seeds) must always respect the model limit and number their chunks 0..n-1.</summary>
public class ChunkingPropertyTests
{
    private static readonly string[] Words =
        ["alpha", "beta", "gamma", "delta", "vector", "embedding", "Привет", "мир", "日本語", "テキスト", "한국어", "😀", "🚀", "x1", "2048", "foo_bar", "camelCase", "naïve", "Ελληνικά", "مرحبا"];

    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6, 7, 8];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_markdown_respects_the_limit_with_default_options(int seed)
    {
        string md = RandomMarkdown(new Random(seed));
        ChunkedDocument doc = MarkdownChunker.Chunk(md, "random", ChunkingOptions.Default);
        Assert.NotEmpty(doc.Chunks);
        ChunkAssert.Invariants(doc);
        Assert.True(doc.Chunks.Select(c => c.Type).Distinct().Count() >= 4, "the generator should exercise most chunk types");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_markdown_respects_small_limits(int seed)
    {
        var options = new ChunkingOptions { MaxChunkTokens = 64, TargetChunkTokens = 32, MaxContextTokens = 16 };
        ChunkedDocument doc = MarkdownChunker.Chunk(RandomMarkdown(new Random(seed)), "random", options);
        ChunkAssert.Invariants(doc, 64);
        Assert.All(doc.Chunks, c => Assert.True(TokenEstimator.Estimate(c.VectorSource) <= 16 + 2 + 64));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_plain_text_respects_the_limit(int seed)
    {
        ChunkedDocument doc = PlainTextChunker.Chunk(RandomMarkdown(new Random(seed)), "random");
        Assert.NotEmpty(doc.Chunks);
        ChunkAssert.Invariants(doc);
    }

    [Fact]
    public void Chunking_is_deterministic()
    {
        string md = RandomMarkdown(new Random(99));
        ChunkedDocument a = MarkdownChunker.Chunk(md, "r");
        ChunkedDocument b = MarkdownChunker.Chunk(md, "r");
        Assert.Equal(a.Chunks.Select(c => c.ContentHash), b.Chunks.Select(c => c.ContentHash));
        Assert.Equal(a.Chunks.Select(c => c.Content), b.Chunks.Select(c => c.Content));
    }

    [Fact]
    public void Chunking_in_parallel_gives_the_same_results()
    {
        string[] documents = Enumerable.Range(20, 8).Select(seed => RandomMarkdown(new Random(seed))).ToArray();
        string[][] sequential = documents.Select(d => MarkdownChunker.Chunk(d, "p").Chunks.Select(c => c.ContentHash).ToArray()).ToArray();
        var parallel = new string[documents.Length][];
        Parallel.For(0, documents.Length, i => parallel[i] = MarkdownChunker.Chunk(documents[i], "p").Chunks.Select(c => c.ContentHash).ToArray());
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void A_large_document_is_chunked_in_linear_time()
    {
        var sb = new StringBuilder();
        var random = new Random(5);
        while (sb.Length < 3_000_000)
        {
            sb.Append(RandomMarkdown(random)).Append("\n\n");
        }

        var watch = System.Diagnostics.Stopwatch.StartNew();
        ChunkedDocument doc = MarkdownChunker.Chunk(sb.ToString(), "big");
        watch.Stop();
        Assert.True(doc.Chunks.Count > 1000);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }

    private static string RandomMarkdown(Random random)
    {
        var sb = new StringBuilder();
        if (random.Next(2) == 0)
        {
            sb.Append("---\ntitle: ").Append(Sentence(random, 4)).Append("\n---\n");
        }

        int blocks = random.Next(20, 60);
        for (int b = 0; b < blocks; b++)
        {
            switch (random.Next(12))
            {
                case 0:
                    sb.Append(new string('#', random.Next(1, 7))).Append(' ').Append(Sentence(random, random.Next(1, random.Next(2) == 0 ? 6 : 400)));
                    break;
                case 1:
                    sb.Append("```").Append(random.Next(3) == 0 ? string.Empty : "lang" + random.Next(5)).Append('\n');
                    int lines = random.Next(1, random.Next(2) == 0 ? 10 : 600);
                    for (int i = 0; i < lines; i++)
                    {
                        sb.Append(new string(' ', random.Next(8))).Append(Sentence(random, random.Next(0, random.Next(10) == 0 ? 3000 : 12))).Append('\n');
                    }

                    sb.Append("```");
                    break;
                case 2:
                    int columns = random.Next(1, 6);
                    sb.Append('|').Append(string.Concat(Enumerable.Range(0, columns).Select(c => $" h{c} |"))).Append('\n');
                    sb.Append('|').Append(string.Concat(Enumerable.Repeat("---|", columns))).Append('\n');
                    int rows = random.Next(1, random.Next(2) == 0 ? 5 : 400);
                    for (int r = 0; r < rows; r++)
                    {
                        sb.Append('|');
                        for (int c = 0; c < columns; c++)
                        {
                            sb.Append(' ').Append(Sentence(random, random.Next(1, random.Next(20) == 0 ? 800 : 6)).Replace("|", "/")).Append(" |");
                        }

                        sb.Append('\n');
                    }

                    break;
                case 3:
                    int quoteLines = random.Next(1, 30);
                    for (int i = 0; i < quoteLines; i++)
                    {
                        sb.Append(random.Next(5) == 0 ? ">" : "> " + Sentence(random, random.Next(1, 200))).Append('\n');
                    }

                    break;
                case 4:
                    int items = random.Next(1, random.Next(2) == 0 ? 8 : 300);
                    for (int i = 0; i < items; i++)
                    {
                        sb.Append(new string(' ', 2 * random.Next(2))).Append("- ").Append(Sentence(random, random.Next(1, 40))).Append('\n');
                    }

                    break;
                case 5:
                    sb.Append("![").Append(Sentence(random, 3)).Append("](img/").Append(random.Next(100)).Append(".png)");
                    break;
                case 6:
                    sb.Append("    ").Append(Sentence(random, 8)).Append("\n    ").Append(Sentence(random, 5));
                    break;
                case 7:
                    sb.Append(Sentence(random, random.Next(2000, 8000))); // a huge paragraph
                    break;
                case 8:
                    sb.Append(Noise(random, random.Next(1, 3000)));
                    break;
                default:
                    sb.Append(Sentence(random, random.Next(1, 120)));
                    break;
            }

            sb.Append(random.Next(4) == 0 ? "\r\n\r\n" : "\n\n");
        }

        return sb.ToString();
    }

    private static string Sentence(Random random, int words)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < words; i++)
        {
            if (i > 0)
            {
                sb.Append(random.Next(15) == 0 ? ". " : " ");
            }

            sb.Append(Words[random.Next(Words.Length)]);
        }

        return sb.ToString();
    }

    /// <summary>Arbitrary UTF-16: controls, lone surrogates, astral characters, punctuation runs.</summary>
    private static string Noise(Random random, int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            int kind = random.Next(10);
            sb.Append(kind switch
            {
                0 => (char)random.Next(0, 0x20),
                1 => (char)random.Next(0x7F, 0xA0),
                2 => (char)random.Next(0xD800, 0xE000),
                3 => char.ConvertFromUtf32(random.Next(0x1F300, 0x1FAFF)),
                4 => (char)random.Next(0x4E00, 0x9FFF),
                5 => "!@#$%^&*()[]{}<>|`~"[random.Next(19)],
                6 => (char)random.Next(0x400, 0x4FF),
                _ => (char)random.Next('a', 'z' + 1),
            });
        }

        return sb.ToString();
    }
}
