namespace SemanticCore.Storage;

/// <summary>A document as stored: enough to tell whether a file changed since its last import.</summary>
internal sealed record StoredDocument(long Id, string ContentHash, string? Chunker, string Title);

/// <summary>An existing chunk, keyed by the hash of the exact text it was (or will be) embedded from.</summary>
internal sealed record StoredChunkKey(long Id, string? ContentHash, int Ordinal, bool Pending);
