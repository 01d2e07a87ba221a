using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using SemanticCore.Chunking;
using SemanticCore.Model;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// An import's unit of work on PostgreSQL. New chunks go in with one statement per document and their vectors by binary
/// COPY; a staging batch copies them into a temporary table, moved into <c>chunks</c> at the commit.
/// </summary>
internal sealed class PostgresImportBatch(NpgsqlConnection connection, PostgresDocumentStore documents, string displayName, IndexSettings settings, bool stageNewChunks)
    : ImportBatch(connection, documents, stageNewChunks)
{
    private const string ChunkColumns =
        "document_id, ordinal, content, chunk_type, language, metadata, content_hash, embedding_status, retry_count, created_at, updated_at";

    public override long SaveDocument(long? existingId, string path, string title, string contentHash, string chunker, string now)
    {
        var at = Stamp(now);
        if (existingId is { } id)
        {
            PostgresSql.Execute(connection, """
                UPDATE documents SET title = @title, content_hash = @hash,
                    metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('chunker', @chunker::text), updated_at = @now
                WHERE id = @id
                """, ("id", id), ("title", title), ("hash", contentHash), ("chunker", chunker), ("now", at));
            return id;
        }

        try
        {
            return (long)PostgresSql.Scalar(connection, """
                INSERT INTO documents (source_path, title, content_hash, metadata, created_at, updated_at)
                VALUES (@path, @title, @hash, jsonb_build_object('chunker', @chunker::text), @now, @now)
                RETURNING id
                """, ("path", path), ("title", title), ("hash", contentHash), ("chunker", chunker), ("now", at))!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another session imported the same new file first (it waited for that session's commit): this one is not stored.
            throw new SemanticCoreException("DatabaseWriteFailed", FailureKind.ResourceUnavailable,
                $"Could not store '{path}': another session imported it into '{displayName}' at the same time. Import it again to update it.", ex);
        }
    }

    public override void DeleteChunks(IReadOnlyCollection<long> ids, string now)
    {
        if (ids.Count == 0) return;
        var array = ids.ToArray();
        PostgresSql.Execute(connection, PostgresRemovedFromJobs.Record("c.id = ANY(@ids)"), ("ids", array), ("now", Stamp(now)));
        PostgresSql.Execute(connection, "DELETE FROM chunks WHERE id = ANY(@ids)", ("ids", array));
    }

    public override void MoveChunks(IEnumerable<(long Id, int Ordinal)> moves, string now)
    {
        var list = moves.ToList();
        if (list.Count == 0) return;
        PostgresSql.Execute(connection, """
            UPDATE chunks c SET ordinal = m.ordinal, updated_at = @now
            FROM unnest(@ids::bigint[], @ordinals::integer[]) AS m(id, ordinal)
            WHERE c.id = m.id
            """, ("ids", list.Select(m => m.Id).ToArray()), ("ordinals", list.Select(m => m.Ordinal).ToArray()), ("now", Stamp(now)));
    }

    public override void AddChunks(long documentId, IReadOnlyList<ChunkDraft> drafts, IReadOnlyDictionary<string, float[]> vectors, string now)
    {
        if (drafts.Count == 0) return;
        if (StagesNewChunks)
        {
            if (vectors.Count > 0) throw new InvalidOperationException("A staging import batch stores new chunks as Pending, without vectors.");
            Stage(documentId, drafts, Stamp(now));
            CountStaged(documentId, drafts.Count);
            return;
        }

        var at = Stamp(now);
        var statuses = drafts.Select(d => (vectors.ContainsKey(d.ContentHash) ? EmbeddingStatus.Ready : EmbeddingStatus.Pending).ToString()).ToArray();
        // WITH ORDINALITY ... ORDER BY: the chunks get their ids in draft order.
        using var insert = PostgresSql.Command(connection, $"""
            INSERT INTO chunks ({ChunkColumns})
            SELECT @doc, d.ordinal, d.content, d.chunk_type, d.language, d.metadata, d.content_hash, d.status, 0, @now, @now
            FROM unnest(@ordinals::integer[], @contents::text[], @types::text[], @languages::text[], @metadata::jsonb[], @hashes::text[], @statuses::text[])
                 WITH ORDINALITY AS d(ordinal, content, chunk_type, language, metadata, content_hash, status, n)
            ORDER BY d.n
            RETURNING id, content_hash, embedding_status = 'Ready'
            """,
            ("doc", documentId), ("now", at),
            ("ordinals", drafts.Select(d => d.Ordinal).ToArray()),
            ("contents", drafts.Select(d => d.Content).ToArray()),
            ("types", drafts.Select(d => d.Type.ToStorageName()).ToArray()),
            ("languages", drafts.Select(d => d.Language).ToArray()),
            ("metadata", drafts.Select(ChunkMetadata.Of).ToArray()),
            ("hashes", drafts.Select(d => d.ContentHash).ToArray()),
            ("statuses", statuses));
        var ready = new List<(long Id, float[] Vector)>();
        using (var reader = insert.ExecuteReader())
        {
            while (reader.Read())
            {
                if (reader.GetBoolean(2)) ready.Add((reader.GetInt64(0), vectors[reader.GetString(1)]));
            }
        }

        if (ready.Count == 0) return;
        using var copy = connection.BeginBinaryImport("COPY chunk_vectors (chunk_id, model, dimensions, embedding, created_at) FROM STDIN (FORMAT BINARY)");
        foreach (var (id, vector) in ready)
        {
            copy.StartRow();
            copy.Write(id, NpgsqlDbType.Bigint);
            copy.Write(settings.Model, NpgsqlDbType.Text);
            copy.Write(settings.Dimensions, NpgsqlDbType.Integer);
            copy.Write(new Vector(vector));
            copy.Write(at, NpgsqlDbType.TimestampTz);
        }

        copy.Complete();
    }

    /// <summary>Copies new chunks into the batch's temporary table, Pending, numbered in the order they were staged.</summary>
    private void Stage(long documentId, IReadOnlyList<ChunkDraft> drafts, DateTimeOffset at)
    {
        // Dropped at the commit or rollback of the batch's transaction; created again by the next batch on this connection.
        PostgresSql.Execute(connection, """
            CREATE TEMP TABLE IF NOT EXISTS staged_chunks (
                seq bigint GENERATED ALWAYS AS IDENTITY, document_id bigint, ordinal integer, content text, chunk_type text,
                language text, metadata jsonb, content_hash text, embedding_status text, retry_count integer,
                created_at timestamptz, updated_at timestamptz
            ) ON COMMIT DROP
            """);
        using var copy = connection.BeginBinaryImport($"COPY staged_chunks ({ChunkColumns}) FROM STDIN (FORMAT BINARY)");
        foreach (var draft in drafts)
        {
            copy.StartRow();
            copy.Write(documentId, NpgsqlDbType.Bigint);
            copy.Write(draft.Ordinal, NpgsqlDbType.Integer);
            copy.Write(draft.Content, NpgsqlDbType.Text);
            copy.Write(draft.Type.ToStorageName(), NpgsqlDbType.Text);
            if (draft.Language is null) copy.WriteNull();
            else copy.Write(draft.Language, NpgsqlDbType.Text);
            copy.Write(ChunkMetadata.Of(draft), NpgsqlDbType.Jsonb);
            copy.Write(draft.ContentHash, NpgsqlDbType.Text);
            copy.Write(nameof(EmbeddingStatus.Pending), NpgsqlDbType.Text);
            copy.Write(0, NpgsqlDbType.Integer);
            copy.Write(at, NpgsqlDbType.TimestampTz);
            copy.Write(at, NpgsqlDbType.TimestampTz);
        }

        copy.Complete();
    }

    protected override void MoveStaged()
    {
        PostgresSql.Execute(connection, $"INSERT INTO chunks ({ChunkColumns}) SELECT {ChunkColumns} FROM staged_chunks ORDER BY seq");
        PostgresSql.Execute(connection, "DELETE FROM staged_chunks");
    }

    /// <summary>The writer's timestamp text as the UTC instant PostgreSQL stores.</summary>
    private static DateTimeOffset Stamp(string now) =>
        Timestamps.Parse(now) ?? throw new ArgumentException($"'{now}' is not a timestamp.", nameof(now));

    // Every failure of an Npgsql connection is an NpgsqlException.
    protected override SemanticCoreException StoreFailed(DbException exception) => PostgresFailures.Map((NpgsqlException)exception, displayName, "DatabaseWriteFailed");
}
