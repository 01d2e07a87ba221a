using System.Buffers;
using System.Text;
using System.Text.Json;
using FakeGemini;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

public sealed class BatchOutputTests
{
    private static async Task<List<BatchOutputLine>> ReadAllAsync(Stream stream)
    {
        var lines = new List<BatchOutputLine>();
        await foreach (var line in BatchOutputReader.ReadAsync(stream)) lines.Add(line);
        return lines;
    }

    private static Task<List<BatchOutputLine>> ReadAllAsync(string text, int maxRead = int.MaxValue) =>
        ReadAllAsync(new TrickleStream(Encoding.UTF8.GetBytes(text), maxRead));

    [Fact]
    public async Task EndToEnd_MixedOutput_GivesExactRecords()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.LineOutcomeFor = (key, _) => key switch
        {
            "k1" => LineOutcome.TooLong400,
            "k2" => LineOutcome.RateLimited429,
            "k3" => LineOutcome.Unavailable503,
            "k4" => LineOutcome.Missing,
            "k5" => LineOutcome.Duplicate,
            _ => LineOutcome.Success,
        };
        t.Fake.ExtraUnknownKeys = 1;
        t.Fake.MalformedLines = 2;
        t.Fake.TruncateLastLine = true;
        var input = await GeminiBatchTests.UploadInputAsync(t.Client, 10);
        var job = await t.Client.CreateBatchAsync("mixed", input.Name);
        t.Fake.Complete(job.Name);
        var done = await t.Client.GetBatchAsync(job.Name);

        List<BatchOutputLine> lines;
        await using (var stream = await t.Client.DownloadFileAsync(done.ResponsesFileName!))
        {
            lines = await ReadAllAsync(stream);
        }

        // Output order without shuffling: input order, extras last, garbage spread in, last line cut.
        Assert.Equal(
            [
                (1L, "k0", (int?)null, (string?)null, false, false),
                (2L, "k1", 400, "INVALID_ARGUMENT", false, false),
                (3L, "k2", 429, "RESOURCE_EXHAUSTED", true, false), // gRPC code 8 mapped
                (4L, null, null, null, false, true),
                (5L, "k3", 503, "UNAVAILABLE", true, false),
                (6L, "k5", null, null, false, false),
                (7L, "k5", null, null, false, false),
                (8L, "k6", null, null, false, false),
                (9L, null, null, null, false, true),
                (10L, "k7", null, null, false, false),
                (11L, "k8", null, null, false, false),
                (12L, "k9", null, null, false, false),
                (13L, null, null, null, false, true), // "unknown-0", truncated
            ],
            lines.Select(l => (l.LineNumber, l.Key, l.ErrorCode, l.ErrorStatus, l.IsRetriable, l.IsMalformed)));
        foreach (var success in lines.Where(l => l.IsSuccess))
        {
            var text = GeminiBatchTests.TextOf(int.Parse(success.Key![1..]));
            Assert.Equal(FakeVectors.VectorFor(text, 768), success.Values); // as sent: not normalized by the reader
            Assert.Equal(FakeVectors.TokenCount(text), success.TokenCount);
        }

        Assert.Contains("exceeds the maximum number of tokens", lines[1].ErrorMessage, StringComparison.Ordinal);
        Assert.All(lines.Where(l => l.IsMalformed), l => Assert.False(string.IsNullOrEmpty(l.ErrorMessage)));
        Assert.Equal((10L, 6L, 3L), (done.RequestCount, done.SuccessfulCount, done.FailedCount));
    }

    [Fact]
    public async Task EndToEnd_ShuffledOutputWithAnUnknownKey_IsMatchedByKey()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.ShuffleOutput = true;
        t.Fake.ExtraUnknownKeys = 2;
        var input = await GeminiBatchTests.UploadInputAsync(t.Client, 20);
        var job = await t.Client.CreateBatchAsync("shuffled", input.Name);
        t.Fake.Complete(job.Name);

        await using var stream = await t.Client.DownloadFileAsync((await t.Client.GetBatchAsync(job.Name)).ResponsesFileName!);
        var lines = await ReadAllAsync(stream);

        var expected = Enumerable.Range(0, 20).Select(i => $"k{i}").Concat(["unknown-0", "unknown-1"]).Order();
        Assert.Equal(expected, lines.Select(l => l.Key!).Order());
        Assert.NotEqual(expected, lines.Select(l => l.Key!)); // really shuffled
        Assert.All(lines, l => Assert.True(l.IsSuccess));
    }

    private const string Crafted =
        "\uFEFF{\"key\":\"a\",\"response\":{\"embedding\":{\"values\":[0.5,-1.25,3e-2]},\"tokenCount\":\"12\"}}\r\n" +
        "\r\n" +
        "{\"key\":17,\"response\":{\"embedding\":{\"values\":[1]},\"tokenCount\":7}}\n" +
        "{\"key\":\"b\",\"error\":{\"code\":14,\"message\":\"down\"}}\n" +
        "{\"key\":\"c\",\"error\":{\"status\":\"DEADLINE_EXCEEDED\",\"message\":\"slow\"}}\n" +
        "{\"key\":\"d\",\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\",\"message\":\"quota\",\"details\":[{\"@type\":\"x\"}]}}\n" +
        "{\"key\":\"e\",\"error\":{\"code\":13,\"status\":\"INTERNAL\",\"message\":\"boom\"}}\n" +
        "{\"key\":\"f\",\"error\":{\"code\":\"3\",\"message\":\"bad\"}}\n" +
        "{\"key\":\"g\"}\n" +
        "{\"response\":{\"embedding\":{\"values\":[1]}}}\n" +
        "{\"key\":\"h\",\"response\":{\"embedding\":{\"values\":[1,\"x\"]}}}\n" +
        "{\"key\":\"i\",\"response\":{\"embedding\":{\"values\":[1]}}} trailing\n" +
        "[1,2]\n" +
        "{\"key\":\"j\",\"response\":{\"embeddings\":[{\"values\":[2,4]}]},\"extra\":{\"nested\":[1,{\"a\":null}]}}\n" +
        "{\"key\":\"k\",\"response\":{\"embedding\":{\"val";

    [Fact]
    public async Task Reader_ToleratesEveryVariant_AndNeverThrows()
    {
        var lines = await ReadAllAsync(Crafted);

        Assert.Equal(
            [
                (1L, "a", (int?)null, (string?)null, false, false),
                (3L, "17", null, null, false, false),
                (4L, "b", 503, "UNAVAILABLE", true, false),
                (5L, "c", 504, "DEADLINE_EXCEEDED", true, false),
                (6L, "d", 429, "RESOURCE_EXHAUSTED", true, false),
                (7L, "e", 500, "INTERNAL", true, false),
                (8L, "f", 400, "INVALID_ARGUMENT", false, false),
                (9L, null, null, null, false, true),   // neither response nor error
                (10L, null, null, null, false, true),  // no key
                (11L, null, null, null, false, true),  // a value that is not a number
                (12L, null, null, null, false, true),  // trailing garbage
                (13L, null, null, null, false, true),  // not an object
                (14L, "j", null, null, false, false),
                (15L, null, null, null, false, true),  // truncated last line
            ],
            lines.Select(l => (l.LineNumber, l.Key, l.ErrorCode, l.ErrorStatus, l.IsRetriable, l.IsMalformed)));
        Assert.Equal([0.5f, -1.25f, 0.03f], lines[0].Values!);
        Assert.Equal(12, lines[0].TokenCount);
        Assert.Equal(7, lines[1].TokenCount);
        Assert.Equal("down", lines[2].ErrorMessage);
        Assert.Equal([2f, 4f], lines[12].Values!);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Reader_GivesTheSameRecords_WhateverTheReadSizes(int maxRead)
    {
        var whole = await ReadAllAsync(Crafted);
        var trickled = await ReadAllAsync(Crafted, maxRead);

        Assert.Equal(whole.Count, trickled.Count);
        for (var i = 0; i < whole.Count; i++)
        {
            Assert.Equal(whole[i] with { Values = null }, trickled[i] with { Values = null });
            Assert.Equal(whole[i].Values, trickled[i].Values);
        }
    }

    [Fact]
    public async Task Reader_HandlesFullSizeAndMultiMegabyteLines()
    {
        var random = new Random(5);
        var full = Enumerable.Range(0, 3072).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var huge = Enumerable.Range(0, 400_000).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var file = new MemoryStream();
        WriteLine(file, "full", full);
        WriteLine(file, "huge", huge);
        WriteLine(file, "after", [1f]);
        Assert.True(file.Length > 4_000_000);
        file.Position = 0;

        var lines = await ReadAllAsync(file);

        Assert.Equal(["full", "huge", "after"], lines.Select(l => l.Key));
        Assert.Equal(full, lines[0].Values);
        Assert.Equal(huge, lines[1].Values);
    }

    private static void WriteLine(Stream stream, string key, float[] values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("key", key);
            json.WriteStartObject("response");
            json.WriteStartObject("embedding");
            json.WriteStartArray("values");
            foreach (var v in values) json.WriteNumberValue(v);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        stream.Write(buffer.WrittenSpan);
        stream.WriteByte((byte)'\n');
    }

    [Fact]
    public void Writer_WritesOneDocumentedLinePerChunk()
    {
        var stream = new MemoryStream();
        var writer = new BatchInputWriter(stream);

        writer.Write("17", "Grüße \"quoted\"\nnext line");
        writer.Write("18", "second");
        writer.Flush();

        var text = Encoding.UTF8.GetString(stream.ToArray());
        Assert.Equal(
            "{\"key\":\"17\",\"request\":{\"content\":{\"parts\":[{\"text\":\"Grüße \\\"quoted\\\"\\nnext line\"}]},\"taskType\":\"RETRIEVAL_DOCUMENT\",\"outputDimensionality\":768}}\n" +
            "{\"key\":\"18\",\"request\":{\"content\":{\"parts\":[{\"text\":\"second\"}]},\"taskType\":\"RETRIEVAL_DOCUMENT\",\"outputDimensionality\":768}}\n",
            text);
        Assert.Equal(2, writer.LineCount);
        Assert.Equal(stream.Length, writer.BytesWritten);
    }

    [Fact]
    public void Writer_TakesTheDimensionsAndTaskType()
    {
        var stream = new MemoryStream();
        var writer = new BatchInputWriter(stream, outputDimensionality: 1536, taskType: "SEMANTIC_SIMILARITY");

        writer.Write("k", "t");
        writer.Flush();

        var line = JsonDocument.Parse(stream.ToArray()).RootElement.GetProperty("request");
        Assert.Equal(1536, line.GetProperty("outputDimensionality").GetInt32());
        Assert.Equal("SEMANTIC_SIMILARITY", line.GetProperty("taskType").GetString());
    }
}
