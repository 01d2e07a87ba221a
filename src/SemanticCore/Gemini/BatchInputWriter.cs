using System.Text.Encodings.Web;
using System.Text.Json;

namespace SemanticCore.Gemini;

/// <summary>
/// Writes the JSONL input of a batch job, one line per chunk, straight to a stream:
/// <c>{"key":"..","request":{"content":{"parts":[{"text":".."}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768}}</c>.
/// Only the current line is held in memory, so a 100,000-chunk file never is.
/// The caller owns (and disposes) the stream; call <see cref="Flush"/> before uploading it.
/// </summary>
public sealed class BatchInputWriter
{
    // Relaxed escaping keeps non-ASCII text as UTF-8 instead of \uXXXX: a third of the size for
    // many languages, and the file is JSON for an API, never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Stream _output;
    private readonly string _taskType;
    private readonly int _dimensions;
    private readonly Utf8JsonWriter _json;

    public BatchInputWriter(Stream output, int outputDimensionality = 768, string taskType = "RETRIEVAL_DOCUMENT")
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentException.ThrowIfNullOrEmpty(taskType);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDimensionality, 1);
        _output = output;
        _taskType = taskType;
        _dimensions = outputDimensionality;
        _json = new Utf8JsonWriter(output, WriterOptions);
    }

    /// <summary>Lines written so far.</summary>
    public long LineCount { get; private set; }

    /// <summary>Bytes written so far (what the upload's Content-Length will be once flushed).</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Writes one request line; the key comes back on the matching output line.</summary>
    public void Write(string key, string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(text);

        // One writer per line (Reset) because JSONL is many root values, which Utf8JsonWriter
        // would otherwise refuse; Flush pushes the line to the stream, so nothing accumulates.
        _json.Reset();
        _json.WriteStartObject();
        _json.WriteString("key"u8, key);
        _json.WriteStartObject("request"u8);
        _json.WriteStartObject("content"u8);
        _json.WriteStartArray("parts"u8);
        _json.WriteStartObject();
        _json.WriteString("text"u8, text);
        _json.WriteEndObject();
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.WriteString("taskType"u8, _taskType);
        _json.WriteNumber("outputDimensionality"u8, _dimensions);
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.Flush();

        _output.WriteByte((byte)'\n');
        BytesWritten += _json.BytesCommitted + 1;
        LineCount++;
    }

    public void Flush() => _output.Flush();
}
