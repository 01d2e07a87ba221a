namespace SemanticCore.Storage;

/// <summary>What <c>Update-SemanticSchema</c> did (or, with -WhatIf, would do) to one index.</summary>
public sealed class SchemaUpdate
{
    public required string Database { get; init; }
    public required int FromVersion { get; init; }
    public required int ToVersion { get; init; }
    /// <summary>The steps applied (or planned), in order; empty when the index was already current.</summary>
    public required IReadOnlyList<string> Steps { get; init; }
    /// <summary>True when nothing was written (-WhatIf).</summary>
    public bool WhatIf { get; init; }
    public string? Note { get; init; }
}
