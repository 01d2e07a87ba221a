using SemanticCore.Model;

namespace SemanticCore.Search;

/// <summary>Which chunks a search may return, described for any store to apply its own way; every criterion given must hold.</summary>
internal sealed record SearchFilter
{
    /// <summary>Keeps chunks of the documents whose full path matches (PowerShell wildcards are matched by the caller).</summary>
    public Func<string, bool>? DocumentPathMatches { get; init; }
    /// <summary>Keeps chunks of these types.</summary>
    public IReadOnlySet<ChunkType>? ChunkTypes { get; init; }
    /// <summary>Keeps chunks of these code languages (compared case-insensitively).</summary>
    public IReadOnlySet<string>? Languages { get; init; }

    /// <summary>The filters of a request; an empty list of types or languages filters nothing.</summary>
    public static SearchFilter Of(SearchRequest request) => new()
    {
        DocumentPathMatches = request.DocumentPathMatches,
        ChunkTypes = request.ChunkTypes is { Count: > 0 } types ? new HashSet<ChunkType>(types) : null,
        Languages = request.Languages is { Count: > 0 } languages ? new HashSet<string>(languages, StringComparer.OrdinalIgnoreCase) : null,
    };
}
