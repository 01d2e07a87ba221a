namespace SemanticCore.Model;

/// <summary>A copy of an index into another, from <c>Copy-SemanticIndex</c>.</summary>
public sealed class CopyResult
{
    /// <summary>The index that was copied.</summary>
    public required string Source { get; init; }
    /// <summary>The index the copy went into: a full file path, or a server index's name without its password.</summary>
    public required string Destination { get; init; }
    public long Documents { get; init; }
    public long Chunks { get; init; }
    public long Vectors { get; init; }
    /// <summary>The batch jobs copied (any status).</summary>
    public long Jobs { get; init; }
    public TimeSpan Duration { get; init; }

    public override string ToString() => Destination;
}
