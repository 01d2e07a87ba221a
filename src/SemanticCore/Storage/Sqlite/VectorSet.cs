using System.Text;
using Microsoft.Data.Sqlite;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Search;
using SQLitePCL;

namespace SemanticCore.Storage.Sqlite;

/// <summary>What a stored vector belongs to: enough to filter it without touching the file.</summary>
internal readonly record struct VectorOwner(long ChunkId, long DocumentId, ChunkType ChunkType, string? Language);

/// <summary>
/// The searchable vectors of an index (Ready chunks, the index's model and dimension) read from the
/// file: streamed one at a time into a reused buffer, or held in memory by <see cref="VectorSet"/>.
/// </summary>
internal static class VectorRows
{
    public delegate void Visitor(in VectorOwner owner, ReadOnlySpan<float> vector);

    public static bool Any(SqliteConnection connection, IndexSettings settings) =>
        (long)Sql.Scalar(connection, $"SELECT EXISTS (SELECT 1 {FromWhere})", Parameters(settings))! != 0;

    /// <summary>Calls <paramref name="visit"/> for each vector in chunk id order; returns how many it visited.</summary>
    /// <remarks>
    /// Reads through SQLite's own statement API: each BLOB is seen in place (sqlite3_column_blob), where
    /// ADO.NET's GetBytes would first copy it into a new array per row (400 MB per query at 100,000 × 768).
    /// </remarks>
    public static long Read(SqliteConnection connection, IndexSettings settings, Visitor visit, CancellationToken cancellationToken)
    {
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, $"SELECT c.id, c.document_id, c.chunk_type, c.language, v.vector {FromWhere} ORDER BY c.id", out var statement));
        using (statement)
        {
            Check(db, raw.sqlite3_bind_text(statement, raw.sqlite3_bind_parameter_index(statement, "$model"), settings.Model));
            Check(db, raw.sqlite3_bind_int(statement, raw.sqlite3_bind_parameter_index(statement, "$dimensions"), settings.Dimensions));
            var vector = new float[settings.Dimensions];
            var bytes = settings.Dimensions * sizeof(float);
            var names = new List<(byte[] Utf8, string Text)>(); // one string per distinct type or language
            long visited = 0;
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                if ((visited & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
                var blob = raw.sqlite3_column_blob(statement, 4);
                // A BLOB of another length is not a vector of this dimension: never scored.
                if (blob.Length != bytes) continue;
                Vectors.CopyFromBlob(blob, vector);
                var owner = new VectorOwner(
                    raw.sqlite3_column_int64(statement, 0),
                    raw.sqlite3_column_type(statement, 1) == raw.SQLITE_NULL ? 0 : raw.sqlite3_column_int64(statement, 1),
                    ChunkTypeNames.FromStorageName(Text(statement, 2, names)),
                    Text(statement, 3, names));
                visit(owner, vector);
                visited++;
            }

            if (rc != raw.SQLITE_DONE) Check(db, rc);
            return visited;
        }
    }

    /// <summary>A text column as a shared string (these columns hold a handful of distinct values), null for NULL.</summary>
    private static string? Text(sqlite3_stmt statement, int column, List<(byte[] Utf8, string Text)> names)
    {
        if (raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL) return null;
        var utf8 = raw.sqlite3_column_blob(statement, column);
        foreach (var name in names)
        {
            if (utf8.SequenceEqual(name.Utf8)) return name.Text;
        }

        var text = Encoding.UTF8.GetString(utf8);
        names.Add((utf8.ToArray(), text));
        return text;
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE)) throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
    }

    // CROSS JOIN keeps chunks outside: Ready ids in order from ix_chunks_searchable, each vector found by its key.
    private const string FromWhere = """
        FROM chunks c CROSS JOIN chunk_vectors v
        WHERE c.embedding_status = 'Ready' AND v.chunk_id = c.id AND v.model = $model AND v.dimensions = $dimensions
        """;

    private static (string, object?)[] Parameters(IndexSettings settings) => [("$model", settings.Model), ("$dimensions", settings.Dimensions)];
}

/// <summary>
/// The searchable vectors of an index held in memory (float32, in blocks so no single array grows past
/// what the runtime allows), as of one data version of the file.
/// </summary>
internal sealed class VectorSet
{
    private const int VectorsPerBlock = 4_096;

    private readonly List<float[]> blocks = [];
    private readonly List<VectorOwner> owners = [];

    private VectorSet(long version, int dimensions)
    {
        Version = version;
        Dimensions = dimensions;
    }

    public long Version { get; }
    public int Dimensions { get; }
    public int Count => owners.Count;
    /// <summary>Memory held: the floats and what each vector belongs to.</summary>
    public long Bytes => blocks.Sum(b => (long)b.Length * sizeof(float)) + (long)owners.Capacity * 32;

    /// <summary>Reads every searchable vector in one read transaction, so the data version read is the one of the vectors read.</summary>
    public static VectorSet Load(SqliteConnection connection, IndexSettings settings, CancellationToken cancellationToken)
    {
        using var snapshot = connection.BeginTransaction(deferred: true);
        var set = new VectorSet(DataVersion.Read(connection), settings.Dimensions);
        VectorRows.Read(connection, settings, set.Add, cancellationToken);
        snapshot.Commit();
        set.TrimLastBlock();
        return set;
    }

    /// <summary>Offers every vector the filter allows to <paramref name="scores"/>; returns how many were scored.</summary>
    public long Score(ReadOnlySpan<float> query, SqliteSearchFilter filter, TopScores scores)
    {
        long scored = 0;
        for (var i = 0; i < owners.Count; i++)
        {
            var owner = owners[i];
            if (!filter.Allows(owner.DocumentId, owner.ChunkType, owner.Language)) continue;
            scores.Offer(owner.ChunkId, System.Numerics.Tensors.TensorPrimitives.Dot(query, Vector(i)));
            scored++;
        }

        return scored;
    }

    private ReadOnlySpan<float> Vector(int i) =>
        blocks[i / VectorsPerBlock].AsSpan(i % VectorsPerBlock * Dimensions, Dimensions);

    private void Add(in VectorOwner owner, ReadOnlySpan<float> vector)
    {
        var slot = owners.Count % VectorsPerBlock;
        // Every float of a block is written before it is read: no need to zero it first.
        if (slot == 0) blocks.Add(GC.AllocateUninitializedArray<float>(VectorsPerBlock * Dimensions));
        vector.CopyTo(blocks[^1].AsSpan(slot * Dimensions));
        owners.Add(owner);
    }

    private void TrimLastBlock()
    {
        owners.TrimExcess();
        var used = owners.Count % VectorsPerBlock;
        if (used == 0) return;
        var last = blocks[^1];
        Array.Resize(ref last, used * Dimensions);
        blocks[^1] = last;
    }
}

/// <summary>The 'vectors' data version of an index: it changes whenever its searchable vectors may have (schema version 2 triggers).</summary>
internal static class DataVersion
{
    public static long Read(SqliteConnection connection) =>
        Convert.ToInt64(Sql.Scalar(connection, "SELECT version FROM data_versions WHERE name = 'vectors'") ?? 0L);
}
