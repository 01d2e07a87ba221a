using System.Data;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace SemanticCore.Storage.Postgres;

/// <summary>Reads a PostgreSQL index in one REPEATABLE READ, READ ONLY transaction: every table as of its first read.</summary>
internal sealed class PostgresSnapshot : IIndexSnapshot
{
    private readonly NpgsqlConnection connection;
    private readonly NpgsqlTransaction transaction;

    public PostgresSnapshot(NpgsqlConnection connection)
    {
        this.connection = connection;
        transaction = connection.BeginTransaction(IsolationLevel.RepeatableRead);
        PostgresSql.Execute(connection, "SET TRANSACTION READ ONLY");
    }

    public IndexRowCounts Count()
    {
        using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM settings), (SELECT count(*) FROM documents), (SELECT count(*) FROM batch_jobs),
                   (SELECT count(*) FROM chunks), (SELECT count(*) FROM chunk_vectors), (SELECT count(*) FROM batch_job_removed_chunks),
                   (SELECT count(*) FROM batch_job_former_chunks), (SELECT count(*) FROM spend)
            """, connection);
        using var r = command.ExecuteReader();
        r.Read();
        return new IndexRowCounts(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7));
    }

    public IndexRows Rows() => new(
        Read("SELECT key, value FROM settings ORDER BY key", r => new SettingRow(r.GetString(0), r.GetString(1))),
        Read("SELECT id, source_path, title, content_hash, metadata::text, created_at, updated_at FROM documents ORDER BY id",
            r => new DocumentRow(r.GetInt64(0), r.GetString(1), Text(r, 2), r.GetString(3), Text(r, 4), r.GetDateTime(5), r.GetDateTime(6))),
        Read("""
            SELECT id, remote_name, status, provider, model, dimensions, input_file, output_file, request_count, succeeded_count, failed_count,
                   retried_count, token_count, stats::text, error_message, remote_files_left, created_at, submitted_at, completed_at, updated_at
            FROM batch_jobs ORDER BY id
            """,
            r => new BatchJobRow(r.GetString(0), Text(r, 1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt32(5), Text(r, 6), Text(r, 7),
                r.GetInt32(8), r.GetInt32(9), r.GetInt32(10), r.GetInt32(11), r.GetInt64(12), Text(r, 13), Text(r, 14), r.GetBoolean(15),
                r.GetDateTime(16), OptionalTime(r, 17), OptionalTime(r, 18), r.GetDateTime(19))),
        Read("""
            SELECT id, document_id, ordinal, content, chunk_type, language, metadata::text, content_hash, embedding_status, batch_job_id,
                   error_message, retry_count, created_at, updated_at
            FROM chunks ORDER BY id
            """,
            r => new ChunkRow(r.GetInt64(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.GetInt32(2), r.GetString(3), Text(r, 4), Text(r, 5), Text(r, 6),
                Text(r, 7), r.GetString(8), Text(r, 9), Text(r, 10), r.GetInt32(11), OptionalTime(r, 12), OptionalTime(r, 13))),
        Read("SELECT chunk_id, model, dimensions, embedding, created_at FROM chunk_vectors ORDER BY chunk_id",
            r => new VectorRow(r.GetInt64(0), r.GetString(1), r.GetInt32(2), r.GetFieldValue<Vector>(3).ToArray(), r.GetDateTime(4))),
        Read("SELECT batch_job_id, chunk_id, removed_at FROM batch_job_removed_chunks ORDER BY batch_job_id, chunk_id",
            r => new RemovedChunkRow(r.GetString(0), r.GetInt64(1), r.GetDateTime(2))),
        Read("SELECT batch_job_id, chunk_id FROM batch_job_former_chunks ORDER BY batch_job_id, chunk_id",
            r => new FormerChunkRow(r.GetString(0), r.GetInt64(1))),
        Read("SELECT id, at, kind, model, tokens, cost, interactive_cost, batch_job_id FROM spend ORDER BY id",
            r => new SpendRow(r.GetInt64(0), r.GetDateTime(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.IsDBNull(5) ? null : r.GetDouble(5),
                r.IsDBNull(6) ? null : r.GetDouble(6), Text(r, 7))));

    public void Dispose() => transaction.Dispose();

    private IEnumerable<T> Read<T>(string sql, Func<NpgsqlDataReader, T> row)
    {
        using var command = new NpgsqlCommand(sql, connection);
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return row(reader);
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTime? OptionalTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetDateTime(i);
}

/// <summary>
/// Writes whole tables into a PostgreSQL index in one transaction, each by binary COPY (settings by upsert), and moves the
/// identity sequences past the ids written so that new rows never collide with copied ones.
/// </summary>
internal sealed class PostgresBulkWriter : IIndexBulkWriter
{
    private readonly NpgsqlConnection connection;
    private readonly NpgsqlTransaction transaction;

    public PostgresBulkWriter(NpgsqlConnection connection)
    {
        this.connection = connection;
        transaction = connection.BeginTransaction();
    }

    public bool IsEmpty() =>
        !(bool)PostgresSql.Scalar(connection, "SELECT EXISTS (SELECT 1 FROM documents) OR EXISTS (SELECT 1 FROM chunks) OR EXISTS (SELECT 1 FROM batch_jobs)")!;

    public void Write(IndexRows rows)
    {
        foreach (var setting in rows.Settings)
        {
            PostgresSql.Execute(connection, "INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                ("key", setting.Key), ("value", setting.Value));
        }

        Copy("documents (id, source_path, title, content_hash, metadata, created_at, updated_at)", rows.Documents, (w, d) =>
        {
            w.Write(d.Id, NpgsqlDbType.Bigint);
            w.Write(d.SourcePath, NpgsqlDbType.Text);
            Field(w, d.Title, NpgsqlDbType.Text);
            w.Write(d.ContentHash, NpgsqlDbType.Text);
            Field(w, d.Metadata, NpgsqlDbType.Jsonb);
            w.Write(Utc(d.CreatedAt), NpgsqlDbType.TimestampTz);
            w.Write(Utc(d.UpdatedAt), NpgsqlDbType.TimestampTz);
        });
        Copy("""
            batch_jobs (id, remote_name, status, provider, model, dimensions, input_file, output_file, request_count, succeeded_count,
                failed_count, retried_count, token_count, stats, error_message, remote_files_left, created_at, submitted_at, completed_at, updated_at)
            """, rows.Jobs, (w, j) =>
        {
            w.Write(j.Id, NpgsqlDbType.Text);
            Field(w, j.RemoteName, NpgsqlDbType.Text);
            w.Write(j.Status, NpgsqlDbType.Text);
            w.Write(j.Provider, NpgsqlDbType.Text);
            w.Write(j.Model, NpgsqlDbType.Text);
            w.Write(j.Dimensions, NpgsqlDbType.Integer);
            Field(w, j.InputFile, NpgsqlDbType.Text);
            Field(w, j.OutputFile, NpgsqlDbType.Text);
            w.Write(j.RequestCount, NpgsqlDbType.Integer);
            w.Write(j.SucceededCount, NpgsqlDbType.Integer);
            w.Write(j.FailedCount, NpgsqlDbType.Integer);
            w.Write(j.RetriedCount, NpgsqlDbType.Integer);
            w.Write(j.TokenCount, NpgsqlDbType.Bigint);
            Field(w, j.Stats, NpgsqlDbType.Jsonb);
            Field(w, j.ErrorMessage, NpgsqlDbType.Text);
            w.Write(j.RemoteFilesLeft, NpgsqlDbType.Boolean);
            w.Write(Utc(j.CreatedAt), NpgsqlDbType.TimestampTz);
            Field(w, Utc(j.SubmittedAt), NpgsqlDbType.TimestampTz);
            Field(w, Utc(j.CompletedAt), NpgsqlDbType.TimestampTz);
            w.Write(Utc(j.UpdatedAt), NpgsqlDbType.TimestampTz);
        });
        Copy("""
            chunks (id, document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, batch_job_id,
                error_message, retry_count, created_at, updated_at)
            """, rows.Chunks, (w, c) =>
        {
            w.Write(c.Id, NpgsqlDbType.Bigint);
            Field(w, c.DocumentId, NpgsqlDbType.Bigint);
            w.Write(c.Ordinal, NpgsqlDbType.Integer);
            w.Write(c.Content, NpgsqlDbType.Text);
            Field(w, c.ChunkType, NpgsqlDbType.Text);
            Field(w, c.Language, NpgsqlDbType.Text);
            Field(w, c.Metadata, NpgsqlDbType.Jsonb);
            Field(w, c.ContentHash, NpgsqlDbType.Text);
            w.Write(c.Status, NpgsqlDbType.Text);
            Field(w, c.BatchJobId, NpgsqlDbType.Text);
            Field(w, c.ErrorMessage, NpgsqlDbType.Text);
            w.Write(c.RetryCount, NpgsqlDbType.Integer);
            Field(w, Utc(c.CreatedAt), NpgsqlDbType.TimestampTz);
            Field(w, Utc(c.UpdatedAt), NpgsqlDbType.TimestampTz);
        });
        Copy("chunk_vectors (chunk_id, model, dimensions, embedding, created_at)", rows.Vectors, (w, v) =>
        {
            w.Write(v.ChunkId, NpgsqlDbType.Bigint);
            w.Write(v.Model, NpgsqlDbType.Text);
            w.Write(v.Dimensions, NpgsqlDbType.Integer);
            w.Write(new Vector(v.Vector), "vector");
            w.Write(Utc(v.CreatedAt), NpgsqlDbType.TimestampTz);
        });
        Copy("batch_job_removed_chunks (batch_job_id, chunk_id, removed_at)", rows.RemovedChunks, (w, r) =>
        {
            w.Write(r.BatchJobId, NpgsqlDbType.Text);
            w.Write(r.ChunkId, NpgsqlDbType.Bigint);
            w.Write(Utc(r.RemovedAt), NpgsqlDbType.TimestampTz);
        });
        Copy("batch_job_former_chunks (batch_job_id, chunk_id)", rows.FormerChunks, (w, f) =>
        {
            w.Write(f.BatchJobId, NpgsqlDbType.Text);
            w.Write(f.ChunkId, NpgsqlDbType.Bigint);
        });
        Copy("spend (id, at, kind, model, tokens, cost, interactive_cost, batch_job_id)", rows.Spend, (w, s) =>
        {
            w.Write(s.Id, NpgsqlDbType.Bigint);
            w.Write(Utc(s.At), NpgsqlDbType.TimestampTz);
            w.Write(s.Kind, NpgsqlDbType.Text);
            w.Write(s.Model, NpgsqlDbType.Text);
            w.Write(s.Tokens, NpgsqlDbType.Bigint);
            Field(w, s.Cost, NpgsqlDbType.Double);
            Field(w, s.InteractiveCost, NpgsqlDbType.Double);
            Field(w, s.BatchJobId, NpgsqlDbType.Text);
        });

        foreach (var table in (string[])["documents", "chunks", "spend"])
        {
            // Past the largest id copied, so the next row the identity generates is new; untouched when none was copied.
            PostgresSql.Execute(connection, $"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table} HAVING max(id) IS NOT NULL");
        }
    }

    public void Commit() => transaction.Commit();

    public void Dispose() => transaction.Dispose();

    /// <summary>Copies the rows into <paramref name="table"/> (its name and column list) by binary COPY, one row per <paramref name="write"/>.</summary>
    private void Copy<T>(string table, IEnumerable<T> rows, Action<NpgsqlBinaryImporter, T> write)
    {
        using var import = connection.BeginBinaryImport($"COPY {table} FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            import.StartRow();
            write(import, row);
        }

        import.Complete();
    }

    private static void Field<T>(NpgsqlBinaryImporter import, T? value, NpgsqlDbType type)
        where T : struct
    {
        if (value is { } present) import.Write(present, type);
        else import.WriteNull();
    }

    private static void Field(NpgsqlBinaryImporter import, string? value, NpgsqlDbType type)
    {
        if (value is null) import.WriteNull();
        else import.Write(value, type);
    }

    private static DateTime Utc(DateTime value) => DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static DateTime? Utc(DateTime? value) => value is { } time ? Utc(time) : null;
}
