using System.Data.Common;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// Direct access to an index, to assert on what the module stored: an SQLite file (this process's own SQLite), or a
/// PostgreSQL index when the -Database string is a connection string (its Search Path names the index's schema).
/// </summary>
public static class Db
{
    /// <summary>True when <paramref name="database"/> is a PostgreSQL connection string rather than a file path.</summary>
    public static bool IsPostgres(string database) => database.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    public static DbConnection Open(string database)
    {
        DbConnection connection = IsPostgres(database)
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Pooling = false }.ToString())
            : new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static T Scalar<T>(string database, string sql)
    {
        using var connection = Open(database);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T));
    }

    public static void Execute(string database, string sql)
    {
        using var connection = Open(database);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static List<object?[]> Rows(string database, string sql)
    {
        using var connection = Open(database);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            // PostgreSQL's integer columns read as int; SQLite reads every integer as long, which the tests expect.
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i) is int number ? (long)number : reader.GetValue(i);
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// The bytes of the database and its WAL, to prove that nothing was written. An empty WAL is the
    /// same as none: a reader of a WAL database creates one, and a read-only reader cannot remove it.
    /// </summary>
    public static string FileState(string path) => string.Join("|",
        new[] { path, path + "-wal" }.Select(p => File.Exists(p) && new FileInfo(p).Length > 0 ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "-"));
}
