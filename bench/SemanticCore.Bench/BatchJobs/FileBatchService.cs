using SemanticCore.Batches;
using SemanticCore.Gemini;

namespace SemanticCore.Bench.BatchJobs;

/// <summary>
/// A batch service whose "remote" side is a folder: the upload is copied there (the core deletes its own temporary
/// input file once the flush is over), every job has finished when asked, and its results are whichever output file
/// <see cref="ResultsPath"/> names, so one flushed job can be synced from a shuffled and from an ordered output.
/// Nothing is timed here but file reads: the sync's own work is what is measured.
/// </summary>
internal sealed class FileBatchService(string folder) : IBatchService
{
    private const string OutputFileName = "files/bench-output";

    /// <summary>The copy of the last uploaded input JSONL.</summary>
    public string? UploadedPath { get; private set; }

    /// <summary>The output JSONL the next sync reads.</summary>
    public string? ResultsPath { get; set; }

    public async Task<string> UploadAsync(string localPath, string displayName, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var copy = Path.Combine(folder, displayName + ".input.jsonl");
        await using (var source = File.OpenRead(localPath))
        await using (var target = File.Create(copy))
        {
            await source.CopyToAsync(target, cancellationToken).ConfigureAwait(false);
            progress?.Report(target.Length);
        }

        UploadedPath = copy;
        return "files/" + displayName;
    }

    public Task<BatchOperation> CreateAsync(string displayName, string inputFileName, CancellationToken cancellationToken) =>
        Task.FromResult(new BatchOperation
        {
            Name = "batches/" + displayName,
            DisplayName = displayName,
            State = BatchState.Pending,
            InputFileName = inputFileName,
            CreateTime = DateTimeOffset.UtcNow,
        });

    public Task<BatchOperation?> FindAsync(string displayName, CancellationToken cancellationToken) => Task.FromResult<BatchOperation?>(null);

    public Task<BatchOperation> GetAsync(string remoteName, CancellationToken cancellationToken) =>
        Task.FromResult(new BatchOperation
        {
            Name = remoteName,
            State = BatchState.Succeeded,
            ResponsesFileName = OutputFileName,
            Done = true,
        });

    // Nothing is uploaded here: no job of its is ever recovered.
    public Task<IReadOnlyList<string>> DeleteUploadsAsync(string displayName, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    // Its jobs have finished already: the service refuses to cancel an ended job.
    public Task CancelAsync(string remoteName, CancellationToken cancellationToken) =>
        Task.FromException(new InvalidOperationException($"{remoteName} has already ended."));

    public Task<Stream> OpenResultsAsync(string responsesFileName, CancellationToken cancellationToken) =>
        Task.FromResult<Stream>(File.OpenRead(ResultsPath ?? throw new InvalidOperationException("No output file was chosen for the sync.")));

    public Task DeleteFileAsync(string fileName, CancellationToken cancellationToken) => Task.CompletedTask;

    public bool CreateCertainlyFailed(Exception exception) => true;

    public bool IsQueueFull(Exception exception) => false;

    public bool UploadCertainlyFailed(Exception exception) => true;

    public bool IsGone(Exception exception) => false;
}
