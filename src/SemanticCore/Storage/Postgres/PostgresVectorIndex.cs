using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// The optional HNSW index over an index's vectors (pgvector): built by <c>Update-SemanticSchema -VectorIndex Hnsw</c>,
/// dropped by <c>-VectorIndex None</c>. Without it a semantic search is exact.
/// </summary>
internal static class PostgresVectorIndex
{
    private const string Name = "ix_chunk_vectors_hnsw";

    /// <summary>pgvector's HNSW limits: 2,000 dimensions as vector, 4,000 as halfvec (half precision, half the memory).</summary>
    private const int MaxVectorDimensions = 2000, MaxHalfvecDimensions = 4000;

    /// <summary>The distance a search orders by: the HNSW index's own expression (its cast), so the planner can use it.</summary>
    public static string Distance(IndexSettings settings, string column, string parameter) =>
        $"{column}::{TypeFor(settings)} <#> {parameter}::{TypeFor(settings)}";

    /// <summary>True when the index's schema holds the HNSW index.</summary>
    public static bool Exists(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand($"SELECT to_regclass(quote_ident(current_schema()) || '.{Name}') IS NOT NULL", connection);
        return command.ExecuteScalar() is true;
    }

    /// <summary>Builds the HNSW index (inner product: the vectors are normalized) unless it exists; false when it did.</summary>
    /// <exception cref="SemanticCoreException">VectorIndexUnsupported: more dimensions than pgvector's HNSW takes.</exception>
    public static bool Build(NpgsqlConnection connection, IndexSettings settings, string displayName)
    {
        if (settings.Dimensions > MaxHalfvecDimensions)
        {
            throw new SemanticCoreException("VectorIndexUnsupported", FailureKind.InvalidOperation,
                $"The index '{displayName}' has {settings.Dimensions} dimensions; pgvector's HNSW takes at most {MaxHalfvecDimensions:N0}. Searches stay exact.");
        }

        if (Exists(connection)) return false;
        var type = TypeFor(settings);
        // No timeout: building over a million vectors takes minutes; maintenance_work_mem decides how much fits in memory.
        using var command = new NpgsqlCommand(
            $"CREATE INDEX IF NOT EXISTS {Name} ON chunk_vectors USING hnsw ((embedding::{type}) {(type.StartsWith("half", StringComparison.Ordinal) ? "halfvec" : "vector")}_ip_ops)",
            connection)
        { CommandTimeout = 0 };
        command.ExecuteNonQuery();
        return true;
    }

    /// <summary>Drops the HNSW index; false when there was none.</summary>
    public static bool Drop(NpgsqlConnection connection)
    {
        if (!Exists(connection)) return false;
        using var command = new NpgsqlCommand($"DROP INDEX IF EXISTS {Name}", connection);
        command.ExecuteNonQuery();
        return true;
    }

    private static string TypeFor(IndexSettings settings) => settings.Dimensions <= MaxVectorDimensions
        ? $"vector({settings.Dimensions})"
        : $"halfvec({settings.Dimensions})";
}
