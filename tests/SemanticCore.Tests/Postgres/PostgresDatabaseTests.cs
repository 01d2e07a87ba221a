using Npgsql;
using SemanticCore.Storage;
using SemanticCore.Storage.Postgres;

namespace SemanticCore.Tests.Postgres;

public class PostgresDatabaseTests
{
    [PostgresFact]
    public void Creates_an_index_schema_once_and_reads_its_settings_back()
    {
        var database = PostgresFactAttribute.NewIndex();
        using (var db = PostgresDatabase.Connect(database))
        using (var connection = db.Connect())
        {
            var (update, created) = PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: true);
            Assert.True(created);
            Assert.Equal((0, PostgresSchema.LatestVersion), (update.FromVersion, update.ToVersion));
            Assert.Null(PostgresIndexSchema.ReadSettings(connection));
            Assert.Equal(new IndexSettings(EmbeddingProviderKind.Local, "m", 64), PostgresIndexSchema.RecordSettings(connection, new IndexSettings(EmbeddingProviderKind.Local, "m", 64)));
        }

        using (var db = PostgresDatabase.Connect(database))
        using (var connection = db.Connect())
        {
            var (update, created) = PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: false);
            Assert.False(created);
            Assert.Empty(update.Steps);
            // The first settings recorded win over a later, different request.
            Assert.Equal(64, PostgresIndexSchema.RecordSettings(connection, new IndexSettings(EmbeddingProviderKind.Local, "m", 128)).Dimensions);
        }
    }

    [PostgresFact]
    public void Four_sessions_migrating_at_once_create_the_schema_once()
    {
        var database = PostgresFactAttribute.NewIndex();
        var results = Enumerable.Range(0, 4).AsParallel().WithDegreeOfParallelism(4).Select(_ =>
        {
            using var db = PostgresDatabase.Connect(database);
            using var connection = db.Connect();
            return PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: true);
        }).ToList();
        Assert.Single(results, r => r.Created);
        using var check = PostgresDatabase.Connect(database);
        using var c = check.Connect();
        using var command = new NpgsqlCommand("SELECT count(*) FROM schema_history", c);
        Assert.Equal(PostgresSchema.Versions.Count, Convert.ToInt32(command.ExecuteScalar()));
    }

    [PostgresFact]
    public void A_missing_index_a_foreign_schema_and_a_newer_layout_are_refused_untouched()
    {
        var missing = PostgresFactAttribute.NewIndex();
        using (var db = PostgresDatabase.Connect(missing))
        using (var connection = db.Connect())
        {
            Assert.Equal("DatabaseNotFound", Assert.Throws<SemanticCoreException>(() => PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: false)).ErrorId);
            var schema = db.Location.Schema;
            using (var foreign = new NpgsqlCommand($"CREATE SCHEMA {schema}; CREATE TABLE {schema}.invoices (id int)", connection)) foreign.ExecuteNonQuery();
            var ex = Assert.Throws<SemanticCoreException>(() => PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: true));
            Assert.Equal("NotASemanticIndex", ex.ErrorId);
            Assert.Contains("invoices", ex.Message);
        }

        var newer = PostgresFactAttribute.NewIndex();
        using (var db = PostgresDatabase.Connect(newer))
        using (var connection = db.Connect())
        {
            PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: true);
            using (var future = new NpgsqlCommand("INSERT INTO schema_history VALUES (99, 'future', '99.0.0', now(), 'SemanticCore.PS 99.0.0')", connection)) future.ExecuteNonQuery();
            Assert.Equal("SchemaTooNew", Assert.Throws<SemanticCoreException>(() => PostgresIndexSchema.Migrate(connection, db.Location, createIfMissing: true)).ErrorId);
        }
    }

    [PostgresFact]
    public void Connection_failures_have_their_own_error_ids_and_never_show_the_password()
    {
        var good = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString);
        var wrongPassword = new NpgsqlConnectionStringBuilder(good.ConnectionString) { Password = "not-the-password-4711" };
        var ex = Assert.Throws<SemanticCoreException>(() => PostgresDatabase.Connect(wrongPassword.ConnectionString));
        Assert.Equal("DatabaseAuthenticationFailed", ex.ErrorId);
        Assert.DoesNotContain("4711", ex.Message);

        var noDatabase = new NpgsqlConnectionStringBuilder(good.ConnectionString) { Database = "no_such_db" };
        Assert.Equal("DatabaseNotFound", Assert.Throws<SemanticCoreException>(() => PostgresDatabase.Connect(noDatabase.ConnectionString)).ErrorId);

        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var down = new NpgsqlConnectionStringBuilder(good.ConnectionString) { Port = closedPort, Timeout = 3 };
        Assert.Equal("DatabaseUnavailable", Assert.Throws<SemanticCoreException>(() => PostgresDatabase.Connect(down.ConnectionString)).ErrorId);
    }
}
