using Microsoft.Data.Sqlite;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>
/// An index file as a whole (the .db with its -wal): checkpoint, copy, size, delete; and plain connections to it.
/// Runs that change an index each start from a copy of one prepared file, so every run starts from the same state.
/// </summary>
internal static class IndexFile
{
    /// <summary>A connection of the bench's own (unpooled, so the file is closed with it).</summary>
    public static SqliteConnection Connect(string path, bool readOnly = false)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>Moves everything in the -wal into the .db and empties the -wal: the .db alone is then the whole index.</summary>
    public static void Checkpoint(string path)
    {
        using var connection = Connect(path);
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
    }

    /// <summary>Copies a checkpointed, closed index to <paramref name="target"/>, replacing whatever was there.</summary>
    public static void Copy(string source, string target)
    {
        Delete(target);
        File.Copy(source, target);
        var wal = source + "-wal";
        if (File.Exists(wal) && new FileInfo(wal).Length > 0) File.Copy(wal, target + "-wal");
    }

    public static void Delete(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm" }) File.Delete(file);
    }

    /// <summary>The .db and its -wal.</summary>
    public static long Bytes(string path) => new[] { path, path + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

    public static object? Scalar(string path, string sql)
    {
        using var connection = Connect(path, readOnly: true);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Rows of (text, count), e.g. chunks per embedding status.</summary>
    public static Dictionary<string, long> Counts(string path, string sql)
    {
        using var connection = Connect(path, readOnly: true);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read()) counts[reader.IsDBNull(0) ? "(null)" : reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
