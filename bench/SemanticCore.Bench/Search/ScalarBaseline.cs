using Microsoft.Data.Sqlite;

namespace SemanticCore.Bench.Search;

/// <summary>
/// The baseline the core's semantic search is compared with: what a plain first implementation does. Per query
/// it reads every Ready vector with one SELECT, each BLOB as a new byte[] (GetFieldValue&lt;byte[]&gt;), converts it
/// to a new float[], scores it with a scalar dot product, collects every score in a list, sorts it and takes
/// the top k. No SIMD (System.Numerics.Tensors), no cache, no bounded heap. Ties: chunk id ascending, as the core.
/// </summary>
internal sealed class ScalarBaseline : IDisposable
{
    private readonly SqliteConnection connection;

    public ScalarBaseline(string databasePath)
    {
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
    }

    public List<(long Id, float Score)> Search(float[] query, int top)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT v.chunk_id, v.vector FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.embedding_status = 'Ready'";
        var scores = new List<(long Id, float Score)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                var blob = reader.GetFieldValue<byte[]>(1);
                var vector = new float[blob.Length / sizeof(float)];
                for (var i = 0; i < vector.Length; i++) vector[i] = BitConverter.ToSingle(blob, i * sizeof(float));
                var dot = 0f;
                for (var i = 0; i < query.Length; i++) dot += query[i] * vector[i];
                scores.Add((id, dot));
            }
        }

        scores.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        return scores.Take(top).ToList();
    }

    public void Dispose() => connection.Dispose();
}
