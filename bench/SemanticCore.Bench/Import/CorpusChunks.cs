using SemanticCore.Chunking;
using SemanticCore.Ingestion;

namespace SemanticCore.Bench.Import;

/// <summary>The importer's work on files before it touches an index: read (and hash) each file, then chunk it.</summary>
internal static class CorpusChunks
{
    /// <summary>The chunks of each file in turn, as <see cref="DocumentReader.Read"/> and <see cref="DocumentChunker.Chunk"/> make them for the importer.</summary>
    public static IEnumerable<IReadOnlyList<ChunkDraft>> Of(IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            var document = DocumentReader.Read(file);
            yield return DocumentChunker.Chunk(document.Text, Path.GetExtension(file), Path.GetFileNameWithoutExtension(file), ChunkingOptions.Default).Chunks;
        }
    }
}
