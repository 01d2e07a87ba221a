using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace SemanticCore.Gemini;

/// <summary>
/// Streams the JSONL output of a batch job line by line. Memory is one line (a pooled buffer that
/// grows to the longest line) plus one vector; floats are parsed from the UTF-8 bytes
/// (<see cref="JsonFloat"/>, else <see cref="Utf8JsonReader.GetSingle"/>), never through strings. A bad line never throws: it comes
/// back as <see cref="BatchOutputLine.IsMalformed"/> and the rest of the file is still read.
/// Output order is not guaranteed by the service: match lines by <see cref="BatchOutputLine.Key"/>.
/// </summary>
public static class BatchOutputReader
{
    /// <summary>Longest line kept in memory; a longer one is reported malformed and skipped.</summary>
    public const int MaxLineBytes = 64 * 1024 * 1024;

    private const int InitialBufferBytes = 64 * 1024;

    public static async IAsyncEnumerable<BatchOutputLine> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var parser = new LineParser();
        await foreach (var block in ReadBlocksAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            foreach (var line in block.Parse(parser)) yield return line;
        }
    }

    /// <summary>
    /// The file's lines, unparsed, in blocks of whole lines in file order: parsing the floats is the costly part,
    /// and blocks let several threads share it (<see cref="LineBlock.Parse"/>).
    /// </summary>
    internal static async IAsyncEnumerable<LineBlock> ReadBlocksAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
        var block = new LineBlock();
        int start = 0, end = 0, scanned = 0;
        long lineNumber = 0;
        var eof = false;
        var skippingLongLine = false;
        try
        {
            while (true)
            {
                var newline = buffer.AsSpan(scanned, end - scanned).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var lineEnd = scanned + newline;
                    if (skippingLongLine)
                    {
                        skippingLongLine = false; // the tail of a line already reported
                    }
                    else
                    {
                        block.Add(buffer.AsSpan(start, lineEnd - start), ++lineNumber);
                    }

                    start = scanned = lineEnd + 1;
                    if (block.Bytes >= LineBlock.TargetBytes)
                    {
                        yield return block;
                        block = new LineBlock();
                    }

                    continue;
                }

                scanned = end;
                if (eof)
                {
                    // A last line without a newline (possibly truncated: the parser will tell).
                    if (end > start && !skippingLongLine) block.Add(buffer.AsSpan(start, end - start), lineNumber + 1);
                    if (block.Count > 0) yield return block;
                    yield break;
                }

                if (end - start >= MaxLineBytes)
                {
                    if (!skippingLongLine)
                    {
                        block.AddMalformed(++lineNumber, $"The line is longer than {MaxLineBytes} bytes.");
                        skippingLongLine = true;
                    }

                    start = end = scanned = 0; // drop what we have and look for the end of the line
                }

                if (start > 0)
                {
                    // Move the partial line to the front so the buffer only ever holds one line.
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    scanned -= start;
                    start = 0;
                }

                if (end == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxLineBytes + InitialBufferBytes));
                    Buffer.BlockCopy(buffer, 0, larger, 0, end);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken).ConfigureAwait(false);
                if (read == 0) eof = true;
                else end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whole lines of the output, copied out of the read buffer, with their line numbers.</summary>
    internal sealed class LineBlock
    {
        /// <summary>About this many bytes a block: large enough to keep a parsing thread busy, small enough to bound memory.</summary>
        public const int TargetBytes = 4 * 1024 * 1024;

        private readonly List<(int Start, int Length, long LineNumber, string? Malformed)> lines = [];
        private byte[] bytes = [];

        public int Bytes { get; private set; }
        public int Count => lines.Count;

        internal void Add(ReadOnlySpan<byte> line, long lineNumber)
        {
            if (Bytes + line.Length > bytes.Length) Array.Resize(ref bytes, Math.Max(Math.Max(TargetBytes + TargetBytes / 4, bytes.Length * 2), Bytes + line.Length));
            line.CopyTo(bytes.AsSpan(Bytes));
            lines.Add((Bytes, line.Length, lineNumber, null));
            Bytes += line.Length;
        }

        internal void AddMalformed(long lineNumber, string why) => lines.Add((0, 0, lineNumber, why));

        /// <summary>The block's lines, parsed (blank lines left out); one parser per thread.</summary>
        public List<BatchOutputLine> Parse(LineParser parser)
        {
            var parsed = new List<BatchOutputLine>(lines.Count);
            foreach (var (start, length, lineNumber, malformed) in lines)
            {
                var line = malformed is not null ? LineParser.Malformed(lineNumber, malformed) : parser.Parse(bytes.AsSpan(start, length), lineNumber);
                if (line is not null) parsed.Add(line);
            }

            return parsed;
        }
    }

    /// <summary>Parses one line; keeps a reusable float buffer so only the result vector is allocated. One per thread.</summary>
    internal sealed class LineParser
    {
        private float[] _floats = new float[3072];

        public static BatchOutputLine Malformed(long lineNumber, string why) =>
            new() { LineNumber = lineNumber, IsMalformed = true, ErrorMessage = why };

        /// <summary>Null for a blank line.</summary>
        public BatchOutputLine? Parse(ReadOnlySpan<byte> line, long lineNumber)
        {
            if (line.StartsWith("\uFEFF"u8)) line = line[3..];
            line = line.Trim(" \t\r"u8);
            if (line.IsEmpty) return null;

            string? key = null, errorStatus = null, errorMessage = null;
            float[]? values = null;
            long? tokenCount = null, errorCodeRaw = null;
            bool hasResponse = false, hasError = false;
            try
            {
                var reader = new Utf8JsonReader(line);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return Malformed(lineNumber, "The line is not a JSON object.");
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("key"u8))
                    {
                        reader.Read();
                        key = ReadKey(ref reader);
                    }
                    else if (reader.ValueTextEquals("response"u8))
                    {
                        reader.Read();
                        hasResponse = reader.TokenType == JsonTokenType.StartObject;
                        if (hasResponse) ReadResponse(ref reader, ref values, ref tokenCount);
                        else reader.Skip();
                    }
                    else if (reader.ValueTextEquals("error"u8))
                    {
                        reader.Read();
                        hasError = reader.TokenType == JsonTokenType.StartObject;
                        if (hasError) ReadError(ref reader, ref errorCodeRaw, ref errorStatus, ref errorMessage);
                        else reader.Skip();
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }

                // Reading past the closing brace throws on trailing garbage and on a truncated line.
                if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return Malformed(lineNumber, "The line has data after its JSON object.");
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
            {
                return Malformed(lineNumber, $"The line is not valid JSON (truncated?): {e.Message}");
            }

            if (string.IsNullOrEmpty(key)) return Malformed(lineNumber, "The line has no key.");
            if (hasError)
            {
                int? code = errorCodeRaw is { } raw ? GrpcStatus.NormalizeCode(raw) : null;
                code ??= GrpcStatus.HttpCodeFromName(errorStatus);
                errorStatus ??= errorCodeRaw is { } g and >= 1 and <= 16 ? GrpcStatus.NameFromGrpcCode(g) : code is { } h ? GrpcStatus.NameFromHttpCode(h) : null;
                return new BatchOutputLine
                {
                    LineNumber = lineNumber,
                    Key = key,
                    ErrorCode = code,
                    ErrorStatus = errorStatus,
                    ErrorMessage = errorMessage ?? "The request failed without a message.",
                    TokenCount = tokenCount,
                };
            }

            if (!hasResponse) return Malformed(lineNumber, "The line has neither a response nor an error.");
            if (values is null) return Malformed(lineNumber, "The response has no embedding values.");
            return new BatchOutputLine { LineNumber = lineNumber, Key = key, Values = values, TokenCount = tokenCount };
        }

        private static string? ReadKey(ref Utf8JsonReader reader) => reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan), // keys are strings, but a number is unambiguous
            _ => SkipAndNull(ref reader),
        };

        private static string? SkipAndNull(ref Utf8JsonReader reader)
        {
            reader.Skip();
            return null;
        }

        // response: {"embedding":{"values":[..]},"tokenCount":"12"}; tolerated: "embeddings":[{"values":[..]}].
        private void ReadResponse(ref Utf8JsonReader reader, ref float[]? values, ref long? tokenCount)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("embedding"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) ReadEmbedding(ref reader, ref values);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("embeddings"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray) { reader.Skip(); continue; }
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType == JsonTokenType.StartObject && values is null) ReadEmbedding(ref reader, ref values);
                        else reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("tokenCount"u8))
                {
                    reader.Read();
                    tokenCount = ReadInt64(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        private void ReadEmbedding(ref Utf8JsonReader reader, ref float[]? values)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("values"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException("\"values\" is not an array.");
                var count = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (count == _floats.Length) Array.Resize(ref _floats, _floats.Length * 2);
                    // GetSingle decides what the fast parser leaves, and throws on a non-number: the line is malformed.
                    _floats[count++] = reader.TokenType == JsonTokenType.Number && JsonFloat.TryParse(reader.ValueSpan, out var value)
                        ? value
                        : reader.GetSingle();
                }

                values = _floats.AsSpan(0, count).ToArray();
            }
        }

        private static void ReadError(ref Utf8JsonReader reader, ref long? code, ref string? status, ref string? message)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("code"u8))
                {
                    reader.Read();
                    code = ReadInt64(ref reader);
                }
                else if (reader.ValueTextEquals("status"u8))
                {
                    reader.Read();
                    status = reader.TokenType == JsonTokenType.String ? reader.GetString() : SkipAndNull(ref reader);
                }
                else if (reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    message = reader.TokenType == JsonTokenType.String ? reader.GetString() : SkipAndNull(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }

        // int64 arrives as a string in proto-JSON, sometimes as a number.
        private static long? ReadInt64(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) return n;
            if (reader.TokenType == JsonTokenType.String && System.Buffers.Text.Utf8Parser.TryParse(reader.ValueSpan, out long s, out var used) && used == reader.ValueSpan.Length && !reader.ValueIsEscaped) return s;
            reader.Skip();
            return null;
        }
    }
}
