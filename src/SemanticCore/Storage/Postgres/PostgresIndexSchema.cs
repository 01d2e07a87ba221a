using System.Globalization;
using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// Brings an index's schema to this module's layout and reads or records its settings. Migrations of one index are
/// serialized across hosts by a transaction-scoped advisory lock; a newer layout this module cannot use is refused untouched.
/// </summary>
internal static class PostgresIndexSchema
{
    /// <summary>The index's schema version: 0 when the schema (or its history) does not exist yet.</summary>
    public static int ReadVersion(NpgsqlConnection connection, string schema)
    {
        using var exists = new NpgsqlCommand("SELECT to_regclass(quote_ident(@schema) || '.schema_history') IS NOT NULL", connection);
        exists.Parameters.AddWithValue("schema", schema);
        if (exists.ExecuteScalar() is not true) return 0;
        using var command = new NpgsqlCommand($"SELECT COALESCE(max(version), 0) FROM \"{schema}\".schema_history", connection);
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Checks that the schema is an index this module can use and, unless <paramref name="createIfMissing"/> is false and
    /// there is no index, applies the missing versions in one transaction. Returns what it did and whether it created the index.
    /// </summary>
    /// <exception cref="SemanticCoreException">DatabaseNotFound, NotASemanticIndex, SchemaTooNew, SchemaUpgradeFailed.</exception>
    public static (SchemaUpdate Update, bool Created) Migrate(NpgsqlConnection connection, PostgresLocation location, bool createIfMissing)
    {
        var version = ReadVersion(connection, location.Schema);
        if (version == 0 && !createIfMissing)
        {
            CheckNotForeign(connection, location);
            throw new SemanticCoreException("DatabaseNotFound", FailureKind.ObjectNotFound,
                $"There is no index at '{location.DisplayName}' (no schema '{location.Schema}' with a SemanticCore layout). " +
                "Import documents with Import-SemanticDocument to create one, or check -Database / $env:SEMANTICCORE_DATABASE.");
        }

        if (version > PostgresSchema.LatestVersion) return (CheckNewerIsCompatible(connection, location, version), false);
        if (version == PostgresSchema.LatestVersion) return (Unchanged(location, version), false);

        // A session lock taken before the transaction begins: the transaction's start then reads the catalog as the
        // previous migrator left it (a lock taken inside it would leave this session's catalog cache stale).
        Execute(connection, "SELECT pg_advisory_lock(hashtext('SemanticCore.PS schema ' || @schema))", ("schema", location.Schema));
        try
        {
            using var transaction = connection.BeginTransaction();
            var from = ReadVersion(connection, location.Schema); // another host may have migrated while this one waited
            if (from > PostgresSchema.LatestVersion) return (CheckNewerIsCompatible(connection, location, from), false);
            if (from == PostgresSchema.LatestVersion) return (Unchanged(location, from), false);
            // Under the lock: tables another host's migration just committed are not another application's.
            if (from == 0) CheckNotForeign(connection, location);
            var applied = new List<string>();
            if (from == 0) Execute(connection, $"CREATE SCHEMA IF NOT EXISTS \"{location.Schema}\"");
            Execute(connection, PostgresSchema.CreateHistorySql);
            foreach (var step in PostgresSchema.Versions.Where(v => v.Number > from))
            {
                foreach (var statement in step.Statements) Execute(connection, statement);
                Execute(connection, """
                    INSERT INTO schema_history (version, description, min_module_version, applied_at, applied_by)
                    VALUES (@version, @description, @minimum, now(), @by)
                    """, ("version", step.Number), ("description", step.Description), ("minimum", step.MinModuleVersion.ToString(3)),
                    ("by", $"SemanticCore.PS {SemanticIndex.ModuleVersion}"));
                applied.Add($"Version {step.Number}: {step.Description}");
            }

            transaction.Commit();
            return (new SchemaUpdate { Database = location.DisplayName, FromVersion = from, ToVersion = Math.Max(from, PostgresSchema.LatestVersion), Steps = applied }, from == 0);
        }
        catch (PostgresException ex) when (ex.SqlState is not (PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.AdminShutdown))
        {
            throw new SemanticCoreException("SchemaUpgradeFailed", FailureKind.InvalidOperation,
                $"Creating or upgrading the index '{location.DisplayName}' failed and was rolled back; the schema is as it was. {ex.MessageText}", ex);
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open) Execute(connection, "SELECT pg_advisory_unlock(hashtext('SemanticCore.PS schema ' || @schema))", ("schema", location.Schema));
        }
    }

    /// <summary>The settings recorded in the index, or null when none are.</summary>
    public static IndexSettings? ReadSettings(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SELECT key, value FROM settings WHERE key IN ('provider', 'model', 'dimensions')", connection);
        using var reader = command.ExecuteReader();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read()) values[reader.GetString(0)] = reader.GetString(1);
        return values.Count == 3 && Enum.TryParse<EmbeddingProviderKind>(values["provider"], out var provider)
            && int.TryParse(values["dimensions"], NumberStyles.None, CultureInfo.InvariantCulture, out var dimensions) && dimensions > 0
            ? new IndexSettings(provider, values["model"], dimensions)
            : null;
    }

    /// <summary>Records settings unless another session recorded them first (theirs win), and returns what the index holds.</summary>
    public static IndexSettings RecordSettings(NpgsqlConnection connection, IndexSettings settings)
    {
        foreach (var (key, value) in new[] { ("provider", settings.Provider.ToString()), ("model", settings.Model), ("dimensions", settings.Dimensions.ToString(CultureInfo.InvariantCulture)) })
        {
            Execute(connection, "INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING", ("key", key), ("value", value));
        }

        return ReadSettings(connection)!;
    }

    /// <summary>A schema that holds tables of another application is never migrated.</summary>
    private static void CheckNotForeign(NpgsqlConnection connection, PostgresLocation location)
    {
        using var command = new NpgsqlCommand("SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = @schema", connection);
        command.Parameters.AddWithValue("schema", location.Schema);
        if (command.ExecuteScalar() is string tables)
        {
            throw new SemanticCoreException("NotASemanticIndex", FailureKind.InvalidData,
                $"The schema '{location.Schema}' of '{location.DisplayName}' holds tables of another application ({tables}); it was left untouched. " +
                "Name another schema (?schema= in a URI, Search Path= in a connection string).");
        }
    }

    private static SchemaUpdate CheckNewerIsCompatible(NpgsqlConnection connection, PostgresLocation location, int version)
    {
        using var command = new NpgsqlCommand("SELECT min_module_version FROM schema_history WHERE version = @version", connection);
        command.Parameters.AddWithValue("version", version);
        var minimum = command.ExecuteScalar() as string;
        if (minimum is null || !System.Version.TryParse(minimum.Split('-', '+')[0], out var required) || required > SemanticIndex.ModuleVersion)
        {
            throw new SemanticCoreException("SchemaTooNew", FailureKind.InvalidOperation,
                $"The index '{location.DisplayName}' has schema version {version}, newer than this module's {PostgresSchema.LatestVersion}" +
                (minimum is null ? ", and declares no compatibility with older modules." : $", and needs SemanticCore.PS {minimum} or later (this is {SemanticIndex.ModuleVersion}).") +
                " It was left untouched: update the module to use it.");
        }

        return Unchanged(location, version);
    }

    private static SchemaUpdate Unchanged(PostgresLocation location, int version) => new()
    {
        Database = location.DisplayName,
        FromVersion = version,
        ToVersion = version,
        Steps = [],
        Note = version > PostgresSchema.LatestVersion
            ? $"Schema version {version} is newer than this module's {PostgresSchema.LatestVersion} but declares compatibility; it was left as it is."
            : null,
    };

    private static void Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        command.ExecuteNonQuery();
    }
}
