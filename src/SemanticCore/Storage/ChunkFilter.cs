using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>Which chunks <c>Get-ChunkStatus</c> returns; every criterion given must hold.</summary>
public sealed record ChunkFilter
{
    public IReadOnlyCollection<EmbeddingStatus>? Statuses { get; init; }
    public string? BatchJobId { get; init; }
    /// <summary>Keeps chunks of the documents whose full path matches (PowerShell wildcards are matched by the caller).</summary>
    public Func<string, bool>? DocumentPathMatches { get; init; }
    public IReadOnlyCollection<long>? DocumentIds { get; init; }
    public IReadOnlyCollection<long>? Ids { get; init; }
    public int? First { get; init; }
}
