using Microsoft.Data.Sqlite;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Search;

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
    public static long Read(SqliteConnection connection, IndexSettings settings, Visitor visit, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT c.id, c.document_id, c.chunk_type, c.language, v.vector {FromWhere} ORDER BY c.id";
        foreach (var (name, value) in Parameters(settings)) command.Parameters.AddWithValue(name, value);
        var bytes = new byte[settings.Dimensions * sizeof(float)];
        var vector = new float[settings.Dimensions];
        var languages = new Dictionary<string, string>(StringComparer.Ordinal); // one string per distinct language
        long visited = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if ((visited & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            // A BLOB of another length is not a vector of this dimension: never scored.
            if (reader.GetBytes(4, 0, null, 0, 0) != bytes.Length) continue;
            reader.GetBytes(4, 0, bytes, 0, bytes.Length);
            Vectors.CopyFromBlob(bytes, vector);
            var language = reader.IsDBNull(3) ? null : Intern(languages, reader.GetString(3));
            var owner = new VectorOwner(reader.GetInt64(0), reader.IsDBNull(1) ? 0 : reader.GetInt64(1),
                ChunkTypeNames.FromStorageName(reader.IsDBNull(2) ? null : reader.GetString(2)), language);
            visit(owner, vector);
            visited++;
        }

        return visited;
    }

    // CROSS JOIN keeps chunks outside: Ready ids in order from ix_chunks_searchable, each vector found by its key.
    private const string FromWhere = """
        FROM chunks c CROSS JOIN chunk_vectors v
        WHERE c.embedding_status = 'Ready' AND v.chunk_id = c.id AND v.model = $model AND v.dimensions = $dimensions
        """;

    private static (string, object?)[] Parameters(IndexSettings settings) => [("$model", settings.Model), ("$dimensions", settings.Dimensions)];

    private static string Intern(Dictionary<string, string> strings, string value)
    {
        if (strings.TryGetValue(value, out var existing)) return existing;
        strings[value] = value;
        return value;
    }
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
    public long Score(ReadOnlySpan<float> query, SearchFilter filter, TopScores scores)
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
        if (slot == 0) blocks.Add(new float[VectorsPerBlock * Dimensions]);
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
