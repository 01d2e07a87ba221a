using SemanticCore.Gemini;

namespace SemanticCore.Batches;

/// <summary>
/// Where batch jobs run: the Gemini Batch API, or the Local provider's offline stand-in. Jobs are
/// described the way the Batch API describes them (<see cref="BatchOperation"/>), so the flush and
/// sync logic is one and the same for both.
/// </summary>
public interface IBatchService
{
    /// <summary>Uploads a JSONL input file; returns the remote file name (<c>files/...</c>).</summary>
    Task<string> UploadAsync(string localPath, string displayName, IProgress<long>? progress, CancellationToken cancellationToken);

    /// <summary>Creates the remote job; <paramref name="displayName"/> is the local job id, so a lost answer can be found again.</summary>
    Task<BatchOperation> CreateAsync(string displayName, string inputFileName, CancellationToken cancellationToken);

    /// <summary>The remote job created for a local job id, or null when there is none.</summary>
    Task<BatchOperation?> FindAsync(string displayName, CancellationToken cancellationToken);

    Task<BatchOperation> GetAsync(string remoteName, CancellationToken cancellationToken);

    /// <summary>Asks the service to cancel a job; a job that already ended may refuse (the caller reads its state next).</summary>
    Task CancelAsync(string remoteName, CancellationToken cancellationToken);

    /// <summary>The job's output JSONL as a stream (the caller disposes it).</summary>
    Task<Stream> OpenResultsAsync(string responsesFileName, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the input files uploaded for a local job id (their display name): a flush killed after its upload
    /// and before it recorded the file's name leaves one, which still counts against the project's storage.
    /// Returns the names deleted.
    /// </summary>
    Task<IReadOnlyList<string>> DeleteUploadsAsync(string displayName, CancellationToken cancellationToken);

    /// <summary>Deletes a remote file; one already gone counts as deleted.</summary>
    Task DeleteFileAsync(string fileName, CancellationToken cancellationToken);

    /// <summary>
    /// True when a failed create certainly made no remote job (the service refused it), so its
    /// chunks can be released; false when it may exist (timeout, broken connection, 5xx).
    /// </summary>
    bool CreateCertainlyFailed(Exception exception);

    /// <summary>
    /// True when a failed upload certainly left no file (a local failure, or the service refused it), so its chunks can
    /// be released at once; false when its last piece may have made one whose answer was lost.
    /// </summary>
    bool UploadCertainlyFailed(Exception exception);

    /// <summary>
    /// True when a create was refused because the project's queue of unfinished jobs is full (the enqueued-token cap, or
    /// the most unfinished jobs): no job was made, and none will be accepted until some of the queued ones end.
    /// </summary>
    bool IsQueueFull(Exception exception);

    /// <summary>True when the failure says the remote job or file no longer exists (deleted, or expired).</summary>
    bool IsGone(Exception exception);
}
