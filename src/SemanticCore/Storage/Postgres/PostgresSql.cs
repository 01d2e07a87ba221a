using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>One-statement helpers: a command with named parameters (null becomes SQL NULL), and provider failures as ErrorIds.</summary>
internal static class PostgresSql
{
    public static int Execute(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    public static object? Scalar(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteScalar();
    }

    public static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    /// <summary>Runs a change of the index; a PostgreSQL failure (server gone, lock, full disk) becomes its documented ErrorId.</summary>
    public static T Write<T>(string displayName, Func<T> change)
    {
        try
        {
            return change();
        }
        catch (NpgsqlException ex)
        {
            throw PostgresFailures.Map(ex, displayName, "DatabaseWriteFailed");
        }
    }

    /// <inheritdoc cref="Write{T}(string, Func{T})"/>
    public static void Write(string displayName, Action change) => Write(displayName, () =>
    {
        change();
        return true;
    });
}
