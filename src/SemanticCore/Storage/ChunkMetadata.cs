using System.Text;
using System.Text.Json;
using SemanticCore.Chunking;

namespace SemanticCore.Storage;

/// <summary>The metadata JSON a store keeps with a new chunk, whichever store writes it.</summary>
internal static class ChunkMetadata
{
    /// <summary>The chunk's metadata JSON; <c>_vector_source</c> is the exact text embedded (and sent to batch jobs).</summary>
    public static string Of(ChunkDraft draft)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_vector_source", draft.VectorSource);
            json.WriteStartArray("breadcrumbs");
            foreach (var crumb in draft.Breadcrumbs) json.WriteStringValue(crumb);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
