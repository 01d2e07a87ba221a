using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

[Collection(ModuleCollection.Name)]
public sealed class SchemaTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    /// <summary>The earlier layout, with rows whose bytes must survive the upgrade exactly.</summary>
    private static readonly (long Id, string Content, string? Type, string? Language)[] LegacyRows =
    [
        (1, "Plain text row", "text", null),
        (2, "def f():\n    return 'ü'  # Cyrillic: привет, CJK: 漢字, emoji: 🚀", "code", "python"),
        (7, "| a | b |\n|---|---|\n| 1 | 2 |", "table", null),
        (9, "  leading and trailing spaces \r\n kept ", null, null),
    ];

    private void CreateLegacyIndex()
    {
        Db.Execute(Database, "CREATE TABLE chunks(id INTEGER PRIMARY KEY, content TEXT NOT NULL, chunk_type TEXT, language TEXT)");
        using var connection = (Microsoft.Data.Sqlite.SqliteConnection)Db.Open(Database);
        foreach (var row in LegacyRows)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO chunks VALUES ($id, $content, $type, $language)";
            insert.Parameters.AddWithValue("$id", row.Id);
            insert.Parameters.AddWithValue("$content", row.Content);
            insert.Parameters.AddWithValue("$type", (object?)row.Type ?? DBNull.Value);
            insert.Parameters.AddWithValue("$language", (object?)row.Language ?? DBNull.Value);
            insert.ExecuteNonQuery();
        }
    }

    [Fact]
    public void Legacy_layout_is_upgraded_in_place_with_every_row_kept_and_Ready()
    {
        CreateLegacyIndex();
        using var ps = module.NewSession(dir.Path);

        var whatIf = ps.Run("Update-SemanticSchema -Database index.db -WhatIf").AssertNoErrors().Single();
        Assert.True((bool)whatIf.Prop("WhatIf")!);
        Assert.Equal(0L, whatIf.Long("FromVersion"));
        Assert.Contains("Add column chunks.embedding_status", (IEnumerable<string>)whatIf.Prop("Steps")!);
        Assert.Equal(0L, Db.Scalar<long>(Database, "PRAGMA user_version"));
        Assert.Equal(["chunks"], Db.Rows(Database, "SELECT name FROM sqlite_master WHERE type = 'table'").Select(r => (string)r[0]!));

        var update = ps.Run("Update-SemanticSchema -Database index.db").AssertNoErrors().Single();
        Assert.Equal("SemanticCore.Storage.SchemaUpdate", update.TypeName());
        Assert.Equal(0L, update.Long("FromVersion"));
        Assert.Equal(5L, update.Long("ToVersion"));
        Assert.Contains("Create table spend", (IEnumerable<string>)update.Prop("Steps")!);
        Assert.Equal(Database, update.Text("Database"));
        Assert.Equal((IEnumerable<string>)whatIf.Prop("Steps")!, (IEnumerable<string>)update.Prop("Steps")!);

        var rows = Db.Rows(Database, "SELECT id, content, chunk_type, language, embedding_status, retry_count, typeof(content) FROM chunks ORDER BY id");
        Assert.Equal(LegacyRows.Length, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(LegacyRows[i].Id, rows[i][0]);
            Assert.Equal(LegacyRows[i].Content, rows[i][1]);
            Assert.Equal(LegacyRows[i].Type, rows[i][2]);
            Assert.Equal(LegacyRows[i].Language, rows[i][3]);
            Assert.Equal("Ready", rows[i][4]);
            Assert.Equal(0L, rows[i][5]);
            Assert.Equal("text", rows[i][6]);
        }

        foreach (var table in new[] { "documents", "chunk_vectors", "batch_jobs", "schema_history", "settings", "spend" })
        {
            Assert.Equal(1L, Db.Scalar<long>(Database, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        }

        Assert.Equal(5L, Db.Scalar<long>(Database, "PRAGMA user_version"));
        Assert.Equal("wal", Db.Scalar<string>(Database, "PRAGMA journal_mode"));

        var second = ps.Run("Update-SemanticSchema -Database index.db").AssertNoErrors().Single();
        Assert.Empty((IEnumerable<string>)second.Prop("Steps")!);
        Assert.Equal(5L, second.Long("FromVersion"));

        var legacyChunks = ps.Run("Get-ChunkStatus -Database index.db").AssertNoErrors();
        Assert.Equal(LegacyRows.Length, legacyChunks.Output.Count);
        Assert.All(legacyChunks.Output, c => Assert.Equal("Ready", c.Text("Status")));
        Assert.Equal("Code", legacyChunks.Output[1].Text("ChunkType"));
    }

    [Fact]
    public void Opening_a_legacy_index_from_any_cmdlet_upgrades_it_automatically()
    {
        CreateLegacyIndex();
        dir.Write("a.md", "# A\n\nNew text.");
        using var ps = module.NewSession(dir.Path);

        ps.Run("Import-SemanticDocument a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        Assert.Equal(5L, Db.Scalar<long>(Database, "PRAGMA user_version"));
        Assert.Equal(LegacyRows.Length, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready' AND document_id IS NULL"));
        Assert.True(Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending'") > 0);
    }

    [Fact]
    public void A_failing_upgrade_leaves_the_file_as_it_was()
    {
        CreateLegacyIndex();
        // A table in the way of one of the later steps makes the migration fail part-way.
        Db.Execute(Database, "CREATE TABLE chunk_vectors_blocker(x); CREATE VIEW ix_chunks_status AS SELECT 1");
        var before = Db.FileState(Database);
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Update-SemanticSchema -Database index.db");

        Assert.NotEmpty(run.Errors);
        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal(0L, Db.Scalar<long>(Database, "PRAGMA user_version"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM pragma_table_info('chunks') WHERE name = 'embedding_status'"));
    }

    [Fact]
    public void A_newer_index_that_declares_compatibility_opens_and_is_not_downgraded()
    {
        dir.Write("a.md", "# A\n\nText.");
        dir.Write("b.md", "# B\n\nMore text.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        // What a future additive version would do: new table, new column, same minimum module version.
        Db.Execute(Database, """
            CREATE TABLE future_tags (chunk_id INTEGER, tag TEXT);
            ALTER TABLE chunks ADD COLUMN future_score REAL;
            INSERT INTO schema_history VALUES (6, 'Future additive change', '0.1.0', '2027-01-01T00:00:00.000Z', 'SemanticCore.PS 0.2.0');
            PRAGMA user_version = 6;
            """);

        var import = ps.Run("Import-SemanticDocument b.md -Database index.db -Mode Async").AssertNoErrors().Single();
        var chunks = ps.Run("Get-ChunkStatus -Database index.db").AssertNoErrors();
        var update = ps.Run("Update-SemanticSchema -Database index.db").AssertNoErrors().Single();

        Assert.Equal("Added", import.Text("Status"));
        Assert.Equal(2, chunks.Output.Count);
        Assert.Equal(6L, update.Long("FromVersion"));
        Assert.Equal(6L, update.Long("ToVersion"));
        Assert.Empty((IEnumerable<string>)update.Prop("Steps")!);
        Assert.Equal(6L, Db.Scalar<long>(Database, "PRAGMA user_version"));
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'future_tags'"));
    }

    [Theory]
    [InlineData("INSERT INTO schema_history VALUES (6, 'Breaking change', '99.0.0', '2030-01-01T00:00:00.000Z', 'SemanticCore.PS 99.0.0'); PRAGMA user_version = 6;", "99.0.0")]
    [InlineData("PRAGMA user_version = 6;", "declares no compatibility")]
    public void A_newer_index_it_cannot_use_is_refused_untouched(string makeNewer, string expectedInMessage)
    {
        dir.Write("a.md", "# A\n\nText.");
        dir.Write("b.md", "# B\n\nMore text.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        Db.Execute(Database, makeNewer);
        Db.Execute(Database, "PRAGMA wal_checkpoint(TRUNCATE)");
        var before = Db.FileState(Database);

        var import = ps.Run("Import-SemanticDocument b.md -Database index.db -Mode Async");
        var status = ps.Run("Get-ChunkStatus -Database index.db");
        var update = ps.Run("Update-SemanticSchema -Database index.db");

        Assert.Equal("SchemaTooNew", import.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains(expectedInMessage, import.Terminating!.Exception.Message);
        Assert.Equal("SchemaTooNew", status.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("SchemaTooNew", Assert.Single(update.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(before, Db.FileState(Database));
        Assert.Equal(6L, Db.Scalar<long>(Database, "PRAGMA user_version"));
    }

    [Fact]
    public void Paths_that_are_not_an_index_get_a_clear_error_and_are_never_overwritten()
    {
        var text = dir.Write("notes.txt", "just some text, not a database");
        Directory.CreateDirectory(dir.Combine("folder"));
        Db.Execute(dir.Combine("other.db"), "CREATE TABLE invoices(id INTEGER PRIMARY KEY, amount REAL)");
        var otherBefore = Db.FileState(dir.Combine("other.db"));
        dir.Write("a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var onText = ps.Run("Import-SemanticDocument a.md -Database notes.txt -Provider Local -Mode Async");
        var onDirectory = ps.Run("Get-ChunkStatus -Database folder");
        var onOther = ps.Run("Update-SemanticSchema -Database other.db");
        var onMissing = ps.Run("Get-ChunkStatus -Database missing.db");

        Assert.Equal("NotADatabase", onText.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("just some text, not a database", File.ReadAllText(text));
        Assert.Equal("DatabaseIsDirectory", onDirectory.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("NotASemanticIndex", Assert.Single(onOther.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(otherBefore, Db.FileState(dir.Combine("other.db")));
        Assert.Equal("DatabaseNotFound", onMissing.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.False(File.Exists(dir.Combine("missing.db")));
    }

    public void Dispose() => dir.Dispose();
}
