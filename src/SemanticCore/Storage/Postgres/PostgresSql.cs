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

    /// <summary>
    /// Runs a transaction that is safe to run again (its changes are guarded), again when PostgreSQL chose it as a
    /// deadlock's victim and rolled it back: another host's transaction held rows in another order. At most 5 tries.
    /// </summary>
    public static T RetriedOnDeadlock<T>(Func<T> transaction)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return transaction();
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
                // A short random pause, so the two sessions do not meet again in the same order at once.
                Thread.Sleep(Random.Shared.Next(20, 100) * attempt);
            }
        }
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
