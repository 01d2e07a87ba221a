using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>Opens a PostgreSQL index: connects, brings its schema to this module's layout, reads or records its settings.</summary>
internal static class PostgresIndex
{
    /// <inheritdoc cref="SemanticIndex.Open"/>
    public static SemanticIndex Open(string database, bool createIfMissing, IndexSettingsRequest? settings = null)
    {
        var request = settings ?? IndexSettingsRequest.None;
        // Validated before anything is created: a refused request leaves nothing behind.
        var requested = IndexSettings.FromRequest(request);
        var db = PostgresDatabase.Connect(database);
        NpgsqlConnection? connection = null;
        try
        {
            connection = db.Connect();
            var (migration, created) = PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing);
            var actual = PostgresIndexSchema.ReadSettings(connection) ?? (createIfMissing ? PostgresIndexSchema.RecordSettings(connection, requested) : requested);
            request.EnsureCompatibleWith(actual, db.Location.DisplayName);
            return Create(db, connection, actual, migration, created);
        }
        catch (NpgsqlException ex)
        {
            connection?.Dispose();
            db.Dispose();
            throw PostgresFailures.Map(ex, db.Location.DisplayName, "DatabaseOpenFailed");
        }
        catch
        {
            connection?.Dispose();
            db.Dispose();
            throw;
        }
    }

    /// <summary>True when the schema holds an index (a forecast of a new index must not create one).</summary>
    public static bool Exists(string database)
    {
        using var db = PostgresDatabase.Connect(database);
        using var connection = db.Connect();
        return PostgresIndexSchema.ReadVersion(connection, db.Location.Schema) > 0;
    }

    /// <summary>What opening would do to the schema, read without writing anything (<c>-WhatIf</c>).</summary>
    public static SchemaUpdate PlanUpgrade(string database)
    {
        using var db = PostgresDatabase.Connect(database);
        using var connection = db.Connect();
        var version = PostgresIndexSchema.ReadVersion(connection, db.Location.Schema);
        if (version == 0)
        {
            throw new SemanticCoreException("DatabaseNotFound", FailureKind.ObjectNotFound,
                $"There is no index at '{db.Location.DisplayName}'. Import documents with Import-SemanticDocument to create one, or check -Database / $env:SEMANTICCORE_DATABASE.");
        }

        var steps = PostgresSchema.Versions.Where(v => v.Number > version).Select(v => $"Version {v.Number}: {v.Description}").ToList();
        return new SchemaUpdate { Database = db.Location.DisplayName, FromVersion = version, ToVersion = Math.Max(version, PostgresSchema.LatestVersion), Steps = steps, WhatIf = true };
    }

    /// <summary>Opens the index for a forecast (<c>-WhatIf</c>): nothing is created, migrated or recorded.</summary>
    public static SemanticIndex OpenForForecast(string database)
    {
        var db = PostgresDatabase.Connect(database);
        NpgsqlConnection? connection = null;
        try
        {
            connection = db.Connect();
            var version = PostgresIndexSchema.ReadVersion(connection, db.Location.Schema);
            if (version == 0)
            {
                throw new SemanticCoreException("DatabaseNotFound", FailureKind.ObjectNotFound,
                    $"There is no index at '{db.Location.DisplayName}'. Import documents with Import-SemanticDocument to create one, or check -Database / $env:SEMANTICCORE_DATABASE.");
            }

            var settings = PostgresIndexSchema.ReadSettings(connection) ?? IndexSettings.FromRequest(IndexSettingsRequest.None);
            var migration = new SchemaUpdate { Database = db.Location.DisplayName, FromVersion = version, ToVersion = version, Steps = [], WhatIf = true };
            return Create(db, connection, settings, migration, created: false);
        }
        catch (NpgsqlException ex)
        {
            connection?.Dispose();
            db.Dispose();
            throw PostgresFailures.Map(ex, db.Location.DisplayName, "DatabaseOpenFailed");
        }
        catch
        {
            connection?.Dispose();
            db.Dispose();
            throw;
        }
    }

    private static SemanticIndex Create(PostgresDatabase db, NpgsqlConnection connection, IndexSettings settings, SchemaUpdate migration, bool created)
    {
        var name = db.Location.DisplayName;
        var documents = new PostgresDocumentStore(connection, name, settings);
        var stores = new IndexStores(
            new PostgresBatchJobStore(connection, name, settings),
            new PostgresSpendLedger(connection, name),
            new PostgresSettingValues(connection, name),
            documents,
            new PostgresChunkStore(connection, documents, name),
            new PostgresRankingStore(connection, name, settings),
            new PostgresIndexMaintenance(connection, db.Location, settings),
            new PostgresBatchFileSpool(connection));
        return new SemanticIndex(name, settings, migration, created, stores, connection)
        {
            Closed = db.Dispose,
            Discard = () => DropSchema(db.Location),
        };
    }

    /// <summary>Drops the schema this open created (a command that failed at once leaves nothing behind).</summary>
    private static void DropSchema(PostgresLocation location)
    {
        using var connection = new NpgsqlConnection(location.ConnectionString);
        connection.Open();
        using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{location.Schema}\" CASCADE", connection);
        drop.ExecuteNonQuery();
    }
}
