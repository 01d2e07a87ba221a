namespace SemanticCore.Model;

/// <summary>One health rule checked on an index, from <c>Test-SemanticIndex</c>.</summary>
public sealed class IndexCheck
{
    public required string Name { get; init; }
    public required bool Passed { get; init; }
    /// <summary>How many things the rule found wrong (0 when it passed).</summary>
    public long Count { get; init; }
    /// <summary>What was found, and what to do about it.</summary>
    public required string Message { get; init; }
    /// <summary>What the rule found: chunk ids, job ids or document paths, for the pipeline.</summary>
    public object[] Items { get; init; } = [];
    public required string Database { get; init; }

    public override string ToString() => $"{Name}: {(Passed ? "passed" : "FAILED")} ({Message})";
}

/// <summary>Where a key comes from and which key it is, never the key itself: from <c>Get-SemanticKeyring</c>.</summary>
public sealed class KeyringEntry
{
    /// <summary>Default (interactive embedding and search) or Batch (batch jobs).</summary>
    public required string Kind { get; init; }
    /// <summary>The source a command uses when it is given no key parameter: Session, Environment, or None.</summary>
    public required string Source { get; init; }
    public bool Session { get; init; }
    /// <summary>The environment variable that holds a key of this kind, if any.</summary>
    public string? EnvironmentVariable { get; init; }
    /// <summary>A fingerprint of the key in use ("sha256:" and 8 hex digits), to compare keys between machines without revealing them.</summary>
    public string? Fingerprint { get; init; }
}
