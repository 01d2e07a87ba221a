using Microsoft.Data.Sqlite;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// Opens an SQLite index: one file in WAL mode with foreign keys on and a busy timeout. Opening checks that the file
/// is an SQLite database and ours, refuses (untouched) a newer schema this module cannot use, creates a new index and
/// applies pending additive migrations.
/// </summary>
internal static class SqliteIndexFile
{
    /// <summary>The most dimensions any provider records (Local's 8,192, with room to spare).</summary>
    private const int MaxDimensions = 65_536;

    private static readonly byte[] SqliteHeader = "SQLite format 3\0"u8.ToArray();

    /// <summary>
    /// Opens the index at a full path. With <paramref name="createIfMissing"/> (the commands that write
    /// chunks) a missing file is created and settings not yet recorded are recorded; without it a
    /// missing file is an error and nothing but pending migrations is ever written.
    /// </summary>
    public static SemanticIndex Open(string path, bool createIfMissing, IndexSettingsRequest? settings = null)
    {
        var request = settings ?? IndexSettingsRequest.None;
        var isNew = CheckFile(path, createIfMissing);
        // Validated before the file exists: a refused request leaves nothing behind.
        var requested = isNew ? IndexSettings.FromRequest(request) : null;
        SqliteConnection? connection = null;
        try
        {
            if (isNew) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            connection = Connect(path, SqliteOpenMode.ReadWriteCreate);
            var fromVersion = ReadVersion(connection);
            CheckOwnership(connection, path, fromVersion);
            if (fromVersion > Schema.LatestVersion) CheckNewerIsCompatible(connection, path, fromVersion);

            if (isNew) Sql.Execute(connection, "PRAGMA page_size = 16384"); // vectors share pages instead of overflowing 4 KiB ones
            var migration = fromVersion < Schema.LatestVersion ? Migrate(connection, path) : Unchanged(path, fromVersion);
            // After the migration: a failed one must leave the file exactly as it was, header included.
            Sql.Execute(connection, "PRAGMA journal_mode = WAL");
            Sql.Execute(connection, "PRAGMA synchronous = NORMAL");
            requested ??= IndexSettings.FromRequest(request);
            var actual = ReadSettings(connection, path) ?? (createIfMissing ? RecordSettings(connection, path, requested) : requested);
            request.EnsureCompatibleWith(actual, path);
            return Create(path, connection, actual, migration, isNew);
        }
        catch (SqliteException ex)
        {
            connection?.Dispose();
            throw SqliteFailures.Map(ex, path, "DatabaseOpenFailed");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            throw new SemanticCoreException("DatabaseOpenFailed", FailureKind.ResourceUnavailable, $"Cannot open the index '{path}': {ex.Message}", ex);
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>What opening would do to the schema, read without writing anything (<c>-WhatIf</c>).</summary>
    public static SchemaUpdate PlanUpgrade(string path)
    {
        CheckFile(path, createIfMissing: false);
        using var connection = Connect(path, SqliteOpenMode.ReadOnly);
        var fromVersion = ReadVersion(connection);
        CheckOwnership(connection, path, fromVersion);
        if (fromVersion > Schema.LatestVersion)
        {
            CheckNewerIsCompatible(connection, path, fromVersion);
            return Unchanged(path, fromVersion, whatIf: true);
        }

        var steps = Schema.Migrations.Where(m => m.Version > fromVersion).SelectMany(m => m.Plan(connection)).Select(s => s.Description).ToList();
        return new SchemaUpdate { Database = path, FromVersion = fromVersion, ToVersion = Schema.LatestVersion, Steps = steps, WhatIf = true };
    }

    /// <summary>
    /// Opens the index for a forecast (<c>-WhatIf</c>) without writing a byte of it: read-only, no settings recorded,
    /// and an index that needs a schema upgrade is upgraded in a temporary copy (SQLite's backup API), deleted on dispose, instead.
    /// </summary>
    public static SemanticIndex OpenForForecast(string path)
    {
        CheckFile(path, createIfMissing: false);
        SqliteConnection? connection = null;
        try
        {
            connection = Connect(path, SqliteOpenMode.ReadOnly);
            var fromVersion = ReadVersion(connection);
            CheckOwnership(connection, path, fromVersion);
            if (fromVersion > Schema.LatestVersion) CheckNewerIsCompatible(connection, path, fromVersion);

            var migration = Unchanged(path, fromVersion, whatIf: true);
            string? copyPath = null;
            if (fromVersion < Schema.LatestVersion)
            {
                // A temporary file, not memory: an index can be larger than the memory a forecast may take.
                copyPath = Path.Combine(Path.GetTempPath(), $"semanticcore-forecast-{Guid.NewGuid():N}.db");
                var copy = Connect(copyPath, SqliteOpenMode.ReadWriteCreate);
                using (var file = connection) file.BackupDatabase(copy);
                connection = copy;
                var upgrade = Migrate(connection, path);
                migration = new SchemaUpdate { Database = path, FromVersion = upgrade.FromVersion, ToVersion = upgrade.ToVersion, Steps = upgrade.Steps, WhatIf = true };
            }

            var settings = ReadSettings(connection, path) ?? IndexSettings.FromRequest(IndexSettingsRequest.None);
            return Create(path, connection, settings, migration, created: false, copyPath);
        }
        catch (SqliteException ex)
        {
            connection?.Dispose();
            throw SqliteFailures.Map(ex, path, "DatabaseOpenFailed");
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>The index object over an open file: its stores, and what closing or discarding it deletes.</summary>
    private static SemanticIndex Create(string path, SqliteConnection connection, IndexSettings settings, SchemaUpdate migration, bool created, string? forecastCopy = null)
    {
        var documents = new SqliteDocumentStore(connection, path, settings);
        var stores = new IndexStores(
            new SqliteBatchJobStore(connection, path, settings),
            new SqliteSpendLedger(connection, path),
            new SqliteSettingValues(connection),
            documents,
            new SqliteChunkStore(connection, documents, path),
            new SqliteRankingStore(connection, documents, path, settings),
            new SqliteIndexMaintenance(connection),
            new FolderSpool(path + ".batches"));
        return new SemanticIndex(path, settings, migration, created, stores, connection)
        {
            // The upgraded temporary copy a forecast of an older index reads goes with the index object.
            Closed = forecastCopy is null ? null : () => DeleteFiles(forecastCopy, "-wal", "-shm", "-journal"),
            Discard = () => DeleteFiles(path, "-wal", "-shm"),
        };
    }

    private static void DeleteFiles(string path, params string[] suffixes)
    {
        File.Delete(path);
        foreach (var suffix in suffixes) File.Delete(path + suffix);
    }

    private static SqliteConnection Connect(string path, SqliteOpenMode mode)
    {
        var busyTimeout = SemanticIndex.BusyTimeoutFromEnvironment();
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            // A pooled connection keeps the file open after the cmdlet ends; scheduled runs and tests need it closed.
            Pooling = false,
            DefaultTimeout = (int)busyTimeout.TotalSeconds,
            ForeignKeys = true,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Sql.Execute(connection, $"PRAGMA busy_timeout = {(int)busyTimeout.TotalMilliseconds}");
            // The one mapping of stored chunk types (older layouts included) to ChunkType, for filters in SQL.
            connection.CreateFunction("chunk_type_name", (string? name) => ChunkTypeNames.FromStorageName(name).ToString(), isDeterministic: true);
            return connection;
        }
        catch (SqliteException ex)
        {
            connection.Dispose();
            throw new SemanticCoreException("DatabaseOpenFailed", FailureKind.ResourceUnavailable,
                $"Cannot open the index '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>Refuses what is not an SQLite file before SQLite touches it; returns true for a new index.</summary>
    private static bool CheckFile(string path, bool createIfMissing)
    {
        if (Directory.Exists(path))
        {
            throw new SemanticCoreException("DatabaseIsDirectory", FailureKind.InvalidArgument,
                $"The index path '{path}' is a directory; give the path of a database file, e.g. '{Path.Combine(path, "index.db")}'.");
        }

        var file = new FileInfo(path);
        if (file.Exists && !FileKind.IsRegular(path))
        {
            // /dev/null and friends: SQLite would open them, and leave a journal beside them.
            throw new SemanticCoreException("NotADatabase", FailureKind.InvalidData,
                $"'{path}' is not a regular file (a device, a named pipe or a socket); it was left untouched. Give -Database the path of a SemanticCore index or of a new file.");
        }

        if (!file.Exists || file.Length == 0)
        {
            if (createIfMissing) return true;
            throw new SemanticCoreException("DatabaseNotFound", FailureKind.ObjectNotFound,
                $"There is no index at '{path}'. Import documents with Import-SemanticDocument to create one, or check -Database / $env:SEMANTICCORE_DATABASE.");
        }

        var header = new byte[SqliteHeader.Length];
        int read;
        try
        {
            using var stream = file.OpenRead();
            read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new SemanticCoreException("DatabaseUnreadable", FailureKind.PermissionDenied, $"Cannot read the index '{path}': {ex.Message}", ex);
        }

        if (read < header.Length || !header.AsSpan().SequenceEqual(SqliteHeader))
        {
            throw new SemanticCoreException("NotADatabase", FailureKind.InvalidData,
                $"'{path}' is not an SQLite database; it was left untouched. Give -Database the path of a SemanticCore index or of a new file.");
        }

        return false;
    }

    /// <summary>A file of another application is never migrated: only ours, the earlier layout, or an empty database.</summary>
    private static void CheckOwnership(SqliteConnection connection, string path, int version)
    {
        var applicationId = Convert.ToInt32(Sql.Scalar(connection, "PRAGMA application_id"));
        if (applicationId == Schema.ApplicationId) return;

        var tables = SchemaInspector.Tables(connection);
        var earlierLayout = tables.Contains("chunks") && SchemaInspector.Columns(connection, "chunks").Contains("content");
        if (applicationId == 0 && (tables.Count == 0 || earlierLayout)) return;

        throw new SemanticCoreException("NotASemanticIndex", FailureKind.InvalidData,
            $"'{path}' is an SQLite database of another application (tables: {string.Join(", ", tables.Order().Take(8))}; schema version {version}); it was left untouched.");
    }

    private static void CheckNewerIsCompatible(SqliteConnection connection, string path, int version)
    {
        var minimum = SchemaInspector.Tables(connection).Contains("schema_history")
            ? Sql.Scalar(connection, "SELECT min_module_version FROM schema_history WHERE version = $version", ("$version", version)) as string
            : null;

        if (minimum is null || !Version.TryParse(minimum.Split('-', '+')[0], out var required))
        {
            throw new SemanticCoreException("SchemaTooNew", FailureKind.InvalidOperation,
                $"The index '{path}' has schema version {version}, newer than this module's {Schema.LatestVersion}, and declares no compatibility with older modules. " +
                $"It was left untouched: update SemanticCore.PS (this is {SemanticIndex.ModuleVersion}) to use it.");
        }

        if (required > SemanticIndex.ModuleVersion)
        {
            throw new SemanticCoreException("SchemaTooNew", FailureKind.InvalidOperation,
                $"The index '{path}' has schema version {version}, which needs SemanticCore.PS {required} or later (this is {SemanticIndex.ModuleVersion}). " +
                "It was left untouched: update the module to use it.");
        }
    }

    /// <summary>Applies every pending migration in one transaction: a failure part-way leaves the file as it was.</summary>
    private static SchemaUpdate Migrate(SqliteConnection connection, string path)
    {
        try
        {
            return MigrateInTransaction(connection, path);
        }
        catch (SqliteException ex)
        {
            throw new SemanticCoreException("SchemaUpgradeFailed", FailureKind.InvalidOperation,
                $"Upgrading the schema of '{path}' failed and was rolled back; the file is as it was. {ex.Message}", ex);
        }
    }

    private static SchemaUpdate MigrateInTransaction(SqliteConnection connection, string path)
    {
        using var transaction = connection.BeginTransaction(); // BEGIN IMMEDIATE: one migrator at a time
        var fromVersion = ReadVersion(connection);               // re-read: another process may have migrated meanwhile
        var applied = new List<string>();
        foreach (var migration in Schema.Migrations.Where(m => m.Version > fromVersion))
        {
            foreach (var step in migration.Plan(connection).ToList())
            {
                Sql.Execute(connection, step.Sql);
                applied.Add(step.Description);
            }

            Sql.Execute(connection, Schema.CreateHistorySql);
            Sql.Execute(connection, """
                INSERT OR REPLACE INTO schema_history (version, description, min_module_version, applied_at, applied_by)
                VALUES ($version, $description, $minimum, $at, $by)
                """,
                ("$version", migration.Version), ("$description", migration.Description), ("$minimum", migration.MinModuleVersion.ToString(3)),
                ("$at", Timestamps.Now()), ("$by", $"SemanticCore.PS {SemanticIndex.ModuleVersion}"));
            Sql.Execute(connection, $"PRAGMA user_version = {migration.Version}");
        }

        Sql.Execute(connection, $"PRAGMA application_id = {Schema.ApplicationId}");
        transaction.Commit();
        return new SchemaUpdate { Database = path, FromVersion = fromVersion, ToVersion = Math.Max(fromVersion, Schema.LatestVersion), Steps = applied };
    }

    private static SchemaUpdate Unchanged(string path, int version, bool whatIf = false) => new()
    {
        WhatIf = whatIf,
        Database = path,
        FromVersion = version,
        ToVersion = version,
        Steps = [],
        Note = version > Schema.LatestVersion
            ? $"Schema version {version} is newer than this module's {Schema.LatestVersion} but declares compatibility; it was left as it is."
            : null,
    };

    /// <summary>The settings recorded in the index, or null when none are (a new index, or one of the earlier layout).</summary>
    private static IndexSettings? ReadSettings(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key, value FROM settings WHERE key IN ('provider', 'model', 'dimensions')";
        using var reader = command.ExecuteReader();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read()) values[reader.GetString(0)] = reader.GetString(1);
        if (values.TryGetValue("dimensions", out var recorded) &&
            !(int.TryParse(recorded, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= MaxDimensions))
        {
            // No module ever records that: the settings were edited or damaged, and no vector could be read with them.
            throw new SemanticCoreException("IndexCorrupt", FailureKind.InvalidData,
                $"The index '{path}' is damaged: its recorded dimensions ('{recorded}') are not a number from 1 to {MaxDimensions:N0}. Restore it from a backup.");
        }

        return values.Count == 3 && Enum.TryParse<EmbeddingProviderKind>(values["provider"], out var provider) && int.TryParse(values["dimensions"], out var dimensions)
            ? new IndexSettings(provider, values["model"], dimensions)
            : null;
    }

    private static IndexSettings RecordSettings(SqliteConnection connection, string path, IndexSettings settings)
    {
        using (var transaction = connection.BeginTransaction())
        {
            foreach (var (key, value) in new[] { ("provider", settings.Provider.ToString()), ("model", settings.Model), ("dimensions", settings.Dimensions.ToString(System.Globalization.CultureInfo.InvariantCulture)) })
            {
                // OR IGNORE: if another process recorded settings first, theirs win and are read back below.
                Sql.Execute(connection, "INSERT OR IGNORE INTO settings (key, value) VALUES ($key, $value)", ("$key", key), ("$value", value));
            }

            transaction.Commit();
        }

        return ReadSettings(connection, path)!;
    }

    private static int ReadVersion(SqliteConnection connection) => Convert.ToInt32(Sql.Scalar(connection, "PRAGMA user_version"));
}
