namespace SemanticCore.Storage;

/// <summary>The embedding provider of an index.</summary>
public enum EmbeddingProviderKind
{
    Gemini,
    Local,
    /// <summary>A sentence-embedding model run on this machine by the companion module SemanticCore.PS.Onnx.</summary>
    Onnx,
}

/// <summary>How an index embeds its chunks; recorded in the index when it is created so vectors are never mixed.</summary>
public sealed record IndexSettings(EmbeddingProviderKind Provider, string Model, int Dimensions)
{
    public const string DefaultGeminiModel = "gemini-embedding-001";
    /// <summary>New Local indexes get version 2; indexes of version 1 (or any other name) keep version 1's vectors.</summary>
    public const string DefaultLocalModel = Embedding.LocalEmbeddingProvider.Version2Model;
    public const int DefaultDimensions = 768;

    public static IndexSettings Default { get; } = new(EmbeddingProviderKind.Gemini, DefaultGeminiModel, DefaultDimensions);

    /// <summary>True when the vectors are computed on this machine (Local, Onnx): free, and no key is needed.</summary>
    public bool RunsOnThisMachine => Provider != EmbeddingProviderKind.Gemini;

    /// <summary>The settings a new index gets from what the user asked for; omitted parts take the provider's defaults.</summary>
    public static IndexSettings FromRequest(IndexSettingsRequest request)
    {
        var provider = request.Provider ?? EmbeddingProviderKind.Gemini;
        // A model run by a companion module knows its own names and dimensions (a copy's settings are taken as they are).
        var installed = Embedding.EmbeddingProviders.CompanionModules.ContainsKey(provider) && !request.Verbatim ? Embedding.EmbeddingProviders.Installed(provider) : null;
        var model = request.Model ?? installed?.DefaultModel ?? (provider == EmbeddingProviderKind.Local ? DefaultLocalModel : DefaultGeminiModel);
        if (string.IsNullOrWhiteSpace(model) || model.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            // Recorded in a new index, it would stay its model for good: every embedding request would fail.
            throw new SemanticCoreException("InvalidModel", FailureKind.InvalidArgument,
                $"'{string.Concat(model.Select(c => char.IsControl(c) ? '?' : c))}' is not a model name: it is blank, or contains spaces or control characters.");
        }

        if (installed is not null) return InstalledModel(installed, model, request.Dimensions);

        var dimensions = request.Dimensions ?? DefaultDimensions;
        var (min, max) = provider == EmbeddingProviderKind.Gemini ? (128, 3072) : (16, 8192);
        if (dimensions < min || dimensions > max)
        {
            throw new SemanticCoreException("InvalidDimensions", FailureKind.InvalidArgument,
                $"The {provider} provider supports {min} to {max} dimensions, not {dimensions}" +
                (provider == EmbeddingProviderKind.Gemini ? " (768, 1536 and 3072 are recommended)." : "."));
        }

        return new IndexSettings(provider, model, dimensions);
    }

    /// <summary>One of an installed provider's models, at the only dimension it makes.</summary>
    private static IndexSettings InstalledModel(Embedding.IInstalledProvider installed, string model, int? dimensions)
    {
        var native = installed.DimensionsOf(model) ?? throw Embedding.EmbeddingProviders.UnknownModel(installed, model);

        if (dimensions is { } asked && asked != native)
        {
            throw new SemanticCoreException("InvalidDimensions", FailureKind.InvalidArgument,
                $"The model {model} makes {native}-dimension vectors, not {asked}. Leave -Dimensions out.");
        }

        return new IndexSettings(installed.Kind, model, native);
    }

    public override string ToString() => $"{Provider} / {Model} / {Dimensions}";
}

/// <summary>The settings a cmdlet was given; null means "whatever the index has (or the default for a new one)".</summary>
public sealed record IndexSettingsRequest(EmbeddingProviderKind? Provider = null, string? Model = null, int? Dimensions = null)
{
    public static IndexSettingsRequest None { get; } = new();

    /// <summary>The settings of an existing index (a copy's source), recorded as they are: its provider need not be installed here.</summary>
    internal bool Verbatim { get; init; }

    /// <summary>Checks an explicit request against the index's own settings; a difference would mix vectors.</summary>
    internal void EnsureCompatibleWith(IndexSettings actual, string databasePath)
    {
        var conflicts = new List<string>();
        if (Provider is { } p && p != actual.Provider) conflicts.Add($"-Provider {p}");
        if (Model is { } m && !string.Equals(m, actual.Model, StringComparison.Ordinal)) conflicts.Add($"-Model {m}");
        if (Dimensions is { } d && d != actual.Dimensions) conflicts.Add($"-Dimensions {d}");
        if (conflicts.Count == 0) return;
        throw new SemanticCoreException(
            "IndexSettingsConflict",
            FailureKind.InvalidArgument,
            $"The index '{databasePath}' embeds with {actual}; {string.Join(", ", conflicts)} would mix incompatible vectors. " +
            "Omit these parameters to use the index's own settings, or give -Database a new file.");
    }
}
