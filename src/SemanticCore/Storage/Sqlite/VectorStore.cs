using Microsoft.Data.Sqlite;
using SemanticCore.Embedding;

namespace SemanticCore.Storage.Sqlite;

/// <summary>The SQL of chunk vectors: float32 little-endian BLOBs, with the model and dimension that made them.</summary>
internal static class VectorStore
{
    /// <summary>A prepared insert (or replace) of one chunk's vector, for <see cref="Insert"/>; the caller holds the transaction.</summary>
    public static SqliteCommand CreateInsert(SqliteConnection connection, IndexSettings settings, string now)
    {
        var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO chunk_vectors (chunk_id, model, dimensions, vector, created_at)
            VALUES ($chunk, $model, $dimensions, $vector, $now)
            ON CONFLICT (chunk_id) DO UPDATE SET model = excluded.model, dimensions = excluded.dimensions,
                vector = excluded.vector, created_at = excluded.created_at
            """;
        command.Parameters.AddWithValue("$model", settings.Model);
        command.Parameters.AddWithValue("$dimensions", settings.Dimensions);
        command.Parameters.AddWithValue("$now", now);
        command.Parameters.Add("$chunk", SqliteType.Integer);
        command.Parameters.Add("$vector", SqliteType.Blob);
        return command;
    }

    /// <summary>Stores one chunk's vector with a command from <see cref="CreateInsert"/>.</summary>
    public static void Insert(SqliteCommand command, long chunkId, float[] vector)
    {
        command.Parameters["$chunk"].Value = chunkId;
        var blob = command.Parameters["$vector"];
        // One buffer per command: SQLite copies the bound BLOB, so it can be refilled for the next row.
        if (blob.Value is not byte[] buffer || buffer.Length != vector.Length * sizeof(float)) blob.Value = buffer = new byte[vector.Length * sizeof(float)];
        Vectors.CopyToBlob(vector, buffer);
        command.ExecuteNonQuery();
    }
}
