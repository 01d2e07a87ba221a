using SemanticCore.Model;

namespace SemanticCore.Search;

/// <summary>One query and how to rank and filter its hits.</summary>
public sealed record SearchRequest
{
    public required string Query { get; init; }
    public int Top { get; init; } = 10;
    public SearchMode Mode { get; init; } = SearchMode.Hybrid;
    /// <summary>Hits scoring below this (in the mode's own score) are dropped.</summary>
    public double? MinScore { get; init; }
    /// <summary>Keeps chunks of the documents whose full path matches (PowerShell wildcards are matched by the caller).</summary>
    public Func<string, bool>? DocumentPathMatches { get; init; }
    public IReadOnlyCollection<ChunkType>? ChunkTypes { get; init; }
    public IReadOnlyCollection<string>? Languages { get; init; }
    /// <summary>Lets the store keep the index's vectors in memory between queries (SQLite: the session's vector cache); false reads them where they are each time.</summary>
    public bool UseCache { get; init; } = true;
}

/// <summary>The hits of one query and what the search did to find them (for verbose output).</summary>
public sealed record SearchOutcome(IReadOnlyList<SearchHit> Hits, SearchStatistics Statistics);

/// <summary>What a search looked at.</summary>
public sealed record SearchStatistics
{
    /// <summary>Chunks in the index: all of them are in the keyword index.</summary>
    public long Chunks { get; init; }
    /// <summary>True when the keyword index was searched.</summary>
    public bool KeywordSearched { get; init; }
    /// <summary>Vectors scored (within the filters), null when the query was not ranked by meaning.</summary>
    public long? VectorsScored { get; init; }
    /// <summary>Chunks without a Ready vector of the index's model and dimension (not searchable by meaning yet); null when the vectors were not looked at.</summary>
    public long? NotReady { get; init; }
    /// <summary>True when the vectors came from the session's cache instead of the file.</summary>
    public bool FromCache { get; init; }
    /// <summary>Why a Hybrid search answered from keywords alone; null when it did not.</summary>
    public string? Fallback { get; init; }
}
