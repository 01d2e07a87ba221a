using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage.Sqlite;

/// <summary>One-statement helpers: a command with named parameters (null becomes SQL NULL), run once.</summary>
internal static class Sql
{
    public static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Create(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Create(connection, sql, parameters);
        return command.ExecuteScalar();
    }

    private static SqliteCommand Create(SqliteConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}

/// <summary>A larger SQLite page cache for one connection, for the duration of a bulk write; disposing restores the previous size.</summary>
internal sealed class PageCache : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly long previous;

    private PageCache(SqliteConnection connection, long previous)
    {
        this.connection = connection;
        this.previous = previous;
    }

    public static PageCache Enlarge(SqliteConnection connection, long bytes)
    {
        var previous = Convert.ToInt64(Sql.Scalar(connection, "PRAGMA cache_size"));
        Sql.Execute(connection, $"PRAGMA cache_size = -{bytes / 1024}"); // negative: KiB, whatever the page size
        return new PageCache(connection, previous);
    }

    public void Dispose() => Sql.Execute(connection, $"PRAGMA cache_size = {previous}");
}

