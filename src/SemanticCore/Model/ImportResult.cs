namespace SemanticCore.Model;

public enum ImportStatus
{
    Added,
    Updated,
    Unchanged,
    /// <summary>The document's file is gone, so it was (or would be) removed from the index (Sync-SemanticFolder).</summary>
    Removed,
}

/// <summary>How a document was imported: one per file from <c>Import-SemanticDocument</c>.</summary>
public sealed class ImportResult
{
    public required long Id { get; init; }
    public required string Path { get; init; }
    public required string Title { get; init; }
    /// <summary>The document's chunks after the import.</summary>
    public int Chunks { get; init; }
    /// <summary>Chunks waiting for a batch flush (new ones in Async mode, plus any still waiting from before).</summary>
    public int Pending { get; init; }
    /// <summary>Chunks added, kept (content unchanged: vector and status kept) and removed by this import.</summary>
    public int Added { get; init; }
    public int Kept { get; init; }
    public int Removed { get; init; }
    /// <summary>Chunks embedded during the import (Sync mode).</summary>
    public int Embedded { get; init; }
    /// <summary>Estimated tokens of the added chunks: what embedding them costs (an overestimate, as for a flush).</summary>
    public long EstimatedTokens { get; init; }
    /// <summary>Added, Updated, Unchanged or Removed (see <see cref="ImportStatus"/>).</summary>
    public string Status => State.ToString();
    /// <summary>True for a forecast (-WhatIf): what the import would do; nothing was written.</summary>
    public bool WhatIf { get; init; }
    public required string Database { get; init; }
    /// <summary>True when the command that imported the file created the index (under -WhatIf: would create it).</summary>
    public bool IndexCreated { get; init; }

    internal ImportStatus State { get; init; }

    public override string ToString() => $"{Path} ({Status})";
}

/// <summary>When a document's chunks are embedded.</summary>
public enum ImportMode
{
    /// <summary>Async when a batch key is configured, else Sync.</summary>
    Auto,
    /// <summary>Embed now through the interactive API (full price).</summary>
    Sync,
    /// <summary>Store as Pending for the next batch flush (half price).</summary>
    Async,
}
