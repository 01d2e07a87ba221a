using System.Reflection;
using Microsoft.Data.Sqlite;
using Npgsql;
using SemanticCore.Ingestion;
using SemanticCore.Storage;
using SemanticCore.Storage.Postgres;
using SemanticCore.Storage.Sqlite;
using SemanticCore.Tests.Postgres;
using Xunit.Sdk;

namespace SemanticCore.Tests.Storage;

/// <summary>
/// A new index on one backend, seen through the storage facets alone, for contract tests that must hold on every backend:
/// a theory takes the backend's name (<c>[InlineData(JobStoreBackend.Sqlite), PostgresBackend]</c>).
/// </summary>
public abstract class JobStoreBackend : IDisposable
{
    public const string Sqlite = "Sqlite", Postgres = "Postgres";

    internal abstract IBatchJobStore Jobs { get; }
    internal abstract ISpendLedger Spend { get; }
    internal abstract ISettingValues Values { get; }

    /// <summary>A new index of <paramref name="provider"/>'s default model on the named backend.</summary>
    internal static JobStoreBackend Create(string backend, EmbeddingProviderKind provider, int? dimensions = null)
    {
        var settings = IndexSettings.FromRequest(new IndexSettingsRequest(provider, null, dimensions));
        return backend == Postgres ? PostgresBackend.Create(settings) : SqliteBackend.Create(settings);
    }

    /// <summary>Another connection to the same index, as a second process or host opens it.</summary>
    public abstract JobStoreBackend OpenAnother();

    /// <summary>Adds <paramref name="count"/> Pending chunks of one new document; returns their ids in order.</summary>
    public abstract List<long> AddPendingChunks(int count);

    /// <summary>Runs a statement written for both dialects, with <c>$name</c> parameters.</summary>
    public abstract int Execute(string sql, params (string Name, object? Value)[] parameters);

    public abstract void Dispose();

    private sealed class SqliteBackend(SemanticIndex index, string folder, bool owner) : JobStoreBackend
    {
        internal override IBatchJobStore Jobs => index.Jobs;
        internal override ISpendLedger Spend => index.Spend;
        internal override ISettingValues Values => index.Values;

        public static SqliteBackend Create(IndexSettings settings)
        {
            var folder = Directory.CreateTempSubdirectory("semanticcore-store-").FullName;
            var request = new IndexSettingsRequest(settings.Provider, settings.Model, settings.Dimensions);
            return new SqliteBackend(SemanticIndex.Open(Path.Combine(folder, "index.db"), createIfMissing: true, request), folder, owner: true);
        }

        public override JobStoreBackend OpenAnother() => new SqliteBackend(SemanticIndex.Open(index.DatabasePath, createIfMissing: false), folder, owner: false);

        public override List<long> AddPendingChunks(int count)
        {
            var before = index.Jobs.PendingTexts().Select(c => c.Id).ToHashSet();
            var file = Path.Combine(folder, $"guide-{Guid.NewGuid():N}.md");
            File.WriteAllText(file, "# Guide\n\n" + string.Concat(Enumerable.Range(0, count).Select(i => $"## Part {i}\n\nParagraph {i} about keys.\n\n")));
            using (var importer = new DocumentImporter(index))
            {
                importer.Queue(file);
                importer.Commit();
            }

            return [.. index.Jobs.PendingTexts().Select(c => c.Id).Where(id => !before.Contains(id))];
        }

        public override int Execute(string sql, params (string Name, object? Value)[] parameters) => Sql.Execute((SqliteConnection)index.Connection, sql, parameters);

        public override void Dispose()
        {
            index.Dispose();
            if (!owner) return;
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class PostgresBackend : JobStoreBackend
    {
        private readonly string index;
        private readonly PostgresDatabase database;
        private readonly NpgsqlConnection connection;
        private readonly IndexSettings settings;

        private PostgresBackend(string index, IndexSettings? requested = null)
        {
            this.index = index;
            database = PostgresDatabase.Connect(index);
            connection = database.Connect();
            if (requested is not null) PostgresIndexSchema.Migrate(connection, database.Location, createIfMissing: true);
            settings = requested is null ? PostgresIndexSchema.ReadSettings(connection)! : PostgresIndexSchema.RecordSettings(connection, requested);
            var name = database.Location.DisplayName;
            (Jobs, Spend, Values) = (new PostgresBatchJobStore(connection, name, settings), new PostgresSpendLedger(connection, name), new PostgresSettingValues(connection, name));
        }

        internal override IBatchJobStore Jobs { get; }
        internal override ISpendLedger Spend { get; }
        internal override ISettingValues Values { get; }

        public static PostgresBackend Create(IndexSettings requested) => new(PostgresFactAttribute.NewIndex(), requested);

        public override JobStoreBackend OpenAnother() => new PostgresBackend(index);

        public override List<long> AddPendingChunks(int count)
        {
            using var command = new NpgsqlCommand("""
                WITH d AS (INSERT INTO documents (source_path, content_hash, created_at, updated_at) VALUES (@path, 'hash', now(), now()) RETURNING id)
                INSERT INTO chunks (document_id, ordinal, content, embedding_status, created_at, updated_at)
                SELECT d.id, n, 'Paragraph ' || n || ' about keys.', 'Pending', now(), now() FROM d, generate_series(0, @count - 1) n
                RETURNING id
                """, connection);
            command.Parameters.AddWithValue("path", $"/docs/guide-{Guid.NewGuid():N}.md");
            command.Parameters.AddWithValue("count", count);
            using var reader = command.ExecuteReader();
            var ids = new List<long>();
            while (reader.Read()) ids.Add(reader.GetInt64(0));
            return [.. ids.Order()];
        }

        public override int Execute(string sql, params (string Name, object? Value)[] parameters)
        {
            using var command = new NpgsqlCommand(sql.Replace('$', '@'), connection);
            foreach (var (parameter, value) in parameters) command.Parameters.AddWithValue(parameter.TrimStart('$'), value ?? DBNull.Value);
            return command.ExecuteNonQuery();
        }

        public override void Dispose()
        {
            connection.Dispose();
            database.Dispose();
        }
    }
}

/// <summary>The PostgreSQL row of a store contract theory; skipped, saying why, without a test cluster (as <see cref="PostgresFactAttribute"/>).</summary>
[DataDiscoverer("Xunit.Sdk.DataDiscoverer", "xunit.core")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresBackendAttribute : DataAttribute
{
    public PostgresBackendAttribute() => Skip = new PostgresFactAttribute().Skip;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[JobStoreBackend.Postgres]];
}
