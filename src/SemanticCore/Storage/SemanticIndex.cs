using SemanticCore.Storage.Postgres;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Storage;

/// <summary>
/// An open SemanticCore index, whichever engine holds it: its settings, what opening did to its schema, and its stores
/// (documents, chunks, batch jobs, ranking, spend, settings, maintenance). <see cref="Open"/> picks the engine from
/// <c>-Database</c>: an SQLite file path, or a PostgreSQL connection URI or string (each engine's own code is in its folder,
/// Storage/Sqlite and Storage/Postgres).
/// </summary>
public sealed class SemanticIndex : IDisposable
{
    /// <summary>The variable that sets how long a command waits for another process's transaction, in whole seconds.</summary>
    public const string BusyTimeoutVariable = "SEMANTICCORE_BUSY_TIMEOUT";

    /// <summary>How long a command waits for another process's transaction (overlapping scheduled runs) unless the variable says otherwise.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(30);

    private const int MaxBusyTimeoutSeconds = 86_400;

    /// <summary>This module's version: the one a newer file's minimum is compared with.</summary>
    public static Version ModuleVersion { get; } = typeof(SemanticIndex).Assembly.GetName().Version is { } v
        ? new Version(v.Major, v.Minor, Math.Max(v.Build, 0))
        : new Version(0, 0, 0);

    private readonly IDisposable connection;

    internal SemanticIndex(string location, IndexSettings settings, SchemaUpdate migration, bool created, IndexStores stores, IDisposable connection)
    {
        DatabasePath = location;
        Settings = settings;
        Migration = migration;
        Created = created;
        Jobs = stores.Jobs;
        Spend = stores.Spend;
        Values = stores.Values;
        Documents = stores.Documents;
        Chunks = stores.Chunks;
        Ranking = stores.Ranking;
        Maintenance = stores.Maintenance;
        Spool = stores.Spool;
        this.connection = connection;
    }

    /// <summary>Where the index is, as output objects show it: a full file path, or a server index's name without its password.</summary>
    public string DatabasePath { get; }
    public IndexSettings Settings { get; }
    /// <summary>What opening did to the schema (no steps when it was current).</summary>
    public SchemaUpdate Migration { get; }
    /// <summary>True when this open created the index.</summary>
    public bool Created { get; }

    /// <summary>The engine's open connection (tests read the store beside the module through it).</summary>
    internal IDisposable Connection => connection;

    /// <summary>The index's batch jobs and the chunks they hold.</summary>
    internal IBatchJobStore Jobs { get; }
    /// <summary>The index's spend ledger.</summary>
    internal ISpendLedger Spend { get; }
    /// <summary>The values the index keeps by key for every process and host.</summary>
    internal ISettingValues Values { get; }
    /// <summary>The stored documents: lookups, queries, removal and the import's unit of work.</summary>
    internal IDocumentStore Documents { get; }
    /// <summary>The chunks and their embedding statuses.</summary>
    internal IChunkStore Chunks { get; }
    /// <summary>Ranks the index's chunks for a search, by keywords and by meaning, and reads the hits' details.</summary>
    internal IRankingStore Ranking { get; }
    /// <summary>Reads what the health checks look at, and writes backup copies.</summary>
    internal IIndexMaintenance Maintenance { get; }
    /// <summary>Where the Local provider keeps its batch files.</summary>
    internal IBatchFileSpool Spool { get; }

    /// <summary>Runs after the connection closes (a forecast's temporary copy is deleted).</summary>
    internal Action? Closed { get; init; }

    /// <summary>Removes what this open created (<see cref="DiscardIfCreated"/>), after the connection closes.</summary>
    internal Action? Discard { get; init; }

    /// <summary>
    /// Opens the index <paramref name="database"/> names. With <paramref name="createIfMissing"/> (the commands that write
    /// chunks) a missing index is created and settings not yet recorded are recorded; without it a missing index is an
    /// error and nothing but pending migrations is ever written.
    /// </summary>
    public static SemanticIndex Open(string database, bool createIfMissing, IndexSettingsRequest? settings = null) =>
        PostgresLocation.IsPostgres(database)
            ? PostgresIndex.Open(database, createIfMissing, settings)
            : SqliteIndexFile.Open(database, createIfMissing, settings);

    /// <summary>What opening would do to the schema, read without writing anything (<c>-WhatIf</c>).</summary>
    public static SchemaUpdate PlanUpgrade(string database) =>
        PostgresLocation.IsPostgres(database) ? PostgresIndex.PlanUpgrade(database) : SqliteIndexFile.PlanUpgrade(database);

    /// <summary>True when there is an index (a file, or a server index's schema) at <paramref name="database"/>.</summary>
    public static bool Exists(string database) =>
        PostgresLocation.IsPostgres(database) ? PostgresIndex.Exists(database) : File.Exists(database);

    /// <summary>
    /// The name output shows for a server index (<c>postgresql://user@host:port/database?schema=name</c>, never a password),
    /// or null when <paramref name="database"/> is a file path.
    /// </summary>
    /// <exception cref="SemanticCoreException">InvalidDatabaseConnection: a connection URI or string that can't be used.</exception>
    public static string? ServerIndexName(string database) =>
        PostgresLocation.IsPostgres(database) ? PostgresLocation.Parse(database).DisplayName : null;

    /// <summary>
    /// Opens the index for a forecast (<c>-WhatIf</c>) without writing to it: no settings recorded, and an index that needs
    /// a schema upgrade is forecast against an upgraded temporary copy.
    /// </summary>
    public static SemanticIndex OpenForForecast(string database) =>
        PostgresLocation.IsPostgres(database) ? PostgresIndex.OpenForForecast(database) : SqliteIndexFile.OpenForForecast(database);

    /// <summary>True once any document is stored; false on a new index that nothing was imported into.</summary>
    public bool HasDocuments
    {
        get
        {
            try
            {
                return Documents.Find(new DocumentFilter()).Any();
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or SemanticCoreException)
            {
                return true; // unknown: keep the index
            }
        }
    }

    /// <summary>Closes the index and, when this open created it, removes it again: a command that fails at once leaves nothing behind.</summary>
    public void DiscardIfCreated()
    {
        Dispose();
        if (Created) Discard?.Invoke();
    }

    public void Dispose()
    {
        connection.Dispose();
        Closed?.Invoke();
    }

    /// <summary>$env:SEMANTICCORE_BUSY_TIMEOUT when set, else <see cref="DefaultBusyTimeout"/>.</summary>
    /// <exception cref="SemanticCoreException">InvalidBusyTimeout: the variable is not a whole number of seconds from 1 to 86400.</exception>
    public static TimeSpan BusyTimeoutFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(BusyTimeoutVariable);
        return ParseBusyTimeout(value) ?? throw new SemanticCoreException("InvalidBusyTimeout", FailureKind.InvalidArgument,
            $"${BusyTimeoutVariable} must be a whole number of seconds from 1 to {MaxBusyTimeoutSeconds}, not '{value}'. Clear it to wait {DefaultBusyTimeout.TotalSeconds:0} s.");
    }

    /// <summary>How long a command waits, for messages: as <see cref="BusyTimeoutFromEnvironment"/>, without refusing an invalid value.</summary>
    internal static TimeSpan BusyTimeoutInForce =>
        ParseBusyTimeout(Environment.GetEnvironmentVariable(BusyTimeoutVariable)) ?? DefaultBusyTimeout;

    /// <summary>The busy timeout a variable's value sets (the default when it is unset or blank); null when the value is invalid.</summary>
    private static TimeSpan? ParseBusyTimeout(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return DefaultBusyTimeout;
        // Whole seconds: SQLite's driver counts its own wait in seconds, and 0 would mean waiting for ever.
        return int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= MaxBusyTimeoutSeconds
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

}

/// <summary>The stores of one open index, as its engine builds them.</summary>
internal sealed record IndexStores(IBatchJobStore Jobs, ISpendLedger Spend, ISettingValues Values, IDocumentStore Documents, IChunkStore Chunks,
    IRankingStore Ranking, IIndexMaintenance Maintenance, IBatchFileSpool Spool);
