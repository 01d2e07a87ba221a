using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>Direct access to an index file, to assert on what the module stored (this process's own SQLite).</summary>
public static class Db
{
    public static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static T Scalar<T>(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T));
    }

    public static void Execute(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static List<object?[]> Rows(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
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
