using System.Diagnostics;
using System.Globalization;
using SemanticCore.Embedding;
using SemanticCore.Storage;

namespace SemanticCore.Onnx;

/// <summary>An Onnx index's embedder: its model on this machine, off the caller's thread, with progress in chunks a second.</summary>
internal sealed class OnnxEmbeddingProvider(IndexSettings settings, SentenceEncoder encoder, IProgress<OperationProgress>? progress) : IEmbeddingProvider
{
    /// <summary>Texts handed over (and recorded, and reported as progress) at a time.</summary>
    private const int TextsPerCall = 64;

    private readonly Stopwatch clock = new();
    private long embedded;

    public IndexSettings Settings { get; } = settings;

    public Task EmbedDocumentsAsync(IReadOnlyList<string> texts, Action<int, IReadOnlyList<float[]>> embeddedCall, CancellationToken cancellationToken) =>
        // Off the pipeline thread, so that the cmdlet shows progress while the model runs.
        Task.Run(() =>
        {
            clock.Start();
            try
            {
                for (var first = 0; first < texts.Count; first += TextsPerCall)
                {
                    var slice = texts.Skip(first).Take(TextsPerCall).ToList();
                    embeddedCall(first, encoder.EmbedDocuments(slice, cancellationToken));
                    embedded += slice.Count;
                    ReportProgress();
                }
            }
            finally
            {
                clock.Stop();
            }
        }, cancellationToken);

    public Task<float[]> EmbedQueryAsync(string text, CancellationToken cancellationToken) => Task.Run(() => encoder.EmbedQuery(text), cancellationToken);

    /// <summary>Chunks so far in this command, and how many a second the model embeds them.</summary>
    private void ReportProgress()
    {
        var seconds = clock.Elapsed.TotalSeconds;
        var rate = seconds > 0 ? embedded / seconds : 0;
        progress?.Report(new OperationProgress($"Embedding with {Settings.Model} on this machine",
            string.Create(CultureInfo.InvariantCulture, $"{embedded:N0} chunks embedded, {rate:N0} a second")));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Onnx ({Settings.Model}, {Settings.Dimensions} dimensions)");
}
