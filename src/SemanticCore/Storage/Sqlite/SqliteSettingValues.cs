using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage.Sqlite;

/// <summary>Setting values in the index's <c>settings</c> table; on the connection's transaction when one is open.</summary>
internal sealed class SqliteSettingValues(SqliteConnection connection) : ISettingValues
{
    public string? Get(string key) =>
        Sql.Scalar(connection, "SELECT value FROM settings WHERE key = $key", ("$key", key)) as string;

    public void Set(string key, string? value)
    {
        if (value is null) Sql.Execute(connection, "DELETE FROM settings WHERE key = $key", ("$key", key));
        else Sql.Execute(connection, "INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value", ("$key", key), ("$value", value));
    }
}
