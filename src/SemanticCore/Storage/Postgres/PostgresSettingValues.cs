using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>Setting values in the index's <c>settings</c> table; on the connection's transaction when one is open.</summary>
internal sealed class PostgresSettingValues(NpgsqlConnection connection, string displayName) : ISettingValues
{
    public string? Get(string key) =>
        PostgresSql.Scalar(connection, "SELECT value FROM settings WHERE key = @key", ("key", key)) as string;

    public void Set(string key, string? value) => PostgresSql.Write(displayName, () =>
    {
        if (value is null) PostgresSql.Execute(connection, "DELETE FROM settings WHERE key = @key", ("key", key));
        else PostgresSql.Execute(connection, "INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value", ("key", key), ("value", value));
    });
}
