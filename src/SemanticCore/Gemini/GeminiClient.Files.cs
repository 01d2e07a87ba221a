using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace SemanticCore.Gemini;

public sealed partial class GeminiClient
{
    /// <summary>
    /// Resumable upload (Files API): a start call returns a session URL (header X-Goog-Upload-URL),
    /// then the stream is sent in chunks of <see cref="GeminiOptions.UploadChunkBytes"/> with
    /// <c>upload</c>, the last one with <c>upload, finalize</c>. Only one chunk is in memory (it has to
    /// be: a chunk is re-sent as is when an attempt fails). <paramref name="progress"/> gets the bytes sent.
    /// </summary>
    /// <param name="length">Exact number of bytes to read from <paramref name="content"/>.</param>
    public async Task<GeminiFile> UploadFileAsync(Stream content, long length, string displayName, string mimeType = "application/jsonl",
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        ArgumentException.ThrowIfNullOrWhiteSpace(mimeType);

        var sessionUrl = await StartUploadAsync(length, displayName, mimeType, cancellationToken).ConfigureAwait(false);
        var chunk = new byte[(int)Math.Min(Options.UploadChunkBytes, Math.Max(length, 1))];
        long offset = 0;
        while (true)
        {
            var size = (int)Math.Min(chunk.Length, length - offset);
            try
            {
                await content.ReadExactlyAsync(chunk.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
            }
            catch (EndOfStreamException e)
            {
                throw new ArgumentException($"The stream ended before the declared length of {length} bytes (at about byte {offset}).", nameof(content), e);
            }

            var last = offset + size == length;
            var chunkOffset = offset;
            var operation = $"POST upload/v1beta/files ({(last ? "upload, finalize" : "upload")} at {chunkOffset})";
            GeminiFile? file;
            try
            {
                file = await SendAsync(operation, _retry, () =>
                    {
                        var request = new HttpRequestMessage(HttpMethod.Post, sessionUrl) { Content = new ReadOnlyMemoryContent(chunk.AsMemory(0, size)) };
                        request.Headers.Add("X-Goog-Upload-Command", last ? "upload, finalize" : "upload");
                        request.Headers.Add("X-Goog-Upload-Offset", chunkOffset.ToString(CultureInfo.InvariantCulture));
                        return request;
                    },
                    (response, token) => last ? ParseJsonAsync<GeminiFile?>(response, GeminiFile.Parse, token) : Task.FromResult<GeminiFile?>(null),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (GeminiApiException refused) when (!cancellationToken.IsCancellationRequested)
            {
                // A reply lost after the service took the chunk makes the resent chunk's offset wrong. The resumable
                // protocol says how to go on: ask the session how much it holds; if it has this chunk, carry on.
                long received;
                GeminiFile? finalized;
                try
                {
                    (received, finalized) = await QueryUploadAsync(sessionUrl, cancellationToken).ConfigureAwait(false);
                }
                catch (GeminiApiException query) when (!cancellationToken.IsCancellationRequested)
                {
                    // The API's own 404: the service ended the session without a file, so its answer to the chunk stands.
                    // Any other failure leaves the file unknown: the query's failure leads, and the service's answer goes with it.
                    throw query is { StatusCode: 404, FromApi: true }
                        ? refused.WithNote($"the upload session is gone: {query.ApiMessage}")
                        : query.WithNote($"the service's answer to the upload was {refused.StatusCode} {refused.Status}: {refused.ApiMessage}");
                }

                if (received != chunkOffset + size || (last && finalized is null)) throw;
                file = finalized;
            }

            offset += size;
            progress?.Report(offset);
            if (last) return file ?? throw InvalidResponse(operation, "The finalized upload returned no file.");
        }
    }

    /// <summary>The resumable session's state (<c>query</c>): the bytes it holds, and the file once finalized.</summary>
    private async Task<(long Received, GeminiFile? File)> QueryUploadAsync(Uri sessionUrl, CancellationToken cancellationToken)
    {
        const string operation = "POST upload/v1beta/files (query)";
        return await SendAsync(operation, _retry, () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, sessionUrl);
                request.Headers.Add("X-Goog-Upload-Command", "query");
                return request;
            },
            async (response, token) =>
            {
                if (!response.Headers.TryGetValues("X-Goog-Upload-Size-Received", out var values) ||
                    !long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var received))
                {
                    throw InvalidResponse(operation, "The upload query response has no X-Goog-Upload-Size-Received header.");
                }

                var final = response.Headers.TryGetValues("X-Goog-Upload-Status", out var status) && status.FirstOrDefault() == "final";
                return (received, final ? await ParseJsonAsync<GeminiFile?>(response, GeminiFile.Parse, token).ConfigureAwait(false) : null);
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<Uri> StartUploadAsync(long length, string displayName, string mimeType, CancellationToken cancellationToken)
    {
        const string operation = "POST upload/v1beta/files (start)";
        var body = JsonBody(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("file");
            json.WriteString("displayName", displayName);
            json.WriteEndObject();
            json.WriteEndObject();
        });
        var url = Url("/upload/v1beta/files");
        return await SendAsync(operation, _retry, () =>
            {
                var request = JsonRequest(HttpMethod.Post, url, body);
                request.Headers.Add("X-Goog-Upload-Protocol", "resumable");
                request.Headers.Add("X-Goog-Upload-Command", "start");
                request.Headers.Add("X-Goog-Upload-Header-Content-Length", length.ToString(CultureInfo.InvariantCulture));
                request.Headers.Add("X-Goog-Upload-Header-Content-Type", mimeType);
                return request;
            },
            (response, _) => Task.FromResult(SessionUrl(operation, response)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The X-Goog-Upload-URL header (HttpHeaders lookups are case-insensitive). It must point at our own
    /// endpoint's origin: the chunks carry the key header, which must not go anywhere else.
    /// </summary>
    private Uri SessionUrl(string operation, HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("X-Goog-Upload-URL", out var values) || values.FirstOrDefault() is not { Length: > 0 } text)
            throw InvalidResponse(operation, "The upload start response has no X-Goog-Upload-URL header.");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url))
            throw InvalidResponse(operation, "The upload session URL is not an absolute URI.");
        var origin = new Uri(_baseUrl);
        if (Uri.Compare(url, origin, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
            throw InvalidResponse(operation, $"The upload session URL points at {url.GetLeftPart(UriPartial.Authority)}, not at {origin.GetLeftPart(UriPartial.Authority)}.");
        return url;
    }

    public async Task<GeminiFile> GetFileAsync(string name, CancellationToken cancellationToken = default)
    {
        name = ResourceName(name, "files");
        var url = Url($"/v1beta/{name}");
        return await SendAsync($"GET {name}", _retry, () => new HttpRequestMessage(HttpMethod.Get, url),
            (response, token) => ParseJsonAsync(response, GeminiFile.Parse, token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Files of the project, page by page (list key <c>files</c>).</summary>
    public IAsyncEnumerable<GeminiFile> ListFilesAsync(int pageSize = 100, CancellationToken cancellationToken = default) =>
        ListAsync("files", "files", pageSize, GeminiFile.Parse, cancellationToken);

    /// <summary>
    /// Deletes a file; one that is already gone counts as deleted. The Files API answers a missing file
    /// with 403 "You do not have permission to access the File x or it may not exist" rather than 404;
    /// that answer is taken as gone too (this key cannot reach it either way, and the service drops
    /// files after 48 h), while other 403s (API disabled...) still fail.
    /// </summary>
    public async Task DeleteFileAsync(string name, CancellationToken cancellationToken = default)
    {
        name = ResourceName(name, "files");
        var url = Url($"/v1beta/{name}");
        try
        {
            await SendAsync($"DELETE {name}", _retry, () => new HttpRequestMessage(HttpMethod.Delete, url), IgnoreBody, cancellationToken).ConfigureAwait(false);
        }
        catch (GeminiApiException e) when (IsGoneFile(e))
        {
        }
    }

    private static bool IsGoneFile(GeminiApiException e) =>
        e.StatusCode == 404 || (e.StatusCode == 403 && e.ApiMessage.Contains("may not exist", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The content of a (generated) file as a response stream: nothing is buffered, the caller reads
    /// and disposes it. Retries and the timeout cover the call up to the response headers.
    /// </summary>
    public async Task<Stream> DownloadFileAsync(string name, CancellationToken cancellationToken = default)
    {
        name = ResourceName(name, "files");
        var url = Url($"/download/v1beta/{name}:download?alt=media");
        var operation = $"GET download/v1beta/{name}:download";
        var body = await SendAsync(operation, _retry, () => new HttpRequestMessage(HttpMethod.Get, url),
            // No token here: the body outlives the attempt (and its timeout); the caller's reads carry theirs.
            (response, _) => response.Content.ReadAsStreamAsync(CancellationToken.None),
            cancellationToken, keepResponse: true).ConfigureAwait(false);
        // Each read of the body, too, must bring data within the request timeout.
        return new ReadTimeoutStream(body, Options.RequestTimeout, operation);
    }

    /// <summary>GET {collection}?pageSize=&amp;pageToken= until there is no nextPageToken.</summary>
    private async IAsyncEnumerable<T> ListAsync<T>(string collection, string listKey, int pageSize, Func<JsonElement, T> parse,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        string? pageToken = null;
        do
        {
            var query = $"?pageSize={pageSize.ToString(CultureInfo.InvariantCulture)}" + (pageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(pageToken));
            var url = Url($"/v1beta/{collection}{query}");
            var (items, next) = await SendAsync($"GET {collection}", _retry, () => new HttpRequestMessage(HttpMethod.Get, url),
                (response, token) => ParseJsonAsync(response, root =>
                {
                    var page = new List<T>();
                    if (root.TryGetProperty(listKey, out var list) && list.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var item in list.EnumerateArray()) page.Add(parse(item));
                    }

                    return (page, Json.GetString(root, "nextPageToken"));
                }, token),
                cancellationToken).ConfigureAwait(false);

            foreach (var item in items) yield return item;
            pageToken = string.IsNullOrEmpty(next) ? null : next;
        }
        while (pageToken is not null);
    }
}
