using System.Diagnostics;
using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>Batch jobs on the Gemini Batch API.</summary>
/// <param name="uploadType">Where the MIME type the Files API accepted for the input is remembered between flushes.</param>
public sealed class GeminiBatchService(GeminiClient client, UploadMimeTypeSetting uploadType) : IBatchService
{
    /// <summary>
    /// The types a JSONL input is offered as, in order. The Files API has refused <c>application/jsonl</c> at times
    /// ("Unsupported MIME type"), while <c>text/plain</c>, which the file also is, has been accepted.
    /// </summary>
    public static IReadOnlyList<string> InputMimeTypes { get; } = ["application/jsonl", "text/plain"];

    /// <summary>
    /// Uploads the input as the type the index remembers (else the first of <see cref="InputMimeTypes"/>); a type the
    /// service refuses made no file, so the next one is tried, once each, and the one accepted is remembered.
    /// </summary>
    public async Task<string> UploadAsync(string localPath, string displayName, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var remembered = uploadType.Read();
        var types = InputMimeTypes.Where(t => t != remembered).Prepend(remembered ?? InputMimeTypes[0]).Distinct().ToList();
        var refused = new List<string>();
        foreach (var type in types)
        {
            await using var input = new FileStream(localPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            try
            {
                var file = await client.UploadFileAsync(input, input.Length, displayName, type, progress, cancellationToken).ConfigureAwait(false);
                if (type != remembered) uploadType.Remember(type);
                return file.Name;
            }
            catch (GeminiApiException ex) when (IsUnsupportedMimeType(ex))
            {
                refused.Add(type);
                if (refused.Count == types.Count) throw ex.WithNote($"every input type was refused: {string.Join(", ", refused)}");
            }
        }

        throw new UnreachableException(); // the last type returns or throws
    }

    /// <summary>The Files API's 400 for a content type it does not take: "Unsupported MIME type: application/jsonl".</summary>
    private static bool IsUnsupportedMimeType(GeminiApiException ex) =>
        ex is { StatusCode: 400, FromApi: true } && ex.ApiMessage.Contains("Unsupported MIME type", StringComparison.OrdinalIgnoreCase);

    public Task<BatchOperation> CreateAsync(string displayName, string inputFileName, CancellationToken cancellationToken) =>
        client.CreateBatchAsync(displayName, inputFileName, cancellationToken);

    public async Task<BatchOperation?> FindAsync(string displayName, CancellationToken cancellationToken)
    {
        var found = await client.FindBatchesAsync(displayName, cancellationToken).ConfigureAwait(false);
        // Never two jobs for one display name from us; should a human have made one, the oldest is ours.
        return found.OrderBy(b => b.CreateTime ?? DateTimeOffset.MaxValue).FirstOrDefault();
    }

    public Task<BatchOperation> GetAsync(string remoteName, CancellationToken cancellationToken) => client.GetBatchAsync(remoteName, cancellationToken);

    public Task CancelAsync(string remoteName, CancellationToken cancellationToken) => client.CancelBatchAsync(remoteName, cancellationToken);

    public Task<Stream> OpenResultsAsync(string responsesFileName, CancellationToken cancellationToken) =>
        client.DownloadFileAsync(responsesFileName, cancellationToken);

    public Task DeleteFileAsync(string fileName, CancellationToken cancellationToken) => client.DeleteFileAsync(fileName, cancellationToken);

    public async Task<IReadOnlyList<string>> DeleteUploadsAsync(string displayName, CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        await foreach (var file in client.ListFilesAsync(100, cancellationToken).ConfigureAwait(false))
        {
            if (file.DisplayName != displayName) continue;
            await client.DeleteFileAsync(file.Name, cancellationToken).ConfigureAwait(false);
            deleted.Add(file.Name);
        }

        return deleted;
    }

    /// <summary>
    /// Only the API's own 4xx refusal proves the job was not made. A 408 (the request timed out, perhaps after
    /// the service acted on it), a proxy's 4xx page, a 5xx, a timeout or a lost connection prove nothing.
    /// </summary>
    public bool CreateCertainlyFailed(Exception exception) =>
        exception is GeminiApiException { StatusCode: >= 400 and < 500 and not 408, FromApi: true };

    /// <summary>
    /// Only a local failure (the input unreadable) or the API's own refusal (a 4xx other than 408 and 429: a rejected key,
    /// a denied project) proves that no file was made. Anything else may have met the last piece after the service took it.
    /// </summary>
    public bool UploadCertainlyFailed(Exception exception) =>
        exception is not GeminiApiException || exception is GeminiApiException { FromApi: true, StatusCode: >= 400 and < 500 and not 408 and not 429 };

    public bool IsQueueFull(Exception exception) => exception is GeminiApiException { IsBatchQueueFull: true };

    /// <summary>404, or the Files API's 403 for a file that "may not exist" (how it answers for deleted and expired files).</summary>
    public bool IsGone(Exception exception) => exception is GeminiApiException api &&
        (api.StatusCode == 404 || (api.StatusCode == 403 && api.ApiMessage.Contains("may not exist", StringComparison.OrdinalIgnoreCase)));
}
