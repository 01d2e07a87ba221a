namespace SemanticCore.Onnx;

/// <summary>How a model turns its tokens' vectors into one vector for the text.</summary>
public enum SentencePooling
{
    /// <summary>The mean of every token's vector, padding left out (sentence-transformers' mean pooling).</summary>
    Mean,
    /// <summary>The vector of the [CLS] token.</summary>
    Cls,
}

/// <summary>A sentence-embedding model the module ships, with the contract its model card gives.</summary>
/// <param name="Name">The model's name, as -Model takes it and the index records it.</param>
/// <param name="Dimensions">The size of its vectors.</param>
/// <param name="MaxTokens">The most word pieces it reads at once, [CLS] and [SEP] included; longer texts go in windows.</param>
/// <param name="Pooling">How a window's token vectors become one.</param>
/// <param name="QueryPrefix">What a search query is prefixed with (documents never are).</param>
public sealed record OnnxModel(string Name, int Dimensions, int MaxTokens, SentencePooling Pooling, string QueryPrefix)
{
    public static OnnxModel MiniLM { get; } = new("all-MiniLM-L6-v2", 384, 256, SentencePooling.Mean, "");

    public static OnnxModel ArcticXs { get; } = new("snowflake-arctic-embed-xs", 384, 512, SentencePooling.Cls,
        "Represent this sentence for searching relevant passages: ");

    public static IReadOnlyList<OnnxModel> All { get; } = [MiniLM, ArcticXs];

    /// <summary>The model of a new index when -Model is left out: the one that ranks better on bench/data's labelled queries.</summary>
    public static OnnxModel Default => MiniLM;

    public static OnnxModel? Find(string name) => All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
}
