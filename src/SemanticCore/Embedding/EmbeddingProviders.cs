using System.Collections.Concurrent;
using SemanticCore.Batches;
using SemanticCore.Gemini;
using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>Makes an index's embedders from its settings and the keys at hand.</summary>
public static class EmbeddingProviders
{
    /// <summary>The module that adds each installable provider, for the error that says how to get it.</summary>
    public static IReadOnlyDictionary<EmbeddingProviderKind, string> CompanionModules { get; } = new Dictionary<EmbeddingProviderKind, string>
    {
        [EmbeddingProviderKind.Onnx] = "SemanticCore.PS.Onnx",
    };

    private static readonly ConcurrentDictionary<EmbeddingProviderKind, IInstalledProvider> Installations = new();

    /// <summary>Adds a companion module's provider (a second import of the module replaces the first).</summary>
    public static void Install(IInstalledProvider provider) => Installations[provider.Kind] = provider;

    /// <summary>True when <paramref name="kind"/> needs no companion module, or its module has been imported.</summary>
    public static bool IsInstalled(EmbeddingProviderKind kind) => !CompanionModules.ContainsKey(kind) || Installations.ContainsKey(kind);

    /// <summary>The companion module's provider.</summary>
    /// <exception cref="SemanticCoreException">ProviderNotInstalled: its module is not imported in this session.</exception>
    public static IInstalledProvider Installed(EmbeddingProviderKind kind) =>
        Installations.TryGetValue(kind, out var provider) ? provider
        : throw new SemanticCoreException("ProviderNotInstalled", FailureKind.NotInstalled,
            $"The {kind} provider comes with the module {CompanionModules[kind]}, which is not installed (or not imported) in this session.");

    /// <summary>InvalidModel: a model name the installed provider does not have, with the names it has.</summary>
    public static SemanticCoreException UnknownModel(IInstalledProvider provider, string model) =>
        new("InvalidModel", FailureKind.InvalidArgument, $"The {provider.Kind} provider has no model '{model}'. Its models: {string.Join(", ", provider.ModelNames)}.");

    /// <summary>The interactive embedder (Sync imports, search); Gemini needs the default key.</summary>
    /// <param name="progress">Hears of Gemini's waits for the tokens-per-minute budget, and how fast a model on this machine goes.</param>
    public static IEmbeddingProvider CreateInteractive(IndexSettings settings, ApiKey? defaultKey, IProgress<OperationProgress>? progress = null) => settings.Provider switch
    {
        EmbeddingProviderKind.Local => new LocalEmbeddingProvider(settings),
        EmbeddingProviderKind.Onnx => Installed(settings.Provider).Create(settings, progress),
        _ => new GeminiEmbeddingProvider(GeminiHttp.CreateClient(defaultKey ?? throw Keyring.Missing(KeyKind.Default), settings), settings, progress),
    };

    /// <summary>Where the index's batch jobs run; Gemini needs the dedicated batch key, a model on this machine runs them in the index's spool.</summary>
    public static IBatchService CreateBatchService(SemanticIndex index, ApiKey? batchKey, IProgress<OperationProgress>? progress = null) => index.Settings.Provider switch
    {
        EmbeddingProviderKind.Gemini => new GeminiBatchService(GeminiHttp.CreateClient(batchKey ?? throw Keyring.Missing(KeyKind.Batch), index.Settings), new UploadMimeTypeSetting(index)),
        _ => new LocalBatchService(index.Spool, CreateInteractive(index.Settings, null, progress)),
    };
}
