using Microsoft.Data.Sqlite;
using SemanticCore.Embedding;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// Reads an SQLite index in one read transaction: in WAL mode it sees the file as of its first read, while other
/// connections keep writing.
/// </summary>
internal sealed class SqliteSnapshot : IIndexSnapshot
{
    private readonly SqliteConnection connection;
    private readonly SqliteTransaction transaction;

    public SqliteSnapshot(SqliteConnection connection)
    {
        this.connection = connection;
        transaction = connection.BeginTransaction(deferred: true);
    }

    public IndexRowCounts Count()
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) FROM settings), (SELECT count(*) FROM documents), (SELECT count(*) FROM batch_jobs),
                   (SELECT count(*) FROM chunks), (SELECT count(*) FROM chunk_vectors), (SELECT count(*) FROM batch_job_removed_chunks),
                   (SELECT count(*) FROM batch_job_former_chunks), (SELECT count(*) FROM spend)
            """;
        using var r = command.ExecuteReader();
        r.Read();
        return new IndexRowCounts(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7));
    }

    public IndexRows Rows() => new(
        Read("SELECT key, value FROM settings ORDER BY key", r => new SettingRow(r.GetString(0), r.GetString(1))),
        Read("SELECT id, source_path, title, content_hash, metadata, created_at, updated_at FROM documents ORDER BY id",
            r => new DocumentRow(r.GetInt64(0), r.GetString(1), Text(r, 2), r.GetString(3), Text(r, 4), Time(r, 5), Time(r, 6))),
        Read("""
            SELECT id, remote_name, status, provider, model, dimensions, input_file, output_file, request_count, succeeded_count, failed_count,
                   retried_count, token_count, stats, error_message, remote_files_left, created_at, submitted_at, completed_at, updated_at
            FROM batch_jobs ORDER BY id
            """,
            r => new BatchJobRow(r.GetString(0), Text(r, 1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt32(5), Text(r, 6), Text(r, 7),
                r.GetInt32(8), r.GetInt32(9), r.GetInt32(10), r.GetInt32(11), r.GetInt64(12), Text(r, 13), Text(r, 14), r.GetInt64(15) != 0,
                Time(r, 16), OptionalTime(r, 17), OptionalTime(r, 18), Time(r, 19))),
        Read("""
            SELECT id, document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, batch_job_id,
                   error_message, retry_count, created_at, updated_at
            FROM chunks ORDER BY id
            """,
            r => new ChunkRow(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetInt32(2), r.GetString(3), Text(r, 4), Text(r, 5), Text(r, 6),
                Text(r, 7), r.GetString(8), Text(r, 9), Text(r, 10), r.GetInt32(11), OptionalTime(r, 12), OptionalTime(r, 13))),
        Read("SELECT chunk_id, model, dimensions, vector, created_at FROM chunk_vectors ORDER BY chunk_id",
            r => new VectorRow(r.GetInt64(0), r.GetString(1), r.GetInt32(2), Vectors.FromBlob((byte[])r.GetValue(3)), Time(r, 4))),
        Read("SELECT batch_job_id, chunk_id, removed_at FROM batch_job_removed_chunks ORDER BY batch_job_id, chunk_id",
            r => new RemovedChunkRow(r.GetString(0), r.GetInt64(1), Time(r, 2))),
        Read("SELECT batch_job_id, chunk_id FROM batch_job_former_chunks ORDER BY batch_job_id, chunk_id",
            r => new FormerChunkRow(r.GetString(0), r.GetInt64(1))),
        Read("SELECT id, at, kind, model, tokens, cost, interactive_cost, batch_job_id FROM spend ORDER BY id",
            r => new SpendRow(r.GetInt64(0), Time(r, 1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.IsDBNull(5) ? null : r.GetDouble(5),
                r.IsDBNull(6) ? null : r.GetDouble(6), Text(r, 7))));

    public void Dispose() => transaction.Dispose();

    private IEnumerable<T> Read<T>(string sql, Func<SqliteDataReader, T> row)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return row(reader);
    }

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTime Time(SqliteDataReader r, int i) => Timestamps.ParseUtc(Text(r, i));

    private static DateTime? OptionalTime(SqliteDataReader r, int i) => Timestamps.ParseUtcOrNull(Text(r, i));
}

/// <summary>Writes whole tables into an SQLite index in one write transaction, through prepared inserts.</summary>
internal sealed class SqliteBulkWriter : IIndexBulkWriter
{
    private readonly SqliteConnection connection;
    private readonly SqliteTransaction transaction;

    public SqliteBulkWriter(SqliteConnection connection)
    {
        this.connection = connection;
        transaction = connection.BeginTransaction(); // BEGIN IMMEDIATE: no other writer between the check and the copy
    }

    public bool IsEmpty() =>
        (long)Sql.Scalar(connection, "SELECT EXISTS (SELECT 1 FROM documents) OR EXISTS (SELECT 1 FROM chunks) OR EXISTS (SELECT 1 FROM batch_jobs)")! == 0;

    public void Write(IndexRows rows)
    {
        Insert("INSERT OR REPLACE INTO settings (key, value) VALUES ($1, $2)", rows.Settings, s => [s.Key, s.Value]);
        Insert("""
            INSERT INTO documents (id, source_path, title, content_hash, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, rows.Documents, d => [d.Id, d.SourcePath, d.Title, d.ContentHash, d.Metadata, Time(d.CreatedAt), Time(d.UpdatedAt)]);
        Insert("""
            INSERT INTO batch_jobs (id, remote_name, status, provider, model, dimensions, input_file, output_file, request_count, succeeded_count,
                failed_count, retried_count, token_count, stats, error_message, remote_files_left, created_at, submitted_at, completed_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
            """, rows.Jobs, j => [j.Id, j.RemoteName, j.Status, j.Provider, j.Model, j.Dimensions, j.InputFile, j.OutputFile, j.RequestCount,
                j.SucceededCount, j.FailedCount, j.RetriedCount, j.TokenCount, j.Stats, j.ErrorMessage, j.RemoteFilesLeft ? 1 : 0,
                Time(j.CreatedAt), Time(j.SubmittedAt), Time(j.CompletedAt), Time(j.UpdatedAt)]);
        Insert("""
            INSERT INTO chunks (id, document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, batch_job_id,
                error_message, retry_count, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            """, rows.Chunks, c => [c.Id, c.DocumentId, c.Ordinal, c.Content, c.ChunkType, c.Language, c.Metadata, c.ContentHash, c.Status,
                c.BatchJobId, c.ErrorMessage, c.RetryCount, Time(c.CreatedAt), Time(c.UpdatedAt)]);
        Insert("INSERT INTO chunk_vectors (chunk_id, model, dimensions, vector, created_at) VALUES ($1, $2, $3, $4, $5)",
            rows.Vectors, v => [v.ChunkId, v.Model, v.Dimensions, Vectors.ToBlob(v.Vector), Time(v.CreatedAt)]);
        Insert("INSERT INTO batch_job_removed_chunks (batch_job_id, chunk_id, removed_at) VALUES ($1, $2, $3)",
            rows.RemovedChunks, r => [r.BatchJobId, r.ChunkId, Time(r.RemovedAt)]);
        Insert("INSERT INTO batch_job_former_chunks (batch_job_id, chunk_id) VALUES ($1, $2)", rows.FormerChunks, f => [f.BatchJobId, f.ChunkId]);
        Insert("""
            INSERT INTO spend (id, at, kind, model, tokens, cost, interactive_cost, batch_job_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, rows.Spend, s => [s.Id, Time(s.At), s.Kind, s.Model, s.Tokens, s.Cost, s.InteractiveCost, s.BatchJobId]);
    }

    public void Commit() => transaction.Commit();

    public void Dispose() => transaction.Dispose();

    /// <summary>Inserts each row with one prepared command whose parameters $1, $2... take the row's values in order.</summary>
    private void Insert<T>(string sql, IEnumerable<T> rows, Func<T, object?[]> values)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var row in rows)
        {
            var fields = values(row);
            if (command.Parameters.Count == 0)
            {
                for (var i = 0; i < fields.Length; i++) command.Parameters.Add(new SqliteParameter($"${i + 1}", null));
            }

            for (var i = 0; i < fields.Length; i++) command.Parameters[i].Value = fields[i] ?? DBNull.Value;
            command.ExecuteNonQuery();
        }
    }

    private static string? Time(DateTime? value) => value is { } time ? Timestamps.ToText(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
}
