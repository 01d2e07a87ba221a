using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>
/// An embedding provider a companion module adds when it is imported (SemanticCore.PS.Onnx adds Onnx): its models,
/// each at the one dimension it makes, and the embedders that run them.
/// </summary>
public interface IInstalledProvider
{
    /// <summary>The provider it adds.</summary>
    EmbeddingProviderKind Kind { get; }

    /// <summary>The model a new index gets when -Model is left out.</summary>
    string DefaultModel { get; }

    /// <summary>Every model it can run, by name.</summary>
    IReadOnlyList<string> ModelNames { get; }

    /// <summary>The dimension of <paramref name="model"/>'s vectors; null when it has no such model.</summary>
    int? DimensionsOf(string model);

    /// <summary>The embedder of an index with these settings; <paramref name="progress"/> hears how fast long work goes.</summary>
    IEmbeddingProvider Create(IndexSettings settings, IProgress<OperationProgress>? progress);
}
