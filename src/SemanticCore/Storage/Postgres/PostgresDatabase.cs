using System.Net.Sockets;
using Npgsql;
using Pgvector.Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// An open PostgreSQL index: the data source (with pgvector's types) of its database, its schema brought to this module's
/// layout under an advisory lock (one migrator across hosts), and its recorded settings.
/// </summary>
internal sealed class PostgresDatabase : IDisposable
{
    private PostgresDatabase(PostgresLocation location, NpgsqlDataSource dataSource)
    {
        Location = location;
        DataSource = dataSource;
    }

    public PostgresLocation Location { get; }

    /// <summary>Connections with the index's schema first on their search path and pgvector's types loaded.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>Opens a connection to the index; a failure to connect is a documented ErrorId.</summary>
    public NpgsqlConnection Connect()
    {
        try
        {
            return DataSource.OpenConnection();
        }
        catch (NpgsqlException ex)
        {
            throw PostgresFailures.Map(ex, Location.DisplayName, "DatabaseOpenFailed");
        }
    }

    /// <summary>
    /// Connects, makes sure pgvector is there (creating the extension when the account may), and returns the database with
    /// its search path set to the index's schema, then the extension's.
    /// </summary>
    /// <exception cref="SemanticCoreException">DatabaseUnavailable, DatabaseAuthenticationFailed, DatabaseNotFound, PgvectorMissing, InvalidDatabaseConnection.</exception>
    public static PostgresDatabase Connect(string database)
    {
        var location = PostgresLocation.Parse(database);
        string vectorSchema;
        try
        {
            using var plain = new NpgsqlConnection(location.ConnectionString);
            plain.Open();
            vectorSchema = EnsureVector(plain, location);
        }
        catch (NpgsqlException ex)
        {
            throw PostgresFailures.Map(ex, location.DisplayName, "DatabaseOpenFailed");
        }

        var builder = new NpgsqlDataSourceBuilder(location.ConnectionString);
        builder.ConnectionStringBuilder.SearchPath = $"\"{location.Schema}\",\"{vectorSchema.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
        builder.UseVector();
        return new PostgresDatabase(location, builder.Build());
    }

    /// <summary>The schema pgvector is installed in, after creating it when it is missing and the account may.</summary>
    private static string EnsureVector(NpgsqlConnection connection, PostgresLocation location)
    {
        if (VectorSchema(connection) is { } schema) return schema;
        try
        {
            // In public, where every index's schema finds it, not in the index's own schema.
            using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public", connection);
            create.ExecuteNonQuery();
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation)
        {
            // Another session created it at the same moment.
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new SemanticCoreException("PgvectorMissing", FailureKind.InvalidOperation,
                $"The database of '{location.DisplayName}' has no pgvector extension, and this account may not create it. " +
                $"Ask its administrator to run 'CREATE EXTENSION vector;' in database '{connection.Database}' once.", ex);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UndefinedFile or PostgresErrorCodes.FeatureNotSupported)
        {
            throw new SemanticCoreException("PgvectorMissing", FailureKind.InvalidOperation,
                $"The server of '{location.DisplayName}' has no pgvector installed ({ex.MessageText}). Install pgvector on the server " +
                "(https://github.com/pgvector/pgvector#installation), then run the command again.", ex);
        }

        return VectorSchema(connection)!;
    }

    private static string? VectorSchema(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'", connection);
        return command.ExecuteScalar() as string;
    }

    public void Dispose() => DataSource.Dispose();
}

/// <summary>PostgreSQL's failures as the module's documented ErrorIds, each saying what to do; never with a password.</summary>
internal static class PostgresFailures
{
    /// <summary>As <see cref="Map"/> for PostgreSQL's failures; null for another engine's.</summary>
    public static SemanticCoreException? TryMap(System.Data.Common.DbException exception, string displayName, string fallbackId, FailureKind fallbackKind) =>
        exception is NpgsqlException npgsql ? Map(npgsql, displayName, fallbackId, fallbackKind) : null;

    /// <param name="fallbackId">The ErrorId of any other failure (what the caller was doing).</param>
    public static SemanticCoreException Map(NpgsqlException exception, string displayName, string fallbackId, FailureKind fallbackKind = FailureKind.ResourceUnavailable)
    {
        if (exception is PostgresException server)
        {
            return server.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification => new SemanticCoreException(
                    "DatabaseAuthenticationFailed", FailureKind.PermissionDenied,
                    $"The server of '{displayName}' refused the login ({server.MessageText}). Check the user name and the password " +
                    "(in the connection string, $env:PGPASSWORD or the pgpass file).", exception),
                PostgresErrorCodes.InvalidCatalogName => new SemanticCoreException("DatabaseNotFound", FailureKind.ObjectNotFound,
                    $"There is no database for '{displayName}' on its server ({server.MessageText}). Create it (CREATE DATABASE), or check -Database / $env:SEMANTICCORE_DATABASE.", exception),
                PostgresErrorCodes.InsufficientPrivilege => new SemanticCoreException("IndexReadOnly", FailureKind.PermissionDenied,
                    $"The account may not do this on '{displayName}' ({server.MessageText}). Grant it the privileges docs/postgres.md lists.", exception),
                PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections => Unavailable(exception, displayName),
                PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected => new SemanticCoreException("IndexLocked", FailureKind.ResourceUnavailable,
                    $"The index '{displayName}' stayed locked by another session ({server.MessageText}). Run the command again.", exception),
                PostgresErrorCodes.DiskFull => new SemanticCoreException("DiskFull", FailureKind.ResourceUnavailable,
                    $"The server of '{displayName}' is out of disk space ({server.MessageText}); nothing of the failed step was kept.", exception),
                _ => new SemanticCoreException(fallbackId, fallbackKind, $"The index '{displayName}': {server.MessageText}", exception),
            };
        }

        return exception.InnerException is SocketException or IOException or TimeoutException || exception.IsTransient
            ? Unavailable(exception, displayName)
            : new SemanticCoreException(fallbackId, fallbackKind, $"The index '{displayName}': {exception.Message}", exception);
    }

    private static SemanticCoreException Unavailable(NpgsqlException exception, string displayName) => new("DatabaseUnavailable", FailureKind.ResourceUnavailable,
        $"The server of '{displayName}' can't be reached or closed the connection ({(exception.InnerException ?? exception).Message}). " +
        "Nothing of the failed step was kept: check that the server is running and reachable, then run the command again.", exception);
}
