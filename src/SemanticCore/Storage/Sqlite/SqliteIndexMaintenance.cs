using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage.Sqlite;

/// <summary>The health checks' reads and the backup copy of an SQLite index (the copy through SQLite's online backup).</summary>
internal sealed class SqliteIndexMaintenance(SqliteConnection connection) : IIndexMaintenance
{
    public IReadOnlyList<long> FailedChunkIds() =>
        Rows("SELECT id FROM chunks WHERE embedding_status = 'Failed' ORDER BY id", r => r.GetInt64(0));

    public IReadOnlyList<long> PendingChunkIdsBefore(DateTimeOffset cutoff) =>
        Rows("SELECT id FROM chunks WHERE embedding_status = 'Pending' AND updated_at < $cutoff ORDER BY id", r => r.GetInt64(0),
            ("$cutoff", Timestamps.ToText(cutoff)));

    public IReadOnlyList<string> ActiveJobIdsBefore(DateTimeOffset cutoff) =>
        Rows("SELECT id FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running') AND created_at < $cutoff ORDER BY created_at", r => r.GetString(0),
            ("$cutoff", Timestamps.ToText(cutoff)));

    /// <remarks>The keyword index has one entry per chunk (its docsize row).</remarks>
    public KeywordIndexDrift FindKeywordIndexDrift() => new(
        Rows("SELECT id FROM chunks WHERE id NOT IN (SELECT id FROM chunks_fts_docsize) ORDER BY id", r => r.GetInt64(0)),
        Rows("SELECT id FROM chunks_fts_docsize WHERE id NOT IN (SELECT id FROM chunks) ORDER BY id", r => r.GetInt64(0)));

    /// <remarks>PRAGMA integrity_check answers one row, 'ok', for an intact file.</remarks>
    public IntegrityReport CheckIntegrity()
    {
        var rows = Rows("PRAGMA integrity_check", r => r.GetString(0));
        return new IntegrityReport("PRAGMA integrity_check", rows is ["ok"] ? [] : rows);
    }

    public BackupCounts WriteCopy(string file)
    {
        try
        {
            using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Pooling = false }.ToString());
            copy.Open();
            connection.BackupDatabase(copy);
            // A standalone file: no WAL beside it, whatever mode the source is in.
            Sql.Execute(copy, "PRAGMA journal_mode = DELETE");
            return new BackupCounts((long)Sql.Scalar(copy, "SELECT COUNT(*) FROM documents")!, (long)Sql.Scalar(copy, "SELECT COUNT(*) FROM chunks")!,
                (long)Sql.Scalar(copy, "SELECT COUNT(*) FROM chunk_vectors")!, (int)(long)Sql.Scalar(copy, "PRAGMA user_version")!);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteFailures.CantOpen)
        {
            // SQLite's own text ("unable to open database file") names neither the file nor the cause.
            throw new IOException($"no file can be created in '{Path.GetDirectoryName(Path.GetFullPath(file))}'.", ex);
        }
    }

    public IIndexSnapshot ReadSnapshot() => new SqliteSnapshot(connection);

    public IIndexBulkWriter BeginBulkWrite() => new SqliteBulkWriter(connection);

    private List<T> Rows<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }
}
