using SemanticCore.Batches;
using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>Makes an index's embedders from its settings and the keys at hand.</summary>
public static class EmbeddingProviders
{
    /// <summary>The interactive embedder (Sync imports, search); Gemini needs the default key.</summary>
    /// <param name="progress">Hears of Gemini's waits for the tokens-per-minute budget.</param>
    public static IEmbeddingProvider CreateInteractive(IndexSettings settings, ApiKey? defaultKey, IProgress<OperationProgress>? progress = null) => settings.Provider switch
    {
        EmbeddingProviderKind.Local => new LocalEmbeddingProvider(settings),
        _ => new GeminiEmbeddingProvider(GeminiHttp.CreateClient(defaultKey ?? throw Keyring.Missing(KeyKind.Default), settings), settings, progress),
    };

    /// <summary>Where the index's batch jobs run; Gemini needs the dedicated batch key.</summary>
    public static IBatchService CreateBatchService(SemanticIndex index, ApiKey? batchKey) => index.Settings.Provider switch
    {
        EmbeddingProviderKind.Local => new LocalBatchService(index.Spool, new LocalEmbeddingProvider(index.Settings)),
        _ => new GeminiBatchService(GeminiHttp.CreateClient(batchKey ?? throw Keyring.Missing(KeyKind.Batch), index.Settings), new UploadMimeTypeSetting(index)),
    };
}
