using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SemanticCore.Batches;
using SemanticCore.Embedding;
using SemanticCore.Gemini;
using SemanticCore.Ingestion;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Batches;

/// <summary>
/// The optimized sync (parsing on another thread, groups applied in key order) against a reference model
/// of what the simple line-by-line path stores: the same vectors, statuses, messages, retry counts and
/// job counters, for output in the service's (shuffled) order and in input order, with per-line failures,
/// missing, duplicate, unknown and malformed lines, across several transaction groups.
/// </summary>
public sealed class ApplyEquivalenceTests : IDisposable
{
    private const int Dimensions = 16;
    private const int MaxRetries = 3;
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-apply-").FullName;
    private readonly Random random = new(20261201);

    [Fact]
    public async Task Shuffled_and_ordered_output_store_exactly_what_the_simple_path_would()
    {
        // More lines than one sorted run holds: the runs are spilled and merged.
        var (flushed, jobId, keys) = await FlushedIndexAsync(chunks: KeyOrderedLines.RunLines + 2_200);
        var lines = OutputLines(keys);
        var shuffled = lines.OrderBy(_ => random.Next()).ToList();

        var fromShuffled = await SyncAsync(flushed, jobId, shuffled, "shuffled");
        var fromOrdered = await SyncAsync(flushed, jobId, lines, "ordered");

        AssertSame(Reference(keys, shuffled), fromShuffled);
        AssertSame(Reference(keys, lines), fromOrdered);
    }

    [Fact]
    public async Task Syncing_the_same_output_again_changes_nothing()
    {
        var (flushed, jobId, keys) = await FlushedIndexAsync(chunks: 2_500);
        var lines = OutputLines(keys).OrderBy(_ => random.Next()).ToList();

        var once = await SyncAsync(flushed, jobId, lines, "once");
        var copy = Path.Combine(folder, "once.db");
        var again = await SyncAgainAsync(copy, jobId, lines);

        AssertSame(once, again);
    }

    [Fact]
    public async Task A_sync_cut_off_mid_apply_and_resumed_after_a_flush_took_its_retried_chunks_counts_what_one_sync_would()
    {
        // Two groups: the first is stored, then the sync is stopped (as by a kill) before the second.
        var (flushed, jobId, keys) = await FlushedIndexAsync(chunks: BatchManager.LinesPerTransaction + 2_500);
        var lines = OutputLines(keys).OrderBy(_ => random.Next()).ToList();
        var expected = Reference(keys, lines).Job;
        var database = Path.Combine(folder, "resumed.db");
        File.Copy(flushed, database);
        var output = Path.Combine(folder, "resumed.output.jsonl");
        await File.WriteAllLinesAsync(output, lines);

        using (var index = SemanticIndex.Open(database, createIfMissing: false))
        {
            var manager = new BatchManager(index, new FileBatchService(folder, output));
            using var stop = new CancellationTokenSource();
            var firstGroupStored = new Progress(p => { if (p.Status.StartsWith("Storing results", StringComparison.Ordinal)) stop.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.SyncAsync(jobId, MaxRetries, firstGroupStored, stop.Token));
            var retriedSoFar = Ids(((SqliteConnection)index.Connection), "SELECT id FROM chunks WHERE batch_job_id = $job AND embedding_status = 'Pending'", jobId);
            Assert.NotEmpty(retriedSoFar);

            // The next flush takes the chunks the first group put back, before the sync is run again.
            var flush = await manager.FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = keys.Count, MaxJobTokens = long.MaxValue }, null, CancellationToken.None);
            Assert.Equal(retriedSoFar.Count, Assert.Single(flush.Jobs).Requests);
        }

        Assert.Equal(expected, (await SyncAgainAsync(database, jobId, lines)).Job);
    }

    /// <summary>Reports synchronously, so the test acts at the moment the report is made.</summary>
    private sealed class Progress(Action<OperationProgress> report) : IProgress<OperationProgress>
    {
        public void Report(OperationProgress value) => report(value);
    }

    /// <summary>What every key's line is: by key, so shuffled and ordered files hold the same lines.</summary>
    private static List<string> OutputLines(IReadOnlyList<long> keys)
    {
        var lines = new List<string>();
        foreach (var key in keys)
        {
            switch (key % 20)
            {
                case 0: lines.Add(Error(key, 400, "INVALID_ARGUMENT", "Request payload size exceeds the limit")); break;
                case 1: lines.Add(Error(key, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted")); break;
                case 2: break; // missing from the output
                case 3: lines.Add(Success(key)); lines.Add(Success(key)); break; // a duplicate key, the same line twice
                case 4: lines.Add(Success(key)); lines.Add(Error(key, 400, "INVALID_ARGUMENT", "Request payload size exceeds the limit")); break; // the first in the file decides
                default: lines.Add(Success(key)); break;
            }
        }

        lines.Add(Success(99_999_999)); // a key of no chunk of the job
        lines.Add("{\"key\":\"17\",\"response\":{\"embedding\":{\"values\":[0.1,"); // truncated
        lines.Add("not json at all");
        return lines;
    }

    private static float[] ValuesOf(long key) =>
        Enumerable.Range(0, Dimensions).Select(i => (float)Math.Sin(key * 0.7 + i * 1.3) * 0.25f).ToArray();

    private static string Success(long key) =>
        $"{{\"key\":\"{key}\",\"response\":{{\"embedding\":{{\"values\":[{string.Join(",", ValuesOf(key).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}},\"tokenCount\":\"{key % 50 + 3}\"}}}}";

    private static string Error(long key, int code, string status, string message) =>
        $"{{\"key\":\"{key}\",\"error\":{{\"code\":{code},\"message\":\"{message}\",\"status\":\"{status}\"}}}}";

    private sealed record State(List<string> Chunks, string Job);

    private static void AssertSame(State expected, State actual)
    {
        Assert.Equal(expected.Chunks, actual.Chunks);
        Assert.Equal(expected.Job, actual.Job);
    }

    /// <summary>The simple path's result, line by line in file order: the first line of a key decides.</summary>
    private static State Reference(IReadOnlyList<long> keys, IReadOnlyList<string> lines)
    {
        var seen = new HashSet<long>();
        int duplicates = 0, unknown = 0, malformed = 0;
        long succeeded = 0, failed = 0, retried = 0, tokens = 0;
        var chunks = new SortedDictionary<long, string>();
        var jobKeys = keys.ToHashSet();
        foreach (var line in lines)
        {
            if (!line.StartsWith("{\"key\":\"", StringComparison.Ordinal) || !line.EndsWith('}')) { malformed++; continue; }
            var key = long.Parse(line[8..line.IndexOf('"', 8)], CultureInfo.InvariantCulture);
            if (!seen.Add(key)) { duplicates++; continue; }
            if (!jobKeys.Contains(key)) { unknown++; continue; }
            if (line.Contains("\"code\":400", StringComparison.Ordinal))
            {
                chunks[key] = $"Failed|400 INVALID_ARGUMENT: Request payload size exceeds the limit|0|";
                failed++;
            }
            else if (line.Contains("\"code\":429", StringComparison.Ordinal))
            {
                chunks[key] = $"Pending|429 RESOURCE_EXHAUSTED: Resource has been exhausted|1|";
                retried++;
            }
            else
            {
                chunks[key] = $"Ready||0|{Convert.ToHexString(Vectors.ToBlob(Vectors.Normalize(ValuesOf(key))))}";
                succeeded++;
                tokens += key % 50 + 3;
            }
        }

        foreach (var key in keys.Where(k => !chunks.ContainsKey(k)))
        {
            chunks[key] = $"Pending|{ResultApplier.MissingMessage}|1|";
            retried++;
        }

        var status = failed > 0 || retried > 0 ? "CompletedWithErrors" : "Completed";
        return new State(chunks.Select(c => $"{c.Key}|{c.Value}").ToList(),
            $"{status}|{succeeded}|{failed}|{retried}|{tokens}|{unknown}|{duplicates}|{malformed}");
    }

    private async Task<(string Database, string JobId, List<long> Keys)> FlushedIndexAsync(int chunks)
    {
        var database = Path.Combine(folder, "flushed.db");
        var documents = Path.Combine(folder, "docs");
        Directory.CreateDirectory(documents);
        const int sectionsPerDocument = 100;
        for (var d = 0; d < chunks / sectionsPerDocument; d++)
        {
            var text = new StringBuilder($"# Runbook {d}\n\n");
            for (var s = 0; s < sectionsPerDocument; s++) text.Append($"## Step {s}\n\nOn host {d}-{s}, restart worker {d * 1000 + s} and check its log.\n\n");
            await File.WriteAllTextAsync(Path.Combine(documents, $"doc-{d:D4}.md"), text.ToString());
        }

        using var index = SemanticIndex.Open(database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local, null, Dimensions));
        var importer = new DocumentImporter(index);
        foreach (var file in Directory.GetFiles(documents).Order()) await importer.ImportAsync(file, embedder: null, CancellationToken.None);
        var service = new FileBatchService(folder, null);
        var flush = await new BatchManager(index, service).FlushAsync(new FlushOptions { MinSize = 1, Force = true, MaxBatchSize = chunks, MaxJobTokens = long.MaxValue }, null, CancellationToken.None);
        var job = Assert.Single(flush.Jobs);
        Assert.Equal(chunks, job.Requests);
        var keys = Ids(((SqliteConnection)index.Connection), "SELECT id FROM chunks WHERE batch_job_id = $job ORDER BY id", job.Id);
        Checkpoint(((SqliteConnection)index.Connection));
        return (database, job.Id, keys);
    }

    private async Task<State> SyncAsync(string flushed, string jobId, IReadOnlyList<string> lines, string name)
    {
        var copy = Path.Combine(folder, name + ".db");
        File.Copy(flushed, copy, overwrite: true);
        return await SyncAgainAsync(copy, jobId, lines);
    }

    private async Task<State> SyncAgainAsync(string database, string jobId, IReadOnlyList<string> lines)
    {
        var output = Path.Combine(folder, Path.GetFileNameWithoutExtension(database) + ".output.jsonl");
        await File.WriteAllLinesAsync(output, lines);
        using var index = SemanticIndex.Open(database, createIfMissing: false);
        var result = await new BatchManager(index, new FileBatchService(folder, output)).SyncAsync(jobId, MaxRetries, null, CancellationToken.None);
        var chunks = Rows(((SqliteConnection)index.Connection), """
            SELECT c.id || '|' || c.embedding_status || '|' || COALESCE(c.error_message, '') || '|' || c.retry_count || '|' || COALESCE(hex(v.vector), '')
            FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_id = c.id WHERE c.batch_job_id = $job ORDER BY c.id
            """, jobId);
        var job = result.Job;
        return new State(chunks, $"{job.Status}|{job.Succeeded}|{job.Failed}|{job.Retried}|{job.Tokens}|{job.UnknownKeys}|{job.DuplicateKeys}|{job.MalformedLines}");
    }

    private static List<long> Ids(SqliteConnection connection, string sql, string jobId) => Rows(connection, sql, jobId).Select(long.Parse).ToList();

    private static List<string> Rows(SqliteConnection connection, string sql, string jobId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$job", jobId);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        return rows;
    }

    private static void Checkpoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        command.ExecuteNonQuery();
    }

    /// <summary>A batch service over local files: the flush's input is kept, and a sync reads the output file it is given.</summary>
    private sealed class FileBatchService(string folder, string? output) : IBatchService
    {
        public Task<string> UploadAsync(string localPath, string displayName, IProgress<long>? progress, CancellationToken cancellationToken)
        {
            File.Copy(localPath, Path.Combine(folder, displayName + ".input.jsonl"), overwrite: true);
            return Task.FromResult("files/" + displayName);
        }

        public Task<BatchOperation> CreateAsync(string displayName, string inputFileName, CancellationToken cancellationToken) =>
            Task.FromResult(new BatchOperation { Name = "batches/" + displayName, DisplayName = displayName, State = BatchState.Pending, InputFileName = inputFileName });

        public Task<BatchOperation?> FindAsync(string displayName, CancellationToken cancellationToken) => Task.FromResult<BatchOperation?>(null);

        public Task<BatchOperation> GetAsync(string remoteName, CancellationToken cancellationToken) =>
            Task.FromResult(new BatchOperation { Name = remoteName, State = BatchState.Succeeded, ResponsesFileName = "files/output", Done = true });

        // Nothing is uploaded here: no job of its is ever recovered.
        public Task<IReadOnlyList<string>> DeleteUploadsAsync(string displayName, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>([]);

        // Its jobs have finished already: the service refuses to cancel an ended job.
        public Task CancelAsync(string remoteName, CancellationToken cancellationToken) =>
            Task.FromException(new InvalidOperationException($"{remoteName} has already ended."));

        public Task<Stream> OpenResultsAsync(string responsesFileName, CancellationToken cancellationToken) =>
            Task.FromResult<Stream>(File.OpenRead(output!));

        public Task DeleteFileAsync(string fileName, CancellationToken cancellationToken) => Task.CompletedTask;

        public bool CreateCertainlyFailed(Exception exception) => true;

        public bool IsQueueFull(Exception exception) => false;

        public bool UploadCertainlyFailed(Exception exception) => true;

        public bool IsGone(Exception exception) => false;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
