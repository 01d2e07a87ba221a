using SemanticCore.Storage;

namespace SemanticCore.Embedding;

/// <summary>Makes the interactive embedder of an index from its settings.</summary>
public static class EmbeddingProviders
{
    public static IEmbeddingProvider CreateInteractive(IndexSettings settings) => settings.Provider switch
    {
        EmbeddingProviderKind.Local => new LocalEmbeddingProvider(settings),
        _ => throw new SemanticCoreException("SyncEmbeddingUnavailable", FailureKind.NotImplemented,
            $"Interactive (Sync) embedding with the {settings.Provider} provider is not available in this version. " +
            "Import with -Mode Async to queue the chunks for a batch job, or use an index created with -Provider Local."),
    };
}
