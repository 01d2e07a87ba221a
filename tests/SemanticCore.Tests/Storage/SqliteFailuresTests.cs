using Microsoft.Data.Sqlite;
using SemanticCore.Storage;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Tests.Storage;

/// <summary>SQLite's own failures, produced for real, map to the documented ErrorIds.</summary>
public sealed class SqliteFailuresTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("semanticcore-sqlite-").FullName;

    private SqliteConnection Open(string name)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, name), Pooling = false, DefaultTimeout = 1 }.ToString());
        connection.Open();
        return connection;
    }

    private static void Run(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void A_write_lock_held_by_another_connection_is_IndexLocked()
    {
        using var holder = Open("locked.db");
        Run(holder, "PRAGMA journal_mode = WAL; CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);");
        using var writer = Open("locked.db");
        Run(writer, "PRAGMA busy_timeout = 0");

        var ex = Assert.Throws<SqliteException>(() => Run(writer, "INSERT INTO t VALUES (2)"));
        var mapped = SqliteFailures.Map(ex, "locked.db", "DatabaseWriteFailed");

        Assert.Equal("IndexLocked", mapped.ErrorId);
        Assert.Equal(FailureKind.ResourceUnavailable, mapped.Kind);
        Assert.Contains("30 s", mapped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_file_is_IndexCorrupt_and_anything_else_keeps_the_callers_ErrorId()
    {
        var path = Path.Combine(folder, "damaged.db");
        using (var connection = Open("damaged.db")) Run(connection, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
        var bytes = File.ReadAllBytes(path);
        Array.Fill(bytes, (byte)0x5A, 100, bytes.Length - 100); // the header stays: SQLite opens it, then finds garbage
        File.WriteAllBytes(path, bytes);

        using var damaged = Open("damaged.db");
        var corrupt = Assert.Throws<SqliteException>(() => Run(damaged, "SELECT * FROM t"));
        Assert.Equal("IndexCorrupt", SqliteFailures.Map(corrupt, path, "IndexReadFailed").ErrorId);

        using var healthy = Open("healthy.db");
        var syntax = Assert.Throws<SqliteException>(() => Run(healthy, "SELEKT 1"));
        var other = SqliteFailures.Map(syntax, "healthy.db", "IndexReadFailed", FailureKind.ReadError);
        Assert.Equal(("IndexReadFailed", FailureKind.ReadError), (other.ErrorId, other.Kind));
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
