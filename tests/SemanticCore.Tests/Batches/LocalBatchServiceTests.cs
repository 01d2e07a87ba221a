using SemanticCore.Batches;
using SemanticCore.Embedding;
using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Tests.Batches;

/// <summary>The batch service of vectors made on this machine: a job's lines embedded in groups, written back in order.</summary>
public sealed class LocalBatchServiceTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "semanticcore-local-batch-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_job_of_several_groups_gets_every_lines_vector_under_its_key_in_input_order()
    {
        var embedder = new LocalEmbeddingProvider(new IndexSettings(EmbeddingProviderKind.Local, LocalEmbeddingProvider.Version2Model, 64));
        var service = new LocalBatchService(new FolderSpool(folder), embedder);
        var texts = Enumerable.Range(0, 600).Select(i => $"chunk {i} about topic {i % 7}").ToList();
        var input = Path.Combine(folder, "input.jsonl");
        Directory.CreateDirectory(folder);
        await using (var file = File.Create(input))
        {
            var writer = new BatchInputWriter(file, 64);
            for (var i = 0; i < texts.Count; i++) writer.Write($"c{i}", texts[i]);
        }

        var uploaded = await service.UploadAsync(input, "job-1", null, CancellationToken.None);
        var created = await service.CreateAsync("job-1", uploaded, CancellationToken.None);
        var done = await service.GetAsync(created.Name!, CancellationToken.None);
        var lines = new List<BatchOutputLine>();
        await using (var results = await service.OpenResultsAsync(done.ResponsesFileName!, CancellationToken.None))
        {
            await foreach (var line in BatchOutputReader.ReadAsync(results)) lines.Add(line);
        }

        Assert.Equal(600, created.RequestCount);
        Assert.Equal(texts.Select((_, i) => $"c{i}"), lines.Select(l => l.Key));
        Assert.All(lines.Zip(texts), pair => Assert.Equal(embedder.Embed(pair.Second), pair.First.Values));
    }

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }
}
