using System.Security.Cryptography;
using System.Text;
using SemanticCore.Model;

namespace SemanticCore.Chunking;

/// <summary>
/// Collects a document's chunks in order: groups text units up to the target size (keeping a running token count),
/// and turns every chunk into a <see cref="ChunkDraft"/> with its vector source and hash.
/// </summary>
internal sealed class ChunkSink
{
    internal const string ParagraphSeparator = "\n\n";
    internal const string LineSeparator = "\n";

    private readonly string _title;
    private readonly ChunkingOptions _options;
    private readonly List<ChunkDraft> _chunks = [];
    private readonly StringBuilder _text = new();
    private int _textTokens;
    private IReadOnlyList<string> _textBreadcrumbs = [];

    public ChunkSink(string title, ChunkingOptions options, ChunkLimits limits)
    {
        _title = title;
        _options = options;
        Limits = limits;
    }

    public ChunkLimits Limits { get; }

    public IReadOnlyList<ChunkDraft> Chunks => _chunks;

    /// <summary>
    /// Adds a text unit (paragraph, list, list item ...) to the pending group. A unit over the maximum is split on
    /// sentences/whitespace first. The group is flushed when the breadcrumbs change or the unit would push it over the target.
    /// </summary>
    /// <param name="separator">How the unit joins the previous one in the same group: a blank line, or a single newline for list items of one list.</param>
    public void AddText(string unit, IReadOnlyList<string> breadcrumbs, string separator = ParagraphSeparator)
    {
        unit = unit.Trim();
        if (unit.Length == 0)
        {
            return;
        }

        int tokens = TokenEstimator.Estimate(unit);
        if (tokens <= Limits.Max)
        {
            AddUnit(unit, tokens, breadcrumbs, separator);
            return;
        }

        foreach (string piece in TextSplitter.Split(unit, Limits.Max, Limits.Target))
        {
            AddUnit(piece, TokenEstimator.Estimate(piece), breadcrumbs, ParagraphSeparator);
        }
    }

    /// <summary>Emits the pending text group (if any) as one <see cref="ChunkType.Text"/> chunk.</summary>
    public void FlushText()
    {
        if (_text.Length == 0)
        {
            return;
        }

        string content = _text.ToString();
        _text.Clear();
        _textTokens = 0;
        Emit(ChunkType.Text, null, content, _textBreadcrumbs);
    }

    /// <summary>
    /// Emits one chunk. <paramref name="content"/> must already be within the maximum (callers split first);
    /// <paramref name="vectorContent"/> replaces the content in the vector source when given (e.g. to resolve image URLs).
    /// </summary>
    public void Emit(ChunkType type, string? language, string content, IReadOnlyList<string> breadcrumbs, string? vectorContent = null)
    {
        FlushText();
        EmitCore(type, language, content, breadcrumbs, vectorContent);
    }

    private void EmitCore(ChunkType type, string? language, string content, IReadOnlyList<string> breadcrumbs, string? vectorContent)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return;
        }

        string vector = VectorText.Build(_title, breadcrumbs, type, language, vectorContent ?? content, _options);
        if (TokenEstimator.Estimate(vector) > ChunkLimits.EmbeddingInputLimit)
        {
            // Not reachable when callers respect Limits.Max (context <= budget, content <= max, see ChunkLimits);
            // kept so that no input can ever produce an over-long vector source.
            string context = VectorText.Build(_title, breadcrumbs, type, language, string.Empty, _options);
            int budget = ChunkLimits.EmbeddingInputLimit - TokenEstimator.Estimate(context) - ChunkLimits.SeparatorAllowance;
            foreach (string piece in TextSplitter.Split(vectorContent ?? content, budget, budget))
            {
                EmitCore(type, language, piece, breadcrumbs, null);
            }

            return;
        }

        _chunks.Add(new ChunkDraft(_chunks.Count, type, language, content, breadcrumbs, vector, Sha256Hex(vector)));
    }

    private void AddUnit(string unit, int tokens, IReadOnlyList<string> breadcrumbs, string separator)
    {
        int separatorTokens = separator.Length; // "\n" and "\n\n" cost one token per newline
        if (_text.Length > 0
            && (!ReferenceEquals(breadcrumbs, _textBreadcrumbs) || _textTokens + separatorTokens + tokens > Limits.Target))
        {
            FlushText();
        }

        if (_text.Length > 0)
        {
            _text.Append(separator);
            _textTokens += separatorTokens;
        }
        else
        {
            _textBreadcrumbs = breadcrumbs;
        }

        // Exact: the estimate is additive across newlines, and units are trimmed.
        _text.Append(unit);
        _textTokens += tokens;
    }

    internal static string Sha256Hex(string text)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return Convert.ToHexString(hash).ToLowerInvariant();
    }
}
