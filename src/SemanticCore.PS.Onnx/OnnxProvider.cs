using System.Collections.Concurrent;
using SemanticCore.Embedding;
using SemanticCore.Storage;

namespace SemanticCore.Onnx;

/// <summary>The Onnx provider: the models in <paramref name="modelsDirectory"/>, each loaded once per process and shared.</summary>
/// <param name="modelsDirectory">Holds a folder per model (model.onnx, vocab.txt).</param>
public sealed class OnnxProvider(string modelsDirectory) : IInstalledProvider
{
    private readonly ConcurrentDictionary<OnnxModel, Lazy<SentenceEncoder>> encoders = new();

    /// <summary>The models folder beside this assembly (a build's output; the module passes its own).</summary>
    public OnnxProvider()
        : this(Path.Combine(Path.GetDirectoryName(typeof(OnnxProvider).Assembly.Location)!, "models"))
    {
    }

    public EmbeddingProviderKind Kind => EmbeddingProviderKind.Onnx;

    public string DefaultModel => OnnxModel.Default.Name;

    public IReadOnlyList<string> ModelNames { get; } = OnnxModel.All.Select(m => m.Name).ToList();

    public int? DimensionsOf(string model) => OnnxModel.Find(model)?.Dimensions;

    public IEmbeddingProvider Create(IndexSettings settings, IProgress<OperationProgress>? progress) =>
        new OnnxEmbeddingProvider(settings, Encoder(settings.Model), progress);

    /// <summary>The model's encoder, loaded on first use (about a second) and kept: its session is reused by every command.</summary>
    /// <exception cref="SemanticCoreException">InvalidModel: an index recorded a model this module does not have.</exception>
    public SentenceEncoder Encoder(string modelName)
    {
        var model = OnnxModel.Find(modelName) ?? throw EmbeddingProviders.UnknownModel(this, modelName);
        var encoder = encoders.GetOrAdd(model, m => new Lazy<SentenceEncoder>(() => Load(m)));
        try
        {
            return encoder.Value;
        }
        catch
        {
            encoders.TryRemove(model, out _); // a failed load (files missing) is tried again next time
            throw;
        }
    }

    /// <exception cref="SemanticCoreException">ModelFilesMissing; OnnxRuntimeUnavailable: no native ONNX Runtime for this platform, or it failed to start.</exception>
    private SentenceEncoder Load(OnnxModel model)
    {
        try
        {
            return new SentenceEncoder(model, Path.Combine(modelsDirectory, model.Name));
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException or TypeInitializationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new SemanticCoreException("OnnxRuntimeUnavailable", FailureKind.NotInstalled,
                $"ONNX Runtime could not run the model {model.Name} on {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}: {ex.GetBaseException().Message}", ex);
        }
    }
}
