using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage.Sqlite;

/// <summary>One change a migration makes, described for <c>Update-SemanticSchema -WhatIf</c>.</summary>
public sealed record MigrationStep(int Version, string Description, string Sql);

/// <summary>
/// A schema version: what it changes (planned against the file as it is, so every step is applied
/// at most once) and the oldest module version that can still use a file at this version.
/// Additive versions keep the previous minimum, so an older module keeps working after an upgrade.
/// </summary>
internal sealed record Migration(int Version, string Description, Version MinModuleVersion, Func<SqliteConnection, IEnumerable<MigrationStep>> Plan);

internal static class Schema
{
    /// <summary>"SCPS": marks a file as a SemanticCore index (PRAGMA application_id).</summary>
    public const int ApplicationId = 0x53435053;

    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "Document index with embedding lifecycle and batch jobs", new Version(0, 1, 0), PlanVersion1),
        // Additive: module 0.1.0 keeps working on a version-2 index, and its writes keep the keyword index in step (triggers).
        new(2, "Keyword index (FTS5) and the vector data version", new Version(0, 1, 0), PlanVersion2),
        // Additive: older modules never read the new table (they count a removed chunk's result as an unknown key).
        new(3, "Chunks removed from active batch jobs", new Version(0, 1, 0), PlanVersion3),
        // Additive: older modules never read the new table, and the triggers that fill it work under any writer.
        new(4, "Chunks that left active batch jobs; remote files left to delete", new Version(0, 1, 0), PlanVersion4),
        // Additive: older modules never read the new table (their billed calls are simply not recorded).
        new(5, "Spend ledger", new Version(0, 1, 0), PlanVersion5),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>
    /// Version 1 builds on the earlier layout <c>chunks(id, content, chunk_type, language)</c>: the same
    /// steps create a new index and upgrade an old one in place, adding columns (old rows become Ready)
    /// and tables, never dropping or rewriting anything.
    /// </summary>
    private static IEnumerable<MigrationStep> PlanVersion1(SqliteConnection connection)
    {
        const int v = 1;
        var tables = SchemaInspector.Tables(connection);

        if (!tables.Contains("documents"))
        {
            yield return new(v, "Create table documents", """
                CREATE TABLE documents (
                    id           INTEGER PRIMARY KEY,
                    source_path  TEXT NOT NULL UNIQUE,
                    title        TEXT,
                    content_hash TEXT NOT NULL,
                    metadata     TEXT,
                    created_at   TEXT NOT NULL,
                    updated_at   TEXT NOT NULL
                )
                """);
        }

        if (!tables.Contains("batch_jobs"))
        {
            yield return new(v, "Create table batch_jobs", """
                CREATE TABLE batch_jobs (
                    id              TEXT PRIMARY KEY,
                    remote_name     TEXT UNIQUE,
                    status          TEXT NOT NULL,
                    provider        TEXT NOT NULL,
                    model           TEXT NOT NULL,
                    dimensions      INTEGER NOT NULL,
                    input_file      TEXT,
                    output_file     TEXT,
                    request_count   INTEGER NOT NULL DEFAULT 0,
                    succeeded_count INTEGER NOT NULL DEFAULT 0,
                    failed_count    INTEGER NOT NULL DEFAULT 0,
                    retried_count   INTEGER NOT NULL DEFAULT 0,
                    token_count     INTEGER NOT NULL DEFAULT 0,
                    stats           TEXT,
                    error_message   TEXT,
                    created_at      TEXT NOT NULL,
                    submitted_at    TEXT,
                    completed_at    TEXT,
                    updated_at      TEXT NOT NULL
                )
                """);
        }

        var chunkColumns = tables.Contains("chunks") ? SchemaInspector.Columns(connection, "chunks") : [];
        if (!tables.Contains("chunks"))
        {
            // The earlier layout, exactly; the columns below turn it into the current one.
            yield return new(v, "Create table chunks", """
                CREATE TABLE chunks (
                    id         INTEGER PRIMARY KEY,
                    content    TEXT NOT NULL,
                    chunk_type TEXT,
                    language   TEXT
                )
                """);
        }

        foreach (var (name, definition) in ChunkColumnsAddedInVersion1)
        {
            if (!chunkColumns.Contains(name))
            {
                yield return new(v, $"Add column chunks.{name}", $"ALTER TABLE chunks ADD COLUMN {name} {definition}");
            }
        }

        if (!tables.Contains("chunk_vectors"))
        {
            yield return new(v, "Create table chunk_vectors", """
                CREATE TABLE chunk_vectors (
                    chunk_id   INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
                    model      TEXT NOT NULL,
                    dimensions INTEGER NOT NULL,
                    vector     BLOB NOT NULL,
                    created_at TEXT NOT NULL
                )
                """);
        }

        if (!tables.Contains("settings"))
        {
            yield return new(v, "Create table settings", "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        }

        var indexes = SchemaInspector.Indexes(connection);
        foreach (var (name, sql) in IndexesOfVersion1)
        {
            if (!indexes.Contains(name))
            {
                yield return new(v, $"Create index {name}", sql);
            }
        }
    }

    /// <summary>
    /// The section of a chunk (its breadcrumbs joined with " > ") from its metadata JSON; NULL for rows
    /// without breadcrumbs (the earlier layout). Part of the triggers below: never change it in place.
    /// </summary>
    internal static string SectionOf(string metadata) =>
        $"CASE WHEN json_valid({metadata}) THEN (SELECT group_concat(value, ' > ') FROM json_each({metadata}, '$.breadcrumbs')) END";

    /// <summary>
    /// Version 2: the keyword index and the vector data version, both kept by triggers inside the file so
    /// that every writer (module 0.1.0 after a rollback, plain SQL) keeps them right.
    /// <list type="bullet">
    /// <item><c>chunks_fts</c>: FTS5 over chunk text, section and document title (rowid = chunk id),
    /// contentless (the text stays only in <c>chunks</c>), diacritics folded. A kept chunk whose text did
    /// not change is never re-indexed (the update trigger fires on content/metadata changes only).</item>
    /// <item><c>data_versions</c>: 'vectors' grows whenever the set of searchable vectors may have changed,
    /// so a search cache can tell in one read that it is current. It starts at a random value so that a
    /// new file at the same path never matches the version a cache holds for the old one.</item>
    /// </list>
    /// </summary>
    private static IEnumerable<MigrationStep> PlanVersion2(SqliteConnection connection)
    {
        const int v = 2;
        var tables = SchemaInspector.Tables(connection);
        var triggers = SchemaInspector.Triggers(connection);

        if (!tables.Contains("chunks_fts"))
        {
            yield return new(v, "Create keyword index chunks_fts (FTS5)", """
                CREATE VIRTUAL TABLE chunks_fts USING fts5(
                    content, section, title,
                    content = '', contentless_delete = 1,
                    tokenize = 'porter unicode61 remove_diacritics 2'
                )
                """);
            yield return new(v, "Index the text of every existing chunk", $"""
                INSERT INTO chunks_fts (rowid, content, section, title)
                SELECT c.id, c.content, {SectionOf("c.metadata")}, d.title
                FROM chunks c LEFT JOIN documents d ON d.id = c.document_id
                """);
        }

        var keywordTriggers = new (string Name, string Sql)[]
        {
            ("tr_chunks_fts_insert", $"""
                CREATE TRIGGER tr_chunks_fts_insert AFTER INSERT ON chunks BEGIN
                    INSERT INTO chunks_fts (rowid, content, section, title)
                    VALUES (new.id, new.content, {SectionOf("new.metadata")}, (SELECT title FROM documents WHERE id = new.document_id));
                END
                """),
            ("tr_chunks_fts_delete", """
                CREATE TRIGGER tr_chunks_fts_delete AFTER DELETE ON chunks BEGIN
                    DELETE FROM chunks_fts WHERE rowid = old.id;
                END
                """),
            ("tr_chunks_fts_update", $"""
                CREATE TRIGGER tr_chunks_fts_update AFTER UPDATE OF content, metadata, document_id ON chunks
                WHEN old.content IS NOT new.content OR old.metadata IS NOT new.metadata OR old.document_id IS NOT new.document_id
                BEGIN
                    DELETE FROM chunks_fts WHERE rowid = old.id;
                    INSERT INTO chunks_fts (rowid, content, section, title)
                    VALUES (new.id, new.content, {SectionOf("new.metadata")}, (SELECT title FROM documents WHERE id = new.document_id));
                END
                """),
            ("tr_documents_fts_title", $"""
                CREATE TRIGGER tr_documents_fts_title AFTER UPDATE OF title ON documents
                WHEN old.title IS NOT new.title
                BEGIN
                    DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE document_id = new.id);
                    INSERT INTO chunks_fts (rowid, content, section, title)
                    SELECT id, content, {SectionOf("metadata")}, new.title FROM chunks WHERE document_id = new.id;
                END
                """),
        };

        foreach (var (name, sql) in keywordTriggers)
        {
            if (!triggers.Contains(name)) yield return new(v, $"Create trigger {name}", sql);
        }

        // The search reads every Ready chunk's vector in id order: this index gives it the ids and filter columns
        // without reading the chunk rows (text and metadata) and without a sort.
        if (!SchemaInspector.Indexes(connection).Contains("ix_chunks_searchable"))
        {
            yield return new(v, "Create index ix_chunks_searchable", "CREATE INDEX ix_chunks_searchable ON chunks(embedding_status, id, document_id, chunk_type, language)");
        }

        if (!tables.Contains("data_versions"))
        {
            yield return new(v, "Create table data_versions", "CREATE TABLE data_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID");
            yield return new(v, "Start the vector data version", "INSERT INTO data_versions (name, version) VALUES ('vectors', abs(random() >> 8))");
        }

        const string bump = "UPDATE data_versions SET version = version + 1 WHERE name = 'vectors';";
        var versionTriggers = new (string Name, string Sql)[]
        {
            ("tr_vectors_version_insert", $"CREATE TRIGGER tr_vectors_version_insert AFTER INSERT ON chunk_vectors BEGIN {bump} END"),
            ("tr_vectors_version_update", $"CREATE TRIGGER tr_vectors_version_update AFTER UPDATE ON chunk_vectors BEGIN {bump} END"),
            ("tr_vectors_version_delete", $"CREATE TRIGGER tr_vectors_version_delete AFTER DELETE ON chunk_vectors BEGIN {bump} END"),
            // Only Ready vectors are searched, filtered by document, type and language.
            ("tr_chunks_version_update", $"""
                CREATE TRIGGER tr_chunks_version_update AFTER UPDATE OF embedding_status, document_id, chunk_type, language ON chunks
                WHEN (old.embedding_status = 'Ready') IS NOT (new.embedding_status = 'Ready')
                  OR old.document_id IS NOT new.document_id OR old.chunk_type IS NOT new.chunk_type OR old.language IS NOT new.language
                BEGIN {bump} END
                """),
        };

        foreach (var (name, sql) in versionTriggers)
        {
            if (!triggers.Contains(name)) yield return new(v, $"Create trigger {name}", sql);
        }
    }

    /// <summary>
    /// Version 3: <c>batch_job_removed_chunks</c> remembers the chunks removed (with their document) while a
    /// job held them, so the job's sync counts their results as removed rather than as unknown keys.
    /// </summary>
    private static IEnumerable<MigrationStep> PlanVersion3(SqliteConnection connection)
    {
        if (!SchemaInspector.Tables(connection).Contains("batch_job_removed_chunks"))
        {
            yield return new(3, "Create table batch_job_removed_chunks", """
                CREATE TABLE batch_job_removed_chunks (
                    batch_job_id TEXT NOT NULL REFERENCES batch_jobs(id) ON DELETE CASCADE,
                    chunk_id     INTEGER NOT NULL,
                    removed_at   TEXT NOT NULL,
                    PRIMARY KEY (batch_job_id, chunk_id)
                ) WITHOUT ROWID
                """);
        }
    }

    /// <summary>
    /// Version 4: <c>batch_job_former_chunks</c> remembers every chunk that left an active job (claimed by a
    /// later job after a retry, or deleted), so a sync resumed after such a move still knows the chunk was
    /// the job's own and never counts its result as an unknown key. Triggers fill it, whichever program
    /// moves or deletes the chunk. <c>batch_jobs.remote_files_left</c> marks an ended job whose remote input
    /// and output files are not deleted yet (a process killed right after storing the results), so the next
    /// flush or sync deletes them.
    /// </summary>
    private static IEnumerable<MigrationStep> PlanVersion4(SqliteConnection connection)
    {
        const int v = 4;
        if (!SchemaInspector.Tables(connection).Contains("batch_job_former_chunks"))
        {
            yield return new(v, "Create table batch_job_former_chunks", """
                CREATE TABLE batch_job_former_chunks (
                    batch_job_id TEXT NOT NULL REFERENCES batch_jobs(id) ON DELETE CASCADE,
                    chunk_id     INTEGER NOT NULL,
                    PRIMARY KEY (batch_job_id, chunk_id)
                ) WITHOUT ROWID
                """);
        }

        if (!SchemaInspector.Columns(connection, "batch_jobs").Contains("remote_files_left"))
        {
            yield return new(v, "Add column batch_jobs.remote_files_left",
                "ALTER TABLE batch_jobs ADD COLUMN remote_files_left INTEGER NOT NULL DEFAULT 0");
        }

        const string recordOld = """
            INSERT OR IGNORE INTO batch_job_former_chunks (batch_job_id, chunk_id)
            SELECT id, old.id FROM batch_jobs WHERE id = old.batch_job_id AND status IN ('Created', 'Submitted', 'Running');
            """;
        var triggers = SchemaInspector.Triggers(connection);
        if (!triggers.Contains("tr_chunks_leave_job"))
        {
            yield return new(v, "Create trigger tr_chunks_leave_job", $"""
                CREATE TRIGGER tr_chunks_leave_job AFTER UPDATE OF batch_job_id ON chunks
                WHEN old.batch_job_id IS NOT NULL AND old.batch_job_id IS NOT new.batch_job_id
                BEGIN {recordOld} END
                """);
        }

        if (!triggers.Contains("tr_chunks_delete_from_job"))
        {
            yield return new(v, "Create trigger tr_chunks_delete_from_job", $"""
                CREATE TRIGGER tr_chunks_delete_from_job AFTER DELETE ON chunks
                WHEN old.batch_job_id IS NOT NULL
                BEGIN {recordOld} END
                """);
        }
    }

    /// <summary>
    /// Version 5: <c>spend</c>, one row per billed embedding call (a batch job's results, an interactive embedding
    /// call, a query embedding) with its tokens, its cost at the price it paid and the interactive cost of the same
    /// tokens. A batch job's row is unique by job, so however many syncs store its results, it is billed once.
    /// </summary>
    private static IEnumerable<MigrationStep> PlanVersion5(SqliteConnection connection)
    {
        const int v = 5;
        if (!SchemaInspector.Tables(connection).Contains("spend"))
        {
            yield return new(v, "Create table spend", """
                CREATE TABLE spend (
                    id               INTEGER PRIMARY KEY,
                    at               TEXT NOT NULL,
                    kind             TEXT NOT NULL CHECK (kind IN ('Batch', 'Interactive', 'Query')),
                    model            TEXT NOT NULL,
                    tokens           INTEGER NOT NULL,
                    cost             REAL,
                    interactive_cost REAL,
                    batch_job_id     TEXT UNIQUE
                )
                """);
        }

        if (!SchemaInspector.Indexes(connection).Contains("ix_spend_at"))
        {
            yield return new(v, "Create index ix_spend_at", "CREATE INDEX ix_spend_at ON spend(at)");
        }
    }

    private static readonly (string Name, string Definition)[] ChunkColumnsAddedInVersion1 =
    [
        ("document_id", "INTEGER REFERENCES documents(id) ON DELETE CASCADE"),
        ("ordinal", "INTEGER NOT NULL DEFAULT 0"),
        ("metadata", "TEXT"),
        ("content_hash", "TEXT"),
        // Rows of the earlier layout were embedded by the earlier design: they are Ready.
        ("embedding_status", "TEXT NOT NULL DEFAULT 'Ready' CHECK (embedding_status IN ('Pending','Submitted','Ready','Failed'))"),
        ("batch_job_id", "TEXT REFERENCES batch_jobs(id) ON DELETE SET NULL"),
        ("error_message", "TEXT"),
        ("retry_count", "INTEGER NOT NULL DEFAULT 0"),
        ("created_at", "TEXT"),
        ("updated_at", "TEXT"),
    ];

    private static readonly (string Name, string Sql)[] IndexesOfVersion1 =
    [
        ("ix_chunks_document", "CREATE INDEX ix_chunks_document ON chunks(document_id, ordinal)"),
        ("ix_chunks_status", "CREATE INDEX ix_chunks_status ON chunks(embedding_status, batch_job_id)"),
        ("ix_chunks_batch_job", "CREATE INDEX ix_chunks_batch_job ON chunks(batch_job_id)"),
        ("ix_batch_jobs_status", "CREATE INDEX ix_batch_jobs_status ON batch_jobs(status)"),
    ];

    /// <summary>The history table: which versions were applied, when, by which module, and the oldest module that can use each.</summary>
    public const string CreateHistorySql = """
        CREATE TABLE IF NOT EXISTS schema_history (
            version            INTEGER PRIMARY KEY,
            description        TEXT NOT NULL,
            min_module_version TEXT NOT NULL,
            applied_at         TEXT NOT NULL,
            applied_by         TEXT NOT NULL
        )
        """;
}

/// <summary>Reads what a file's schema holds (sqlite_master, table_info).</summary>
internal static class SchemaInspector
{
    public static HashSet<string> Tables(SqliteConnection connection) =>
        Names(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");

    public static HashSet<string> Triggers(SqliteConnection connection) =>
        Names(connection, "SELECT name FROM sqlite_master WHERE type = 'trigger'");

    public static HashSet<string> Indexes(SqliteConnection connection) =>
        Names(connection, "SELECT name FROM sqlite_master WHERE type = 'index'");

    public static HashSet<string> Columns(SqliteConnection connection, string table) =>
        Names(connection, $"SELECT name FROM pragma_table_info('{table}')");

    private static HashSet<string> Names(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }
}
