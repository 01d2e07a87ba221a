using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

[Collection(ModuleCollection.Name)]
public sealed class GetChunkStatusTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    /// <summary>Two documents, one embedded now (Ready) and one queued (Pending); one chunk marked Failed.</summary>
    private PsSession Seed()
    {
        dir.Write("kb/ready.md", "# Ready doc\n\nFirst paragraph.\n\n## Second\n\nSecond paragraph.");
        dir.Write("kb/queued.md", "# Queued doc\n\nQueued paragraph one.\n\n## More\n\nQueued paragraph two.\n\n## Last\n\nThird.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/ready.md -Database index.db -Provider Local -Mode Sync").AssertNoErrors();
        ps.Run("Import-SemanticDocument kb/queued.md -Database index.db -Mode Async").AssertNoErrors();
        Db.Execute(Database, """
            UPDATE chunks SET embedding_status = 'Failed', error_message = 'Request payload size exceeds the limit', retry_count = 3
            WHERE id = (SELECT MAX(id) FROM chunks)
            """);
        return ps;
    }

    [Fact]
    public void Lists_typed_chunks_in_document_order_with_every_property()
    {
        using var ps = Seed();

        var chunks = ps.Run("Get-ChunkStatus -Database index.db").AssertNoErrors().Output;

        Assert.Equal(Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks"), chunks.Count);
        var first = chunks[0];
        Assert.Equal("SemanticCore.Model.Chunk", first.TypeName());
        Assert.Equal(dir.Combine("kb", "queued.md"), first.Text("DocumentPath"));
        Assert.Equal(0L, first.Long("Ordinal"));
        Assert.Equal("Text", first.Text("ChunkType"));
        Assert.Equal("Pending", first.Text("Status"));
        Assert.Contains("Queued paragraph one", first.Text("Preview"));
        Assert.Equal(Database, first.Text("Database"));
        Assert.NotNull(first.PropOrNull("UpdatedAt"));
        Assert.All(chunks, c => Assert.True(c.Text("Preview").Length <= 81));
    }

    [Fact]
    public void Filters_by_status_path_id_and_first_and_works_with_Where_Object()
    {
        using var ps = Seed();

        var failed = ps.Run("Get-ChunkStatus -Database index.db -Status Failed").AssertNoErrors().Single();
        var notReady = ps.Run("Get-ChunkStatus -Database index.db -Status Pending, Failed").AssertNoErrors().Output;
        var byName = ps.Run("Get-ChunkStatus -Database index.db -DocumentPath ready.md").AssertNoErrors().Output;
        var byPattern = ps.Run("Get-ChunkStatus -Database index.db -DocumentPath kb/q*").AssertNoErrors().Output;
        var first = ps.Run("Get-ChunkStatus -Database index.db -First 2").AssertNoErrors().Output;
        var byId = ps.Run($"Get-ChunkStatus -Database index.db -Id {failed.Long("Id")}").AssertNoErrors().Single();
        var triage = ps.Run("Get-ChunkStatus -Database index.db | Where-Object ErrorMessage -match 'payload' | ForEach-Object RetryCount").AssertNoErrors().Single();

        Assert.Equal("Request payload size exceeds the limit", failed.Text("ErrorMessage"));
        Assert.Equal(3L, failed.Long("RetryCount"));
        Assert.All(notReady, c => Assert.NotEqual("Ready", c.Text("Status")));
        Assert.Equal(Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status <> 'Ready'"), notReady.Count);
        Assert.All(byName, c => Assert.EndsWith("ready.md", c.Text("DocumentPath")));
        Assert.All(byName, c => Assert.Equal("Ready", c.Text("Status")));
        Assert.All(byPattern, c => Assert.EndsWith("queued.md", c.Text("DocumentPath")));
        Assert.Equal(2, first.Count);
        Assert.Equal(failed.Long("Id"), byId.Long("Id"));
        Assert.Equal(3, Convert.ToInt32(triage.BaseObject));
    }

    [Fact]
    public void Summary_counts_every_status_and_the_total()
    {
        using var ps = Seed();

        var rows = ps.Run("Get-ChunkStatus -Database index.db -Summary").AssertNoErrors().Output;

        Assert.Equal(["Pending", "Submitted", "Ready", "Failed", "Total"], rows.Select(r => r.Text("Status")));
        var counts = rows.ToDictionary(r => r.Text("Status"), r => r.Long("Chunks"));
        foreach (var status in new[] { "Pending", "Submitted", "Ready", "Failed" })
        {
            Assert.Equal(Db.Scalar<long>(Database, $"SELECT COUNT(*) FROM chunks WHERE embedding_status = '{status}'"), counts[status]);
        }

        Assert.Equal(Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks"), counts["Total"]);
        Assert.Equal(2L, rows[^1].Long("Documents"));
        Assert.Equal("SemanticCore.Model.ChunkStatusSummary", rows[0].TypeName());
    }

    [Fact]
    public void Piped_objects_bring_their_own_database_and_document_path()
    {
        dir.Write("one.md", "# One\n\nFirst.\n\n## Two\n\nSecond.");
        dir.Write("other.md", "# Other\n\nElsewhere.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument other.md -Database b.db -Provider Local -Mode Async").AssertNoErrors();

        var chunks = ps.Run("Import-SemanticDocument one.md -Database a.db -Provider Local -Mode Async | Get-ChunkStatus").AssertNoErrors().Output;

        Assert.Equal(2, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(dir.Combine("a.db"), c.Text("Database")));
        Assert.All(chunks, c => Assert.Equal(dir.Combine("one.md"), c.Text("DocumentPath")));
    }

    [Fact]
    public void A_path_that_matches_no_document_returns_nothing()
    {
        using var ps = Seed();

        var run = ps.Run("Get-ChunkStatus -Database index.db -DocumentPath nothing-like-this.md").AssertNoErrors();

        Assert.Empty(run.Output);
    }

    public void Dispose() => dir.Dispose();
}
