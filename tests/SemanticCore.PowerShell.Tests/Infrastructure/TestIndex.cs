using SemanticCore.Tests.Postgres;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// A test's index on one backend: "Sqlite" (index.db in the test's folder) or "Postgres" (a fresh schema in the
/// test cluster, its connections named <see cref="ApplicationName"/> so a test can find and kill them).
/// </summary>
public sealed record TestIndex(string Backend, string Database, string ApplicationName)
{
    public static TestIndex For(string backend, TestDirectory dir)
    {
        var applicationName = $"semanticcore-test-{Guid.NewGuid():N}";
        return backend switch
        {
            "Sqlite" => new(backend, dir.Combine("index.db"), applicationName),
            "Postgres" => new(backend, $"{PostgresFactAttribute.NewIndex()};Application Name={applicationName}", applicationName),
            _ => throw new ArgumentException($"Unknown backend '{backend}'", nameof(backend)),
        };
    }

    public bool IsPostgres => Backend == "Postgres";

    /// <summary>The -Database argument as a single-quoted PowerShell string.</summary>
    public string Argument => $"'{Database.Replace("'", "''")}'";

    /// <summary>Ends every server connection of this index's sessions (pg_terminate_backend); returns how many.</summary>
    public long KillConnections() => Db.Scalar<long>(
        PostgresFactAttribute.ConnectionString,
        $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{ApplicationName}'");
}

/// <summary>A hosted theory that runs only on PostgreSQL: skipped with a reason without a cluster, as <see cref="PostgresFactAttribute"/>.</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute() => Skip = new PostgresFactAttribute().Skip;
}
