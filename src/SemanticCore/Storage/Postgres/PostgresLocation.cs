using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// A PostgreSQL index as <c>-Database</c> names it: a connection URI (<c>postgresql://</c> or <c>postgres://</c>, with
/// <c>?schema=</c> naming the index's schema) or an Npgsql connection string (<c>Host=...;Database=...</c>, with
/// <c>Search Path</c> naming it). Passwords come from the string, <c>PGPASSWORD</c> or the pgpass file (Npgsql reads both).
/// </summary>
internal sealed record PostgresLocation(string ConnectionString, string Schema, string DisplayName)
{
    /// <summary>The schema an index lives in when the location names none.</summary>
    public const string DefaultSchema = "semanticcore";

    /// <summary>URI parameters and the Npgsql keywords they set (libpq's names, as psql takes them).</summary>
    private static readonly Dictionary<string, string> UriParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["target_session_attrs"] = "Target Session Attributes",
        ["passfile"] = "Passfile",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslrootcert"] = "Root Certificate",
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["host"] = "Host",
        ["port"] = "Port",
    };

    /// <summary>True when <paramref name="database"/> names a PostgreSQL index rather than an SQLite file.</summary>
    public static bool IsPostgres(string database)
    {
        var text = database.TrimStart();
        return text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || LooksLikeConnectionString(text);
    }

    /// <summary>Parses a URI or connection string; the display name never holds the password.</summary>
    /// <exception cref="SemanticCoreException">InvalidDatabaseConnection: not a URI or connection string Npgsql accepts, or a bad schema name.</exception>
    public static PostgresLocation Parse(string database)
    {
        var text = database.Trim();
        NpgsqlConnectionStringBuilder builder;
        string? schema;
        try
        {
            (builder, schema) = text.Contains("://", StringComparison.Ordinal) ? FromUri(text) : FromConnectionString(text);
        }
        catch (ArgumentException ex)
        {
            throw Invalid($"{ex.Message.Split(" (Parameter")[0]}");
        }

        if (string.IsNullOrEmpty(builder.Host)) throw Invalid("it names no host");
        schema ??= DefaultSchema;
        if (schema.Length is 0 or > 63 || !schema.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_') || char.IsAsciiDigit(schema[0]))
        {
            throw Invalid($"the schema name '{schema}' must be 1 to 63 lower-case letters, digits or underscores, not starting with a digit");
        }

        builder.SearchPath = schema;
        // One connection per command is enough; a pool kept after the cmdlet ends would hold server sessions open.
        builder.Pooling = false;
        builder.ApplicationName ??= "SemanticCore.PS";
        var display = Display(builder, schema);
        if (!string.IsNullOrEmpty(builder.Password)) Named[display] = builder.ConnectionString;
        // A name shown on output (no password, no options) connects as the string the index was opened with.
        else if (Named.TryGetValue(display, out var named)) return new PostgresLocation(named, schema, display);
        return new PostgresLocation(builder.ConnectionString, schema, display);
    }

    /// <summary>
    /// The connection string each index was named with in this process (password, TLS and other options), by display
    /// name: an output object's Database, which shows none of them, piped into the next cmdlet connects as the command
    /// that made the object did.
    /// </summary>
    private static readonly ConcurrentDictionary<string, string> Named = new();

    /// <summary>What output objects show: <c>postgresql://user@host:port/database?schema=name</c>, never a password.</summary>
    private static string Display(NpgsqlConnectionStringBuilder builder, string schema)
    {
        var user = string.IsNullOrEmpty(builder.Username) ? "" : Uri.EscapeDataString(builder.Username) + "@";
        var port = builder.Port == NpgsqlConnection.DefaultPort ? "" : ":" + builder.Port.ToString(CultureInfo.InvariantCulture);
        var database = string.IsNullOrEmpty(builder.Database) ? "" : "/" + Uri.EscapeDataString(builder.Database);
        return $"postgresql://{user}{builder.Host}{port}{database}?schema={schema}";
    }

    private static (NpgsqlConnectionStringBuilder, string?) FromConnectionString(string text)
    {
        var builder = new NpgsqlConnectionStringBuilder(text);
        var schema = builder.SearchPath?.Split(',')[0].Trim().Trim('"');
        return (builder, string.IsNullOrEmpty(schema) ? null : schema);
    }

    /// <summary>A libpq connection URI: <c>postgresql://[user[:password]@][host][:port][/database][?name=value&amp;...]</c>.</summary>
    private static (NpgsqlConnectionStringBuilder, string?) FromUri(string text)
    {
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (!text[..scheme].Equals("postgresql", StringComparison.OrdinalIgnoreCase) && !text[..scheme].Equals("postgres", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"the scheme '{text[..scheme]}' is neither postgresql:// nor postgres://");
        }

        var rest = text[(scheme + 3)..];
        var query = "";
        if (rest.IndexOf('?') is var q and >= 0) (rest, query) = (rest[..q], rest[(q + 1)..]);
        var path = "";
        if (rest.IndexOf('/') is var slash and >= 0) (rest, path) = (rest[..slash], rest[(slash + 1)..]);
        var builder = new NpgsqlConnectionStringBuilder();
        if (rest.LastIndexOf('@') is var at and >= 0)
        {
            var credentials = rest[..at];
            rest = rest[(at + 1)..];
            var colon = credentials.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon >= 0 ? credentials[..colon] : credentials);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(credentials[(colon + 1)..]);
        }

        // host, host:port, [v6]:port, or several comma-separated (Npgsql takes them as they are).
        var portAt = rest.StartsWith('[') ? rest.IndexOf("]:", StringComparison.Ordinal) + 1 : rest.LastIndexOf(':');
        if (portAt > 0 && !rest.Contains(','))
        {
            builder.Port = int.TryParse(rest[(portAt + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                ? port : throw new ArgumentException($"the port '{rest[(portAt + 1)..]}' is not a number");
            rest = rest[..portAt];
        }

        builder.Host = Uri.UnescapeDataString(rest.Trim('[', ']'));
        if (path.Length > 0) builder.Database = Uri.UnescapeDataString(path);
        string? schema = null;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var name = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair);
            var value = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')) : "";
            if (name.Equals("schema", StringComparison.OrdinalIgnoreCase)) schema = value;
            else if (UriParameters.TryGetValue(name, out var keyword)) builder[keyword] = value;
            else throw new ArgumentException($"the URI parameter '{name}' is not supported (supported: schema, {string.Join(", ", UriParameters.Keys.Order())})");
        }

        return (builder, schema);
    }

    private static bool LooksLikeConnectionString(string text) =>
        text.Contains('=') && text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(part => part.Split('=')[0].Trim() is var key && (key.Equals("Host", StringComparison.OrdinalIgnoreCase) || key.Equals("Server", StringComparison.OrdinalIgnoreCase)));

    private static SemanticCoreException Invalid(string problem) => new("InvalidDatabaseConnection", FailureKind.InvalidArgument,
        $"-Database names a PostgreSQL index, but {problem}. Give a URI such as 'postgresql://user@host:5432/database?schema=kb' " +
        "or a connection string such as 'Host=host;Database=database;Username=user;Search Path=kb' (the password from PGPASSWORD or the pgpass file).");
}
