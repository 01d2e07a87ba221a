using SemanticCore.Storage.Postgres;

namespace SemanticCore.Tests.Postgres;

public class PostgresLocationTests
{
    [Theory]
    [InlineData("postgresql://alice:s3cr%40t@db.example.com:5433/kb?schema=team_kb&sslmode=require", "postgresql://alice@db.example.com:5433/kb?schema=team_kb")]
    [InlineData("postgres://db.example.com/kb", "postgresql://db.example.com/kb?schema=semanticcore")]
    [InlineData("Host=db.example.com;Database=kb;Username=alice;Password=s3cr@t;Search Path=team_kb", "postgresql://alice@db.example.com/kb?schema=team_kb")]
    [InlineData("host=db.example.com;port=6000;database=kb", "postgresql://db.example.com:6000/kb?schema=semanticcore")]
    public void Parses_uris_and_connection_strings_and_never_shows_the_password(string given, string display)
    {
        Assert.True(PostgresLocation.IsPostgres(given));
        var location = PostgresLocation.Parse(given);
        Assert.Equal(display, location.DisplayName);
        Assert.DoesNotContain("s3cr", location.DisplayName);
        Assert.Contains("Pooling=False", location.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_output_objects_Database_connects_with_the_password_its_index_was_named_with()
    {
        var host = $"h{Guid.NewGuid():N}.example.com";
        Assert.Null(new Npgsql.NpgsqlConnectionStringBuilder(PostgresLocation.Parse($"postgresql://alice@{host}/kb?schema=kb").ConnectionString).Password);
        var named = PostgresLocation.Parse($"Host={host};Database=kb;Username=alice;Password=s3cr@t;Search Path=kb");

        var piped = PostgresLocation.Parse(named.DisplayName);
        Assert.Equal("s3cr@t", new Npgsql.NpgsqlConnectionStringBuilder(piped.ConnectionString).Password);
        Assert.Null(new Npgsql.NpgsqlConnectionStringBuilder(PostgresLocation.Parse($"postgresql://bob@{host}/kb?schema=kb").ConnectionString).Password);
    }

    [Fact]
    public void Takes_the_password_and_options_from_a_uri()
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(PostgresLocation.Parse("postgresql://alice:s3cr%40t@[::1]:5433/kb?sslmode=require&application_name=nightly").ConnectionString);
        Assert.Equal(("alice", "s3cr@t", "::1", 5433, "kb"), (builder.Username, builder.Password, builder.Host, builder.Port, builder.Database));
        Assert.Equal(Npgsql.SslMode.Require, builder.SslMode);
        Assert.Equal("nightly", builder.ApplicationName);
        Assert.Equal("semanticcore", builder.SearchPath);
    }

    [Theory]
    [InlineData("./index.db")]
    [InlineData("C:\\kb\\index.db")]
    [InlineData("/var/lib/kb/index.db")]
    [InlineData("~/index=1.db")]
    public void File_paths_are_not_postgres(string path) => Assert.False(PostgresLocation.IsPostgres(path));

    [Theory]
    [InlineData("postgresql://alice:hunter2@db/kb?schema=Bad-Name", "schema name")]
    [InlineData("postgresql://alice:hunter2@db/kb?colour=blue", "'colour' is not supported")]
    [InlineData("postgresql://alice:hunter2@db:port/kb", "port")]
    [InlineData("postgresql:///kb", "no host")]
    public void Refuses_what_it_cannot_use_without_quoting_the_password(string given, string problem)
    {
        var ex = Assert.Throws<SemanticCoreException>(() => PostgresLocation.Parse(given));
        Assert.Equal("InvalidDatabaseConnection", ex.ErrorId);
        Assert.Contains(problem, ex.Message);
        Assert.DoesNotContain("hunter2", ex.Message);
    }
}
