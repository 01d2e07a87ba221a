using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace SemanticCore.Bench.BatchJobs;

/// <summary>What <see cref="BatchOutputGenerator"/> wrote, and what a correct sync must make of it.</summary>
internal sealed record GeneratedOutput(
    string ShuffledPath, string OrderedPath, long Lines, long Succeeded, long InvalidArgument, long Exhausted, long Tokens, long Bytes, TimeSpan Elapsed);

/// <summary>
/// Writes the output JSONL of a finished batch embedding job for an uploaded input, as the service writes it
/// (gemini-api.md, "Batch embeddings"): one line per input key, proto-JSON field order
/// <c>{"key":"17","response":{"embedding":{"values":[...]},"tokenCount":"12"}}</c>, float32 values printed
/// shortest-round-trip (<c>-0.012345678</c>), per-line errors split evenly between a non-retriable 400 and a
/// retriable 429. The same lines go to two files: in input (key) order, and shuffled (the service guarantees no
/// order). Deterministic for a seed.
/// </summary>
internal static class BatchOutputGenerator
{
    public const string InvalidArgumentMessage = "Request payload size exceeds the limit";
    public const string ExhaustedMessage = "Resource has been exhausted";

    public static GeneratedOutput Write(string inputPath, string orderedPath, string shuffledPath, int dimensions, double errorRate, int seed)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcomes = new Random(seed);
        var vectors = new Random(unchecked(seed * 31 + 11));
        var lines = new List<(long Offset, int Length)>();
        long succeeded = 0, invalid = 0, exhausted = 0, tokens = 0, offset = 0;
        var vector = new float[dimensions];
        // Longest float32 text is 15 bytes ("-1.23456789E-05"), plus a comma.
        var buffer = new byte[dimensions * 16 + 1024];

        using (var ordered = new FileStream(orderedPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach (var (key, text) in ReadInput(inputPath))
            {
                var draw = outcomes.NextDouble();
                int length;
                if (draw < errorRate / 2)
                {
                    length = ErrorLine(buffer, key, 400, InvalidArgumentMessage, "INVALID_ARGUMENT");
                    invalid++;
                }
                else if (draw < errorRate)
                {
                    length = ErrorLine(buffer, key, 429, ExhaustedMessage, "RESOURCE_EXHAUSTED");
                    exhausted++;
                }
                else
                {
                    RandomUnitVector(vectors, vector);
                    var tokenCount = TokenCount(text);
                    length = SuccessLine(buffer, key, vector, tokenCount);
                    succeeded++;
                    tokens += tokenCount;
                }

                buffer[length++] = (byte)'\n';
                ordered.Write(buffer, 0, length);
                lines.Add((offset, length));
                offset += length;
            }
        }

        // The same lines in a seeded random order, read back from the ordered file.
        var order = Enumerable.Range(0, lines.Count).ToArray();
        new Random(unchecked(seed * 31 + 13)).Shuffle(order);
        using (var source = File.OpenHandle(orderedPath))
        using (var shuffled = new FileStream(shuffledPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            foreach (var i in order) CopyLine(source, lines[i], shuffled, ref buffer);
        }

        return new GeneratedOutput(shuffledPath, orderedPath, lines.Count, succeeded, invalid, exhausted, tokens, offset,
            System.Diagnostics.Stopwatch.GetElapsedTime(start));
    }

    /// <summary>The key and text of every input line, in file order.</summary>
    private static IEnumerable<(string Key, string Text)> ReadInput(string inputPath)
    {
        foreach (var line in File.ReadLines(inputPath))
        {
            if (line.Length == 0) continue;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var text = root.GetProperty("request").GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString() ?? "";
            yield return (root.GetProperty("key").GetString()!, text);
        }
    }

    private static int SuccessLine(byte[] buffer, string key, float[] vector, long tokenCount)
    {
        var at = Append(buffer, 0, "{\"key\":\"");
        at = Append(buffer, at, key);
        at = Append(buffer, at, "\",\"response\":{\"embedding\":{\"values\":[");
        for (var i = 0; i < vector.Length; i++)
        {
            if (i > 0) buffer[at++] = (byte)',';
            // "R": the shortest text that reads back as the same float32, as the service prints them.
            if (!vector[i].TryFormat(buffer.AsSpan(at), out var written, "R", CultureInfo.InvariantCulture))
                throw new InvalidOperationException("The line buffer is too small.");
            at += written;
        }

        at = Append(buffer, at, "]},\"tokenCount\":\"");
        at = Append(buffer, at, tokenCount.ToString(CultureInfo.InvariantCulture));
        return Append(buffer, at, "\"}}");
    }

    private static int ErrorLine(byte[] buffer, string key, int code, string message, string status) =>
        Append(buffer, 0, $"{{\"key\":\"{key}\",\"error\":{{\"code\":{code.ToString(CultureInfo.InvariantCulture)},\"message\":\"{message}\",\"status\":\"{status}\"}}}}");

    private static int Append(byte[] buffer, int at, string text) => at + Encoding.UTF8.GetBytes(text, buffer.AsSpan(at));

    private static void CopyLine(SafeFileHandle source, (long Offset, int Length) line, Stream target, ref byte[] buffer)
    {
        if (buffer.Length < line.Length) buffer = new byte[line.Length];
        var read = 0;
        while (read < line.Length)
        {
            var n = RandomAccess.Read(source, buffer.AsSpan(read, line.Length - read), line.Offset + read);
            if (n == 0) throw new EndOfStreamException("The ordered output file is shorter than written.");
            read += n;
        }

        target.Write(buffer, 0, line.Length);
    }

    /// <summary>Gaussian values (Box–Muller) scaled to unit length in double precision, then rounded to float32.</summary>
    private static void RandomUnitVector(Random random, float[] vector)
    {
        Span<double> values = vector.Length <= 4096 ? stackalloc double[vector.Length] : new double[vector.Length];
        for (var i = 0; i < values.Length; i += 2)
        {
            var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble()));
            var (sin, cos) = Math.SinCos(2.0 * Math.PI * random.NextDouble());
            values[i] = radius * cos;
            if (i + 1 < values.Length) values[i + 1] = radius * sin;
        }

        double norm = 0;
        foreach (var x in values) norm += x * x;
        var scale = 1.0 / Math.Sqrt(norm);
        for (var i = 0; i < vector.Length; i++) vector[i] = (float)(values[i] * scale);
    }

    /// <summary>A plausible billed count: about 1.3 tokens a word.</summary>
    private static long TokenCount(string text)
    {
        long words = 0;
        var inWord = false;
        foreach (var c in text)
        {
            var letter = !char.IsWhiteSpace(c);
            if (letter && !inWord) words++;
            inWord = letter;
        }

        return Math.Max(1, (long)Math.Ceiling(words * 1.3));
    }
}
