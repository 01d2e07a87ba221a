using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SemanticCore.Chunking;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Bench.Search;

/// <summary>What <see cref="SyntheticIndexBuilder"/> made.</summary>
internal sealed record SyntheticIndex(string Path, int Documents, int Chunks, int Dimensions, long Words, TimeSpan Elapsed, long FileBytes);

/// <summary>
/// Fills a new Local index with generated documents, Ready chunks and random unit vectors, deterministically
/// (fixed seed), through plain SQL: the core creates the schema, this inserts the rows as the importer would
/// store them (the FTS5 triggers index the text as it goes), in one transaction per 5,000 chunks.
/// With <c>pendingForBatch</c> it makes a Gemini index instead, its chunks Pending and without vectors, as an
/// Async import leaves them for Invoke-BatchFlush (the same documents and texts as for the same seed otherwise).
/// </summary>
internal static class SyntheticIndexBuilder
{
    public const int ChunksPerDocument = 100;
    private const int ChunksPerSection = 10;
    private const int RowsPerTransaction = 5_000;
    private const int MinWords = 60, MaxWords = 150;

    public static SyntheticIndex Build(string path, int chunks, int dimensions, int seed, SyntheticCorpus corpus, TextWriter log, bool pendingForBatch = false)
    {
        var start = Stopwatch.GetTimestamp();
        IndexSettings settings;
        var provider = pendingForBatch ? EmbeddingProviderKind.Gemini : EmbeddingProviderKind.Local;
        var status = pendingForBatch ? "Pending" : "Ready";
        using (var index = SemanticIndex.Open(path, createIfMissing: true, new IndexSettingsRequest(provider, null, dimensions)))
        {
            settings = index.Settings;
        }

        var textRandom = new Random(seed);
        var vectorRandom = new Random(unchecked(seed * 31 + 7));
        var documents = (chunks + ChunksPerDocument - 1) / ChunksPerDocument;
        long words = 0;

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA synchronous = OFF");
        Execute(connection, "PRAGMA cache_size = -131072"); // 128 MB: the FTS5 and b-tree pages being filled stay in memory

        // Documents first: the chunk insert trigger reads the title into the keyword index.
        var titles = new string[documents];
        var sections = new string[documents][];
        using (var transaction = connection.BeginTransaction())
        {
            using var insert = Command(connection, """
                INSERT INTO documents (id, source_path, title, content_hash, metadata, created_at, updated_at)
                VALUES ($id, $path, $title, $hash, '{"chunker":"1"}', $now, $now)
                """, "$id", "$path", "$title", "$hash", "$now");
            insert.Transaction = transaction;
            for (var d = 0; d < documents; d++)
            {
                titles[d] = corpus.Heading(textRandom, textRandom.Next(2, 5));
                sections[d] = Enumerable.Range(0, ChunksPerDocument / ChunksPerSection).Select(_ => corpus.Heading(textRandom, textRandom.Next(2, 5))).ToArray();
                Bind(insert, d + 1, $"/bench/docs/doc-{d + 1:D5}.md", titles[d], Sha256Hex(titles[d]), Now());
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        using var chunkInsert = Command(connection, $"""
            INSERT INTO chunks (id, document_id, ordinal, content, chunk_type, language, metadata, content_hash,
                                embedding_status, retry_count, created_at, updated_at)
            VALUES ($id, $doc, $ordinal, $content, 'text', NULL, $metadata, $hash, '{status}', 0, $now, $now)
            """, "$id", "$doc", "$ordinal", "$content", "$metadata", "$hash", "$now");
        using var vectorInsert = Command(connection, """
            INSERT INTO chunk_vectors (chunk_id, model, dimensions, vector, created_at)
            VALUES ($id, $model, $dimensions, $vector, $now)
            """, "$id", "$model", "$dimensions", "$vector", "$now");
        vectorInsert.Parameters["$model"].Value = settings.Model;
        vectorInsert.Parameters["$dimensions"].Value = settings.Dimensions;

        var vector = new float[dimensions];
        var blob = new byte[dimensions * sizeof(float)];
        for (var first = 0; first < chunks; first += RowsPerTransaction)
        {
            using var transaction = connection.BeginTransaction();
            chunkInsert.Transaction = transaction;
            vectorInsert.Transaction = transaction;
            var now = Now();
            for (var i = first; i < Math.Min(chunks, first + RowsPerTransaction); i++)
            {
                var document = i / ChunksPerDocument;
                var ordinal = i % ChunksPerDocument;
                var wordCount = textRandom.Next(MinWords, MaxWords + 1);
                words += wordCount;
                var content = corpus.Text(textRandom, wordCount);
                string[] breadcrumbs = [titles[document], sections[document][ordinal / ChunksPerSection]];
                var vectorSource = VectorText.Build(titles[document], breadcrumbs, ChunkType.Text, null, content, ChunkingOptions.Default);
                Bind(chunkInsert, i + 1, document + 1, ordinal, content, Metadata(vectorSource, breadcrumbs), Sha256Hex(vectorSource), now);
                chunkInsert.ExecuteNonQuery();
                if (pendingForBatch) continue;

                RandomUnitVector(vectorRandom, vector);
                MemoryMarshal.AsBytes(vector.AsSpan()).CopyTo(blob); // float32; the bench runs on little-endian machines
                vectorInsert.Parameters["$id"].Value = i + 1;
                vectorInsert.Parameters["$vector"].Value = blob; // bound as a copy when the command runs
                vectorInsert.Parameters["$now"].Value = now;
                vectorInsert.ExecuteNonQuery();
            }

            transaction.Commit();
            var done = Math.Min(chunks, first + RowsPerTransaction);
            if (done % 20_000 == 0 || done == chunks)
                log.WriteLine($"  {Infrastructure.Format.Count(done)}/{Infrastructure.Format.Count(chunks)} chunks ({Infrastructure.Format.Seconds(Stopwatch.GetElapsedTime(start))})");
        }

        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
        connection.Close();
        var bytes = new[] { path, path + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);
        return new SyntheticIndex(path, documents, chunks, dimensions, words, Stopwatch.GetElapsedTime(start), bytes);
    }

    /// <summary>A Gaussian vector (Box–Muller), scaled to unit length: uniformly distributed on the sphere.</summary>
    private static void RandomUnitVector(Random random, float[] vector)
    {
        double norm = 0;
        for (var i = 0; i < vector.Length; i += 2)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var radius = Math.Sqrt(-2.0 * Math.Log(u1));
            var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
            vector[i] = (float)(radius * cos);
            if (i + 1 < vector.Length) vector[i + 1] = (float)(radius * sin);
        }

        foreach (var x in vector) norm += (double)x * x;
        var scale = 1.0 / Math.Sqrt(norm);
        for (var i = 0; i < vector.Length; i++) vector[i] = (float)(vector[i] * scale);
    }

    /// <summary>The chunk metadata JSON as the importer writes it: the embedded text and the breadcrumbs.</summary>
    private static string Metadata(string vectorSource, string[] breadcrumbs)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("_vector_source", vectorSource);
            json.WriteStartArray("breadcrumbs");
            foreach (var crumb in breadcrumbs) json.WriteStringValue(crumb);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Now() => DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters) command.Parameters.Add(new SqliteParameter { ParameterName = name });
        command.Prepare();
        return command;
    }

    /// <summary>Sets the command's parameters in order.</summary>
    private static void Bind(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
