namespace SemanticCore.Tests.Postgres;

/// <summary>
/// A test that needs the throwaway PostgreSQL cluster the README's test command starts ($env:SEMANTICCORE_TEST_POSTGRES).
/// Without one it is skipped, saying why; with $env:SEMANTICCORE_TEST_POSTGRES_REQUIRED=1 (CI) it runs, and fails.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public const string Variable = "SEMANTICCORE_TEST_POSTGRES";

    public PostgresFactAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)) && Environment.GetEnvironmentVariable(Variable + "_REQUIRED") != "1")
        {
            Skip = $"No PostgreSQL test cluster: ${Variable} is not set (the README's test command starts one when PostgreSQL and pgvector are installed).";
        }
    }

    /// <summary>The cluster's connection string (a superuser on its 'postgres' database).</summary>
    public static string ConnectionString => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
        ? value
        : throw new InvalidOperationException($"PostgreSQL tests are required (${Variable}_REQUIRED=1) but ${Variable} is not set.");

    /// <summary>A connection string for a new, unique index schema in the cluster.</summary>
    public static string NewIndex() => $"{ConnectionString};Search Path=t_{Guid.NewGuid():N}";
}
