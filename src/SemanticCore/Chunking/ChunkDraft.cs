using SemanticCore.Model;

namespace SemanticCore.Chunking;

/// <summary>One chunk of a document, ready to be stored and embedded.</summary>
/// <param name="Ordinal">0-based order in the document.</param>
/// <param name="Type">What the chunk holds.</param>
/// <param name="Language">The code fence's info language (first word, lower-case) for <see cref="ChunkType.Code"/>; otherwise null.</param>
/// <param name="Content">The chunk's own text: the Markdown source of its block(s), trimmed (indented code keeps its indentation).</param>
/// <param name="Breadcrumbs">Heading texts from H1 down to the chunk's section, as plain text.</param>
/// <param name="VectorSource">The exact text to send for embedding (see <see cref="VectorText.Build"/>).</param>
/// <param name="ContentHash">Lower-case hex SHA-256 of the UTF-8 bytes of <paramref name="VectorSource"/>.</param>
public sealed record ChunkDraft(
    int Ordinal,
    ChunkType Type,
    string? Language,
    string Content,
    IReadOnlyList<string> Breadcrumbs,
    string VectorSource,
    string ContentHash);

/// <summary>A chunked document: its title and its chunks in document order.</summary>
public sealed record ChunkedDocument(string Title, IReadOnlyList<ChunkDraft> Chunks);
