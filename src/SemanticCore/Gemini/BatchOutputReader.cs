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
        ArgumentNullException.ThrowIfNull(stream);
        var parser = new LineParser();
        var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
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
                    BatchOutputLine? line = null;
                    if (skippingLongLine)
                    {
                        skippingLongLine = false; // the tail of a line already reported
                    }
                    else
                    {
                        lineNumber++;
                        line = parser.Parse(buffer.AsSpan(start, lineEnd - start), lineNumber);
                    }

                    start = scanned = lineEnd + 1;
                    if (line is not null) yield return line;
                    continue;
                }

                scanned = end;
                if (eof)
                {
                    // A last line without a newline (possibly truncated: the parser will tell).
                    if (end > start && !skippingLongLine && parser.Parse(buffer.AsSpan(start, end - start), lineNumber + 1) is { } last)
                    {
                        yield return last;
                    }

                    yield break;
                }

                if (end - start >= MaxLineBytes)
                {
                    if (!skippingLongLine)
                    {
                        lineNumber++;
                        yield return LineParser.Malformed(lineNumber, $"The line is longer than {MaxLineBytes} bytes.");
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

    /// <summary>Parses one line; keeps a reusable float buffer so only the result vector is allocated.</summary>
    private sealed class LineParser
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
                    LineNumber = lineNumber, Key = key, ErrorCode = code, ErrorStatus = errorStatus,
                    ErrorMessage = errorMessage ?? "The request failed without a message.", TokenCount = tokenCount,
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
