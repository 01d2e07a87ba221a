using System.Text.Json;

namespace SemanticCore.Batches;

/// <summary>Counts of one sync run that are kept with the job for triage.</summary>
internal sealed record SyncStats(long UnknownKeys, long DuplicateKeys, long MalformedLines, long EstimatedTokens)
{
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, long>
    {
        ["unknownKeys"] = UnknownKeys,
        ["duplicateKeys"] = DuplicateKeys,
        ["malformedLines"] = MalformedLines,
        ["estimatedTokens"] = EstimatedTokens,
    });
}
