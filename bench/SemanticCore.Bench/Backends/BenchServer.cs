using Npgsql;

namespace SemanticCore.Bench.Backends;

/// <summary>
/// The PostgreSQL server the side-by-side scenario uses, from <c>$env:SEMANTICCORE_BENCH_POSTGRES</c> (a connection string):
/// each index in a fresh schema of its own, dropped when this is disposed. Null when the variable is not set.
/// </summary>
internal sealed class BenchServer : IDisposable
{
    public const string Variable = "SEMANTICCORE_BENCH_POSTGRES";

    private readonly string connectionString;
    private readonly List<string> schemas = [];

    private BenchServer(string connectionString) => this.connectionString = connectionString;

    /// <summary>The server the variable names, or null when it is not set.</summary>
    public static BenchServer? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? new BenchServer(value) : null;

    /// <summary>A connection string naming a fresh schema (<c>bench_&lt;purpose&gt;_&lt;random&gt;</c>) for one index.</summary>
    public string FreshIndex(string purpose)
    {
        var schema = $"bench_{purpose}_{Guid.NewGuid().ToString("N")[..8]}";
        schemas.Add(schema);
        return new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema }.ConnectionString;
    }

    /// <summary>The server's value of a setting (e.g. shared_buffers), as SHOW prints it.</summary>
    public string Show(string setting)
    {
        using var connection = Open();
        using var command = new NpgsqlCommand($"SHOW {setting}", connection);
        return command.ExecuteScalar() as string ?? "";
    }

    /// <summary>The server's version and pgvector's, e.g. "PostgreSQL 15.14, pgvector 0.8.0".</summary>
    public string Versions()
    {
        using var connection = Open();
        using var command = new NpgsqlCommand(
            "SELECT 'PostgreSQL ' || current_setting('server_version') || ', pgvector ' || coalesce((SELECT default_version FROM pg_available_extensions WHERE name = 'vector'), '(not installed)')",
            connection);
        return command.ExecuteScalar() as string ?? "";
    }

    /// <summary>Drops an index's schema now (its disk space back before the next size is loaded).</summary>
    public void Drop(string database)
    {
        var schema = new NpgsqlConnectionStringBuilder(database).SearchPath!;
        using var connection = Open();
        using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection) { CommandTimeout = 0 };
        command.ExecuteNonQuery();
        schemas.Remove(schema);
    }

    public void Dispose()
    {
        foreach (var schema in schemas.ToList()) Drop(new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema }.ConnectionString);
        NpgsqlConnection.ClearAllPools();
    }

    private NpgsqlConnection Open()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        return connection;
    }
}
