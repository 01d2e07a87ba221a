using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage;

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
