namespace SemanticCore.Model;

/// <summary>One chunk of an indexed document and where it is in the embedding lifecycle (<c>Get-ChunkStatus</c>).</summary>
public sealed class Chunk
{
    public required long Id { get; init; }
    /// <summary>The source document's full path; null for rows of the earlier layout, which had no documents.</summary>
    public string? DocumentPath { get; init; }
    public long? DocumentId { get; init; }
    public int Ordinal { get; init; }
    /// <summary>Code, Text, Table...: a name, so ConvertTo-Json and CSV exports write it as such.</summary>
    public string ChunkType => Type.ToString();
    public string? Language { get; init; }
    /// <summary>Pending, Submitted, Ready or Failed (see <see cref="EmbeddingStatus"/>).</summary>
    public string Status => State.ToString();
    public string? BatchJobId { get; init; }
    public string? ErrorMessage { get; init; }
    public int RetryCount { get; init; }
    /// <summary>The start of the content on one line, for tables and triage.</summary>
    public string Preview { get; init; } = "";
    /// <summary>UTC.</summary>
    public DateTime? UpdatedAt { get; init; }
    public required string Database { get; init; }

    internal ChunkType Type { get; init; }
    internal EmbeddingStatus State { get; init; }

    public override string ToString() => $"{DocumentPath}#{Ordinal} ({Status})";
}

/// <summary>Chunk counts for one status, or for all of them (<c>Status = "Total"</c>), from <c>Get-ChunkStatus -Summary</c>.</summary>
public sealed class ChunkStatusSummary
{
    public const string TotalStatus = "Total";

    /// <summary>Pending, Submitted, Ready, Failed, or Total.</summary>
    public required string Status { get; init; }
    public long Chunks { get; init; }
    public long Documents { get; init; }
    /// <summary>The share (0..100) of the chunks that match the filters that are in this status.</summary>
    public double Percent { get; init; }
    public required string Database { get; init; }
}
