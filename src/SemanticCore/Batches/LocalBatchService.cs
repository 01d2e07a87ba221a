using System.Text.Json;
using SemanticCore.Chunking;
using SemanticCore.Embedding;
using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>
/// The batch backend of vectors made on this machine (Local, Onnx): the same files and job lifecycle as the
/// Batch API, kept in the index's spool (a folder beside an SQLite index, <c>index.db.batches/</c>; the
/// database of a server index). A job is computed when it is created and reported as succeeded on the next
/// sync, so the whole async flow works offline, with no key.
/// </summary>
internal sealed class LocalBatchService(IBatchFileSpool spool, IEmbeddingProvider embedder) : IBatchService
{
    private const string FilePrefix = "local-files/";
    private const string BatchPrefix = "local-batches/";
    /// <summary>Requests embedded together: enough for a model to batch its inference, few enough to keep memory flat.</summary>
    internal const int RequestsPerGroup = 256;

    public async Task<string> UploadAsync(string localPath, string displayName, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var name = FilePrefix + displayName + ".input.jsonl";
        await using (var source = File.OpenRead(localPath))
        await using (var target = spool.OpenWrite(name))
        {
            await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            progress?.Report(source.Length);
        }

        return name;
    }

    public async Task<BatchOperation> CreateAsync(string displayName, string inputFileName, CancellationToken cancellationToken)
    {
        long requests = 0;
        await using (var input = spool.OpenRead(inputFileName))
        using (var reader = new StreamReader(input))
        await using (var target = spool.OpenWrite(OutputName(displayName)))
        using (var json = new Utf8JsonWriter(target))
        {
            // A group of lines at a time: a 100,000-chunk job never sits in memory.
            var group = new List<(string Key, string Text)>(RequestsPerGroup);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                group.Add(ParseRequest(line));
                if (group.Count == RequestsPerGroup) requests += await WriteGroupAsync(group, json, target, cancellationToken).ConfigureAwait(false);
            }

            requests += await WriteGroupAsync(group, json, target, cancellationToken).ConfigureAwait(false);
        }

        return Operation(displayName, inputFileName, BatchState.Pending, requests);
    }

    public Task<BatchOperation?> FindAsync(string displayName, CancellationToken cancellationToken) =>
        Task.FromResult(spool.Exists(OutputName(displayName))
            ? Operation(displayName, FilePrefix + displayName + ".input.jsonl", BatchState.Pending, 0)
            : null);

    public Task<BatchOperation> GetAsync(string remoteName, CancellationToken cancellationToken)
    {
        var displayName = remoteName.StartsWith(BatchPrefix, StringComparison.Ordinal) ? remoteName[BatchPrefix.Length..] : remoteName;
        if (!spool.Exists(OutputName(displayName)))
        {
            throw new SemanticCoreException("LocalBatchResultsMissing", FailureKind.ObjectNotFound,
                $"The local batch job '{remoteName}' has no results in '{spool}' (were they removed?).");
        }

        return Task.FromResult(Operation(displayName, FilePrefix + displayName + ".input.jsonl", BatchState.Succeeded, 0) with
        {
            ResponsesFileName = OutputName(displayName),
        });
    }

    /// <summary>A local job is computed when it is created: cancelling it discards its results, as a remote cancel would.</summary>
    public Task CancelAsync(string remoteName, CancellationToken cancellationToken)
    {
        var displayName = remoteName.StartsWith(BatchPrefix, StringComparison.Ordinal) ? remoteName[BatchPrefix.Length..] : remoteName;
        spool.Delete(OutputName(displayName));
        return Task.CompletedTask;
    }

    public Task<Stream> OpenResultsAsync(string responsesFileName, CancellationToken cancellationToken) =>
        Task.FromResult(spool.OpenRead(responsesFileName));

    public Task DeleteFileAsync(string fileName, CancellationToken cancellationToken)
    {
        spool.Delete(fileName);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> DeleteUploadsAsync(string displayName, CancellationToken cancellationToken)
    {
        var name = FilePrefix + displayName + ".input.jsonl";
        if (!spool.Exists(name)) return Task.FromResult<IReadOnlyList<string>>([]);
        spool.Delete(name);
        return Task.FromResult<IReadOnlyList<string>>([name]);
    }

    public bool CreateCertainlyFailed(Exception exception) => true; // nothing remote: a failed create made nothing

    public bool UploadCertainlyFailed(Exception exception) => true;

    /// <summary>The spool has no queue limit.</summary>
    public bool IsQueueFull(Exception exception) => false;

    public bool IsGone(Exception exception) =>
        exception is FileNotFoundException or DirectoryNotFoundException or SemanticCoreException { ErrorId: "LocalBatchResultsMissing" };

    private static (string Key, string Text) ParseRequest(string line)
    {
        using var request = JsonDocument.Parse(line);
        var key = request.RootElement.GetProperty("key").GetString()!;
        var text = request.RootElement.GetProperty("request").GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString() ?? "";
        return (key, text);
    }

    /// <summary>Embeds the group's texts, writes their results and empties it; returns how many it wrote.</summary>
    private async Task<int> WriteGroupAsync(List<(string Key, string Text)> group, Utf8JsonWriter json, Stream target, CancellationToken cancellationToken)
    {
        if (group.Count == 0) return 0;
        var vectors = new float[group.Count][];
        await embedder.EmbedDocumentsAsync(group.ConvertAll(r => r.Text), (first, embedded) =>
        {
            for (var i = 0; i < embedded.Count; i++) vectors[first + i] = embedded[i];
        }, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < group.Count; i++)
        {
            WriteResult(json, group[i].Key, vectors[i], TokenEstimator.Estimate(group[i].Text));
            target.WriteByte((byte)'\n');
        }

        var written = group.Count;
        group.Clear();
        return written;
    }

    private static string OutputName(string displayName) => FilePrefix + displayName + ".output.jsonl";

    private static BatchOperation Operation(string displayName, string inputFileName, BatchState state, long requests) => new()
    {
        Name = BatchPrefix + displayName,
        DisplayName = displayName,
        State = state,
        InputFileName = inputFileName,
        RequestCount = requests,
        CreateTime = DateTimeOffset.UtcNow,
    };

    private static void WriteResult(Utf8JsonWriter json, string key, float[] vector, int tokens)
    {
        json.Reset();
        json.WriteStartObject();
        json.WriteString("key", key);
        json.WriteStartObject("response");
        json.WriteStartObject("embedding");
        json.WriteStartArray("values");
        foreach (var value in vector) json.WriteNumberValue(value);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteString("tokenCount", tokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
    }
}
