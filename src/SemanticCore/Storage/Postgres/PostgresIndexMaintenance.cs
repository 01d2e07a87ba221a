using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>The health checks' reads of a PostgreSQL index, its backup as a portable SQLite file, and the reads and writes of a copy.</summary>
internal sealed class PostgresIndexMaintenance(NpgsqlConnection connection, PostgresLocation location, IndexSettings settings) : IIndexMaintenance
{
    public IReadOnlyList<long> FailedChunkIds() =>
        Rows("SELECT id FROM chunks WHERE embedding_status = 'Failed' ORDER BY id", r => r.GetInt64(0));

    public IReadOnlyList<long> PendingChunkIdsBefore(DateTimeOffset cutoff) =>
        Rows("SELECT id FROM chunks WHERE embedding_status = 'Pending' AND updated_at < @cutoff ORDER BY id", r => r.GetInt64(0), ("cutoff", cutoff.UtcDateTime));

    public IReadOnlyList<string> ActiveJobIdsBefore(DateTimeOffset cutoff) =>
        Rows("SELECT id FROM batch_jobs WHERE status IN ('Created', 'Submitted', 'Running') AND created_at < @cutoff ORDER BY created_at", r => r.GetString(0),
            ("cutoff", cutoff.UtcDateTime));

    /// <remarks>The keyword document is a column of the chunk, kept by a trigger: a chunk without one was written with the trigger disabled.</remarks>
    public KeywordIndexDrift FindKeywordIndexDrift() => new(
        Rows("SELECT id FROM chunks WHERE search IS NULL ORDER BY id", r => r.GetInt64(0)),
        []);

    /// <remarks>Rows that break the index's own rules: a Ready chunk without a vector, a vector of another dimension than the index's.</remarks>
    public IntegrityReport CheckIntegrity() => new("Consistency of chunks and vectors",
        [.. Rows("""
            SELECT 'Chunk ' || c.id || ' is Ready without a vector' FROM chunks c
            WHERE c.embedding_status = 'Ready' AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id)
            UNION ALL
            SELECT 'Vector of chunk ' || v.chunk_id || ' has ' || vector_dims(v.embedding) || ' dimensions, not ' || v.dimensions FROM chunk_vectors v
            WHERE vector_dims(v.embedding) <> v.dimensions
            ORDER BY 1 LIMIT 100
            """, r => r.GetString(0))]);

    /// <remarks>The copy is a new SQLite index, written through the same copy as Copy-SemanticIndex: portable to any host.</remarks>
    public BackupCounts WriteCopy(string file)
    {
        var (_, counts, version) = IndexCopy.CopyInto(this, settings, location.DisplayName, file, progress: null);
        return new BackupCounts(counts.Documents, counts.Chunks, counts.Vectors, version);
    }

    public IIndexSnapshot ReadSnapshot() => new PostgresSnapshot(connection);

    public IIndexBulkWriter BeginBulkWrite() => new PostgresBulkWriter(connection);

    private List<T> Rows<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }
}
