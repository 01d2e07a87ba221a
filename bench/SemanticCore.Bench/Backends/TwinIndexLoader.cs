using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using SemanticCore.Bench.Infrastructure;
using SemanticCore.Bench.Search;
using SemanticCore.Model;
using SemanticCore.Storage;
using SemanticCore.Storage.Postgres;

namespace SemanticCore.Bench.Backends;

/// <summary>
/// Fills a new Local index on either engine with the same rows for the same seed: documents of 100 chunks, each chunk a
/// short generated text (12 words, so that a million rows load in minutes) and, with vectors, Ready with a unit vector
/// of <see cref="LowRankVectors"/>; without, Pending for a flush. SQLite through prepared inserts, 5,000 rows a transaction; PostgreSQL through
/// binary COPY, 20,000 rows a COPY. The core creates the schema; its triggers index the text as it goes.
/// </summary>
internal static class TwinIndexLoader
{
    private const int ChunksPerDocument = 100;
    private const int WordsPerChunk = 12;
    private const int SqliteRowsPerTransaction = 5_000;
    private const int PostgresRowsPerCopy = 20_000;

    /// <summary>Loads <paramref name="chunks"/> chunks into the new index <paramref name="database"/>; returns how long it took.</summary>
    public static TimeSpan Load(string database, int chunks, int dimensions, int seed, bool withVectors, TextWriter log)
    {
        var start = Stopwatch.GetTimestamp();
        string model;
        using (var index = SemanticIndex.Open(database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local, null, dimensions)))
        {
            model = index.Settings.Model;
        }

        var rows = new Rows(chunks, dimensions, seed, withVectors, model);
        if (PostgresLocation.IsPostgres(database)) LoadPostgres(database, rows, log, start);
        else LoadSqlite(database, rows, log, start);
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>The generated rows, the same for both engines.</summary>
    private sealed class Rows(int chunks, int dimensions, int seed, bool withVectors, string model)
    {
        private readonly Random textRandom = new(seed);
        private readonly Random vectorRandom = new(unchecked(seed * 31 + 7));
        private readonly SyntheticCorpus corpus = new(seed);
        private readonly LowRankVectors vectors = new(dimensions, seed);

        public int Chunks => chunks;
        public int Dimensions => dimensions;
        public bool WithVectors => withVectors;
        public string Model => model;
        public int Documents => (chunks + ChunksPerDocument - 1) / ChunksPerDocument;
        public string Status => withVectors ? "Ready" : "Pending";

        public static string DocumentPath(int document) => $"/bench/backends/doc-{document:D6}.md";

        public string ChunkText() => corpus.Text(textRandom, WordsPerChunk);

        /// <summary>The chunk metadata as the importer writes it: the text the embedder sees.</summary>
        public static string Metadata(string text) => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["_vector_source"] = text });

        public void NextVector(float[] vector) => vectors.Next(vectorRandom, vector);
    }

    private static void LoadSqlite(string path, Rows rows, TextWriter log, long start)
    {
        using var connection = IndexFile.Connect(path);
        IndexFile.Execute(connection, "PRAGMA synchronous = OFF");
        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        using (var transaction = connection.BeginTransaction())
        {
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO documents (id, source_path, title, content_hash, metadata, created_at, updated_at) VALUES ($id, $path, $title, 'bench', '{}', $now, $now)";
            var id = insert.Parameters.Add("$id", SqliteType.Integer);
            var documentPath = insert.Parameters.Add("$path", SqliteType.Text);
            var title = insert.Parameters.Add("$title", SqliteType.Text);
            insert.Parameters.AddWithValue("$now", now);
            for (var d = 1; d <= rows.Documents; d++)
            {
                (id.Value, documentPath.Value, title.Value) = (d, Rows.DocumentPath(d), $"Document {d}");
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        using var chunk = connection.CreateCommand();
        chunk.CommandText = $"""
            INSERT INTO chunks (id, document_id, ordinal, content, chunk_type, metadata, content_hash, embedding_status, retry_count, created_at, updated_at)
            VALUES ($id, $doc, $ordinal, $content, 'text', $metadata, 'bench', '{rows.Status}', 0, $now, $now)
            """;
        var chunkId = chunk.Parameters.Add("$id", SqliteType.Integer);
        var document = chunk.Parameters.Add("$doc", SqliteType.Integer);
        var ordinal = chunk.Parameters.Add("$ordinal", SqliteType.Integer);
        var content = chunk.Parameters.Add("$content", SqliteType.Text);
        var metadata = chunk.Parameters.Add("$metadata", SqliteType.Text);
        chunk.Parameters.AddWithValue("$now", now);
        using var vectorInsert = connection.CreateCommand();
        vectorInsert.CommandText = "INSERT INTO chunk_vectors (chunk_id, model, dimensions, vector, created_at) VALUES ($id, $model, $dimensions, $vector, $now)";
        var vectorId = vectorInsert.Parameters.Add("$id", SqliteType.Integer);
        var blobParameter = vectorInsert.Parameters.Add("$vector", SqliteType.Blob);
        vectorInsert.Parameters.AddWithValue("$model", rows.Model);
        vectorInsert.Parameters.AddWithValue("$dimensions", rows.Dimensions);
        vectorInsert.Parameters.AddWithValue("$now", now);

        var vector = new float[rows.Dimensions];
        var blob = new byte[rows.Dimensions * sizeof(float)];
        for (var first = 0; first < rows.Chunks; first += SqliteRowsPerTransaction)
        {
            using var transaction = connection.BeginTransaction();
            chunk.Transaction = vectorInsert.Transaction = transaction;
            for (var i = first; i < Math.Min(rows.Chunks, first + SqliteRowsPerTransaction); i++)
            {
                var text = rows.ChunkText();
                (chunkId.Value, document.Value, ordinal.Value, content.Value, metadata.Value) = (i + 1, i / ChunksPerDocument + 1, i % ChunksPerDocument, text, Rows.Metadata(text));
                chunk.ExecuteNonQuery();
                if (!rows.WithVectors) continue;
                rows.NextVector(vector);
                MemoryMarshal.AsBytes(vector.AsSpan()).CopyTo(blob); // float32, little-endian as the index stores it
                (vectorId.Value, blobParameter.Value) = (i + 1, blob);
                vectorInsert.ExecuteNonQuery();
            }

            transaction.Commit();
            Progress(log, "SQLite", first + SqliteRowsPerTransaction, rows.Chunks, start);
        }

        IndexFile.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
    }

    private static void LoadPostgres(string database, Rows rows, TextWriter log, long start)
    {
        using var db = PostgresDatabase.Connect(database);
        using var connection = db.DataSource.OpenConnection();
        var now = DateTime.UtcNow;
        using (var documents = connection.BeginBinaryImport("COPY documents (id, source_path, title, content_hash, metadata, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var d = 1; d <= rows.Documents; d++)
            {
                documents.StartRow();
                documents.Write((long)d, NpgsqlDbType.Bigint);
                documents.Write(Rows.DocumentPath(d), NpgsqlDbType.Text);
                documents.Write($"Document {d}", NpgsqlDbType.Text);
                documents.Write("bench", NpgsqlDbType.Text);
                documents.Write("{}", NpgsqlDbType.Jsonb);
                documents.Write(now, NpgsqlDbType.TimestampTz);
                documents.Write(now, NpgsqlDbType.TimestampTz);
            }

            documents.Complete();
        }

        for (var first = 0; first < rows.Chunks; first += PostgresRowsPerCopy)
        {
            var last = Math.Min(rows.Chunks, first + PostgresRowsPerCopy);
            var vectors = rows.WithVectors ? new Vector[last - first] : null;
            using (var chunks = connection.BeginBinaryImport(
                       "COPY chunks (id, document_id, ordinal, content, chunk_type, metadata, content_hash, embedding_status, retry_count, created_at, updated_at) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = first; i < last; i++)
                {
                    var text = rows.ChunkText();
                    chunks.StartRow();
                    chunks.Write((long)(i + 1), NpgsqlDbType.Bigint);
                    chunks.Write((long)(i / ChunksPerDocument + 1), NpgsqlDbType.Bigint);
                    chunks.Write(i % ChunksPerDocument, NpgsqlDbType.Integer);
                    chunks.Write(text, NpgsqlDbType.Text);
                    chunks.Write("text", NpgsqlDbType.Text);
                    chunks.Write(Rows.Metadata(text), NpgsqlDbType.Jsonb);
                    chunks.Write("bench", NpgsqlDbType.Text);
                    chunks.Write(rows.Status, NpgsqlDbType.Text);
                    chunks.Write(0, NpgsqlDbType.Integer);
                    chunks.Write(now, NpgsqlDbType.TimestampTz);
                    chunks.Write(now, NpgsqlDbType.TimestampTz);
                    if (vectors is null) continue;
                    var vector = new float[rows.Dimensions];
                    rows.NextVector(vector);
                    vectors[i - first] = new Vector(vector);
                }

                chunks.Complete();
            }

            if (vectors is not null)
            {
                using var copy = connection.BeginBinaryImport("COPY chunk_vectors (chunk_id, model, dimensions, embedding, created_at) FROM STDIN (FORMAT BINARY)");
                for (var i = first; i < last; i++)
                {
                    copy.StartRow();
                    copy.Write((long)(i + 1), NpgsqlDbType.Bigint);
                    copy.Write(rows.Model, NpgsqlDbType.Text);
                    copy.Write(rows.Dimensions, NpgsqlDbType.Integer);
                    copy.Write(vectors[i - first]);
                    copy.Write(now, NpgsqlDbType.TimestampTz);
                }

                copy.Complete();
            }

            Progress(log, "PostgreSQL", last, rows.Chunks, start);
        }

        // Explicit ids leave the identity sequences behind; statistics let the planner see the sizes.
        foreach (var sql in new[]
                 {
                     "SELECT setval(pg_get_serial_sequence('documents', 'id'), (SELECT max(id) FROM documents))",
                     "SELECT setval(pg_get_serial_sequence('chunks', 'id'), (SELECT max(id) FROM chunks))",
                     "VACUUM ANALYZE documents", "VACUUM ANALYZE chunks", "VACUUM ANALYZE chunk_vectors", // VACUUM: one statement a command
                 })
        {
            using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            command.ExecuteNonQuery();
        }
    }

    private static void Progress(TextWriter log, string engine, int done, int total, long start)
    {
        done = Math.Min(done, total);
        if (done % 100_000 == 0 || done == total)
            log.WriteLine($"  {engine}: {Format.Count(done)}/{Format.Count(total)} chunks ({Format.Seconds(Stopwatch.GetElapsedTime(start))})");
    }
}
