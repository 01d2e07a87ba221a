namespace SemanticCore.Model;

/// <summary>A document in the index, with its chunks counted per status: one per document from <c>Get-SemanticDocument</c>.</summary>
public sealed class SemanticDocument
{
    public required long Id { get; init; }
    /// <summary>The full path of the source file, as imported.</summary>
    public required string Path { get; init; }
    public string Title { get; init; } = "";
    public long Chunks { get; init; }
    public long Ready { get; init; }
    public long Pending { get; init; }
    public long Submitted { get; init; }
    public long Failed { get; init; }
    /// <summary>The size of the document's indexed text (its chunks), in UTF-8 bytes.</summary>
    public long Bytes { get; init; }
    /// <summary>SHA-256 of the file's text at its last import; an unchanged file is not imported again.</summary>
    public required string ContentHash { get; init; }
    /// <summary>When the document was first imported (UTC).</summary>
    public DateTime ImportedAt { get; init; }
    /// <summary>When the document last changed in the index (UTC).</summary>
    public DateTime UpdatedAt { get; init; }
    public required string Database { get; init; }

    public override string ToString() => Path;
}

/// <summary>What removing a document took with it.</summary>
public sealed record DocumentRemoval(long Id, string Path, long Chunks, long ReleasedFromJobs);

/// <summary>A backup of an index, from <c>Backup-SemanticIndex</c>.</summary>
public sealed class BackupResult
{
    /// <summary>The copy's full path; it opens as an index.</summary>
    public required string Path { get; init; }
    /// <summary>The index that was copied.</summary>
    public required string Source { get; init; }
    public long Bytes { get; init; }
    public long Documents { get; init; }
    public long Chunks { get; init; }
    public long Vectors { get; init; }
    public int SchemaVersion { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>When the copy was completed (UTC).</summary>
    public DateTime CreatedAt { get; init; }

    public override string ToString() => Path;
}
