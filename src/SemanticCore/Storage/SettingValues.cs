using Microsoft.Data.Sqlite;

using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Storage;

/// <summary>Values an index keeps for every process and host in its <c>settings</c> table, by key.</summary>
internal static class SettingValues
{
    /// <summary>The value of <paramref name="key"/>, or null when none is recorded.</summary>
    public static string? Get(SqliteConnection connection, string key) =>
        Sql.Scalar(connection, "SELECT value FROM settings WHERE key = $key", ("$key", key)) as string;

    /// <summary>Records <paramref name="value"/> under <paramref name="key"/>; null removes the key.</summary>
    public static void Set(SqliteConnection connection, string key, string? value)
    {
        if (value is null) Sql.Execute(connection, "DELETE FROM settings WHERE key = $key", ("$key", key));
        else Sql.Execute(connection, "INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value", ("$key", key), ("$value", value));
    }
}
