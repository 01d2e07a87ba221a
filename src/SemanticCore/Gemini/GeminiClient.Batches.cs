namespace SemanticCore.Gemini;

public sealed partial class GeminiClient
{
    /// <summary>
    /// Creates a batch embedding job over an uploaded JSONL file (see <see cref="BatchInputWriter"/>).
    /// Use the local job id as <paramref name="displayName"/>.
    /// </summary>
    /// <remarks>
    /// Create is not idempotent: if a request reached the server and only the answer was lost (5xx,
    /// timeout, broken connection), a repeat would make a second job and bill every chunk twice. So it
    /// is retried only on a rate-limit 429 and on connections that could not be opened (a full batch queue,
    /// <see cref="GeminiApiException.IsBatchQueueFull"/>, is thrown at once); any
    /// other failure is thrown, and the caller recovers by looking for the job by displayName
    /// (<see cref="FindBatchesAsync"/>) before ever creating it again.
    /// </remarks>
    public async Task<BatchOperation> CreateBatchAsync(string displayName, string inputFileName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        inputFileName = ResourceName(inputFileName, "files");
        var body = JsonBody(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("batch");
            json.WriteString("displayName", displayName);
            json.WriteStartObject("inputConfig");
            json.WriteString("fileName", inputFileName);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        });
        var url = Url($"/v1beta/{ModelPath}:asyncBatchEmbedContent");
        return await SendAsync($"POST {ModelPath}:asyncBatchEmbedContent", _retryCreate, () => JsonRequest(HttpMethod.Post, url, body),
            (response, token) => ParseJsonAsync(response, BatchOperation.Parse, token), cancellationToken).ConfigureAwait(false);
    }

    public async Task<BatchOperation> GetBatchAsync(string name, CancellationToken cancellationToken = default)
    {
        name = ResourceName(name, "batches");
        var url = Url($"/v1beta/{name}");
        return await SendAsync($"GET {name}", _retry, () => new HttpRequestMessage(HttpMethod.Get, url),
            (response, token) => ParseJsonAsync(response, BatchOperation.Parse, token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>All batch jobs of the project, following nextPageToken (list key <c>operations</c>).</summary>
    public IAsyncEnumerable<BatchOperation> ListBatchesAsync(int pageSize = 100, CancellationToken cancellationToken = default) =>
        ListAsync("batches", "operations", pageSize, BatchOperation.Parse, cancellationToken);

    /// <summary>The jobs with this displayName: how a create whose answer was lost is found again.</summary>
    public async Task<IReadOnlyList<BatchOperation>> FindBatchesAsync(string displayName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        var found = new List<BatchOperation>();
        await foreach (var batch in ListBatchesAsync(100, cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(batch.DisplayName, displayName, StringComparison.Ordinal)) found.Add(batch);
        }

        return found;
    }

    /// <summary>Asks the service to cancel a job (it ends as Cancelled, with no output).</summary>
    public async Task CancelBatchAsync(string name, CancellationToken cancellationToken = default)
    {
        name = ResourceName(name, "batches");
        var url = Url($"/v1beta/{name}:cancel");
        await SendAsync($"POST {name}:cancel", _retry, () => JsonRequest(HttpMethod.Post, url, "{}"u8.ToArray()), IgnoreBody, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Deletes a job record; one that is already gone (404) counts as deleted.</summary>
    public async Task DeleteBatchAsync(string name, CancellationToken cancellationToken = default)
    {
        name = ResourceName(name, "batches");
        var url = Url($"/v1beta/{name}");
        try
        {
            await SendAsync($"DELETE {name}", _retry, () => new HttpRequestMessage(HttpMethod.Delete, url), IgnoreBody, cancellationToken).ConfigureAwait(false);
        }
        catch (GeminiApiException e) when (e.StatusCode == 404)
        {
        }
    }
}
