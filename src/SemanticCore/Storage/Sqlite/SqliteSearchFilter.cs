using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Model;
using SemanticCore.Search;

namespace SemanticCore.Storage.Sqlite;

/// <summary>A search's filter resolved against one SQLite index: checked in memory for vectors, in SQL for keywords.</summary>
internal sealed class SqliteSearchFilter
{
    private readonly HashSet<long>? documentIds;
    private readonly IReadOnlySet<ChunkType>? chunkTypes;
    private readonly HashSet<string>? languages;

    private SqliteSearchFilter(HashSet<long>? documentIds, IReadOnlySet<ChunkType>? chunkTypes, HashSet<string>? languages)
    {
        this.documentIds = documentIds;
        this.chunkTypes = chunkTypes;
        this.languages = languages;
    }

    /// <summary>True when the filters leave no chunk at all (no document matched the path patterns).</summary>
    public bool MatchesNothing => documentIds is { Count: 0 };

    /// <summary>Resolves the document-path test to the ids of the documents it keeps; types and languages are kept as given.</summary>
    public static SqliteSearchFilter Resolve(IDocumentStore documents, SearchFilter filter) => new(
        filter.DocumentPathMatches is { } matches ? documents.MatchingIds(matches) : null,
        filter.ChunkTypes,
        filter.Languages is { } languages ? new HashSet<string>(languages, StringComparer.OrdinalIgnoreCase) : null);

    public bool Allows(long documentId, ChunkType chunkType, string? language) =>
        (documentIds is null || documentIds.Contains(documentId))
        && (chunkTypes is null || chunkTypes.Contains(chunkType))
        && (languages is null || (language is not null && languages.Contains(language)));

    /// <summary>The same filters as SQL conditions on <c>chunks c</c> (parameters added to <paramref name="command"/>).</summary>
    public IEnumerable<string> SqlConditions(SqliteCommand command)
    {
        if (documentIds is not null)
        {
            command.Parameters.AddWithValue("$documents", JsonSerializer.Serialize(documentIds));
            yield return "c.document_id IN (SELECT value FROM json_each($documents))";
        }

        if (chunkTypes is not null)
        {
            command.Parameters.AddWithValue("$types", JsonSerializer.Serialize(chunkTypes.Select(t => t.ToString())));
            yield return "chunk_type_name(c.chunk_type) IN (SELECT value FROM json_each($types))";
        }

        if (languages is not null)
        {
            command.Parameters.AddWithValue("$languages", JsonSerializer.Serialize(languages.Select(l => l.ToLowerInvariant())));
            yield return "lower(c.language) IN (SELECT value FROM json_each($languages))";
        }
    }
}
