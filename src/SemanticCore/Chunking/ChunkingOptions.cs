namespace SemanticCore.Chunking;

/// <summary>
/// Size limits for <see cref="DocumentChunker"/>, <see cref="MarkdownChunker"/> and <see cref="PlainTextChunker"/>.
/// All sizes are in tokens as counted by <see cref="TokenEstimator"/> (a deliberate over-estimate of Gemini tokens).
/// </summary>
/// <remarks>
/// <para>
/// The embedding model (gemini-embedding-001) rejects inputs over 2,048 tokens. Every
/// <see cref="ChunkDraft.VectorSource"/> is the (capped) context prefix, a blank line and the chunk content, so its
/// estimate is at most <c>MaxContextTokens + 2 + MaxChunkTokens</c>. With the defaults that is 200 + 2 + 1024 = 1,226
/// estimated tokens: 822 tokens under the limit, i.e. the real count may exceed the (already conservative) estimate by
/// two thirds before the limit is reached.
/// </para>
/// <para>
/// Values that could break the limit are clamped, never trusted: <see cref="MaxContextTokens"/> is capped at 1,024,
/// <see cref="MaxChunkTokens"/> at <c>2048 - MaxContextTokens - 8</c>, and <see cref="TargetChunkTokens"/> at
/// <see cref="MaxChunkTokens"/>. Values that make no sense (<c>MaxChunkTokens &lt; 32</c>,
/// <c>TargetChunkTokens &lt; 1</c>, <c>MaxContextTokens &lt; 0</c>) make the chunkers throw
/// <see cref="ArgumentOutOfRangeException"/>.
/// </para>
/// </remarks>
public sealed record ChunkingOptions
{
    /// <summary>The defaults: 1,024 / 400 / 200.</summary>
    public static ChunkingOptions Default { get; } = new();

    /// <summary>
    /// Largest chunk content, in estimated tokens (a paragraph group, an oversized paragraph's pieces, a code block
    /// or table or quote, or a piece of a split one, stay under it). 1,024 by default: large enough that typical code
    /// blocks and tables stay whole, half the model limit so the context prefix and estimation error always fit.
    /// </summary>
    public int MaxChunkTokens { get; init; } = 1024;

    /// <summary>
    /// Paragraphs (and lists, and pieces of an oversized paragraph) are grouped into one chunk until adding the next
    /// one would exceed this. 400 by default: retrieval works best with a few hundred tokens per chunk.
    /// </summary>
    public int TargetChunkTokens { get; init; } = 400;

    /// <summary>The context prefix (title, breadcrumbs, type label) is truncated to this many estimated tokens. 200 by default.</summary>
    public int MaxContextTokens { get; init; } = 200;
}

/// <summary>The effective (validated and clamped) limits derived from a <see cref="ChunkingOptions"/>.</summary>
internal readonly record struct ChunkLimits(int Max, int Target, int Context)
{
    /// <summary>The hard input limit of gemini-embedding-001, in tokens.</summary>
    public const int EmbeddingInputLimit = 2048;

    /// <summary>Smallest accepted <see cref="ChunkingOptions.MaxChunkTokens"/> (room for fences and a few lines).</summary>
    public const int MinChunkTokens = 32;

    /// <summary>Largest effective <see cref="ChunkingOptions.MaxContextTokens"/>.</summary>
    public const int MaxContextCap = 1024;

    /// <summary>Reserved between context and content: the blank line (2 tokens) plus slack.</summary>
    public const int SeparatorAllowance = 8;

    public static ChunkLimits From(ChunkingOptions? options)
    {
        options ??= ChunkingOptions.Default;
        if (options.MaxChunkTokens < MinChunkTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxChunkTokens,
                $"{nameof(ChunkingOptions.MaxChunkTokens)} must be at least {MinChunkTokens}.");
        }

        if (options.TargetChunkTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.TargetChunkTokens,
                $"{nameof(ChunkingOptions.TargetChunkTokens)} must be positive.");
        }

        if (options.MaxContextTokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxContextTokens,
                $"{nameof(ChunkingOptions.MaxContextTokens)} must not be negative.");
        }

        int context = ContextBudget(options);
        int max = Math.Min(options.MaxChunkTokens, EmbeddingInputLimit - context - SeparatorAllowance);
        int target = Math.Min(options.TargetChunkTokens, max);
        return new ChunkLimits(max, target, context);
    }

    public static int ContextBudget(ChunkingOptions options) => Math.Clamp(options.MaxContextTokens, 0, MaxContextCap);
}
