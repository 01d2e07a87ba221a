using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using SemanticCore.Storage;
using SemanticCore.Storage.Postgres;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.Tests.Storage;

/// <summary>A fresh index on one backend ("Sqlite" or "Postgres") for the store contract tests; each <see cref="Open"/> is another session on it.</summary>
internal sealed class StoreBackend : IDisposable
{
    public const string Sqlite = "Sqlite";
    public static readonly IndexSettings Settings = new(EmbeddingProviderKind.Local, "local-test", 16);

    private readonly string? folder;
    private readonly string? postgres;

    public StoreBackend(string name)
    {
        if (name == Sqlite) folder = Directory.CreateTempSubdirectory("semanticcore-store-").FullName;
        else postgres = PostgresFactAttribute.NewIndex();
    }

    public StoreSession Open()
    {
        if (folder is not null)
        {
            var index = SemanticIndex.Open(Path.Combine(folder, "index.db"), createIfMissing: true,
                new IndexSettingsRequest(Settings.Provider, Settings.Model, Settings.Dimensions));
            return new StoreSession(index.Documents, index.Chunks, (DbConnection)index.Connection, index);
        }

        var database = PostgresDatabase.Connect(postgres!);
        var connection = database.Connect();
        PostgresIndexSchema.Migrate(connection, database.Location, createIfMissing: true);
        var settings = PostgresIndexSchema.RecordSettings(connection, Settings);
        var documents = new PostgresDocumentStore(connection, database.Location.DisplayName, settings);
        return new StoreSession(documents, new PostgresChunkStore(connection, documents, database.Location.DisplayName), connection, connection, database);
    }

    public void Dispose()
    {
        if (folder is null) return;
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

/// <summary>One session on a <see cref="StoreBackend"/>: its stores, and SQL (written to run on both engines) to set up or inspect rows.</summary>
internal sealed class StoreSession(IDocumentStore documents, IChunkStore chunks, DbConnection connection, params IDisposable[] owned) : IDisposable
{
    public IDocumentStore Documents { get; } = documents;
    public IChunkStore Chunks { get; } = chunks;

    /// <summary>Runs <paramref name="sql"/> (parameters written <c>@name</c>) and returns its first value.</summary>
    public object? Sql(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command.ExecuteScalar();
    }

    public void Dispose()
    {
        foreach (var owner in owned) owner.Dispose();
    }
}
