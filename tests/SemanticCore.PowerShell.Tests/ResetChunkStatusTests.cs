using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Reset-ChunkStatus: requeueing chunks for the next flush, exactly the ones named.</summary>
[Collection(ModuleCollection.Name)]
public sealed class ResetChunkStatusTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    /// <summary>Six chunks: two failed on quota, one failed for good, one Ready (with a vector), one Submitted, one Pending.</summary>
    private PsSession Index()
    {
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.\n\n## C\n\nThree.\n\n## D\n\nFour.\n\n## E\n\nFive.\n\n## F\n\nSix.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Sync").AssertNoErrors();
        Db.Execute(Database, """
            UPDATE chunks SET embedding_status = 'Failed', retry_count = 5, error_message = '429 RESOURCE_EXHAUSTED: Quota exceeded' WHERE ordinal IN (0, 1);
            UPDATE chunks SET embedding_status = 'Failed', retry_count = 0, error_message = '400 INVALID_ARGUMENT: too long' WHERE ordinal = 2;
            UPDATE chunks SET embedding_status = 'Submitted', batch_job_id = NULL WHERE ordinal = 4;
            UPDATE chunks SET embedding_status = 'Pending', retry_count = 2 WHERE ordinal = 5;
            DELETE FROM chunk_vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE ordinal <> 3);
            """);
        return ps;
    }

    private long IdAt(int ordinal) => Db.Scalar<long>(Database, $"SELECT id FROM chunks WHERE ordinal = {ordinal}");

    [Fact]
    public void Failed_chunks_filtered_with_Where_Object_are_requeued_exactly()
    {
        using var ps = Index();

        var run = ps.Run("Get-ChunkStatus -Database index.db -Status Failed | Where-Object ErrorMessage -match 'RESOURCE_EXHAUSTED' | Reset-ChunkStatus -PassThru").AssertNoErrors();

        Assert.Equal([IdAt(0), IdAt(1)], run.Output.Select(c => c.Long("Id")).Order());
        Assert.All(run.Output, c =>
        {
            Assert.Equal("Pending", c.Text("Status"));
            Assert.Equal(0L, c.Long("RetryCount"));
            Assert.Null(c.Properties["ErrorMessage"].Value);
        });
        Assert.Equal("Failed", Db.Scalar<string>(Database, $"SELECT embedding_status FROM chunks WHERE id = {IdAt(2)}"));
        Assert.Empty(run.Warnings);
    }

    [Fact]
    public void Without_Force_only_Failed_chunks_move_and_the_rest_are_counted_in_one_warning()
    {
        using var ps = Index();

        var run = ps.Run("Get-ChunkStatus -Database index.db | Reset-ChunkStatus").AssertNoErrors();

        Assert.Equal(3L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND retry_count = 0 AND error_message IS NULL"));
        Assert.Equal("Ready", Db.Scalar<string>(Database, $"SELECT embedding_status FROM chunks WHERE id = {IdAt(3)}"));
        var warning = Assert.Single(run.Warnings);
        Assert.Contains("1 Ready", warning);
        Assert.Contains("1 Submitted", warning);
        Assert.Contains("1 Pending", warning);
    }

    [Fact]
    public void Force_requeues_Ready_and_Pending_chunks_but_never_Submitted_ones()
    {
        using var ps = Index();

        ps.Run($"Reset-ChunkStatus -Id {IdAt(3)}, {IdAt(4)}, {IdAt(5)} -Database index.db -Force").AssertNoErrors();

        Assert.Equal("Pending", Db.Scalar<string>(Database, $"SELECT embedding_status FROM chunks WHERE id = {IdAt(3)}"));
        Assert.Equal(0L, Db.Scalar<long>(Database, $"SELECT COUNT(*) FROM chunk_vectors WHERE chunk_id = {IdAt(3)}"));
        Assert.Equal("Submitted", Db.Scalar<string>(Database, $"SELECT embedding_status FROM chunks WHERE id = {IdAt(4)}"));
        Assert.Equal(0L, Db.Scalar<long>(Database, $"SELECT retry_count FROM chunks WHERE id = {IdAt(5)}"));
    }

    [Fact]
    public void The_default_is_every_Failed_chunk_and_WhatIf_changes_no_byte()
    {
        using var ps = Index();
        Db.Execute(Database, "PRAGMA wal_checkpoint(TRUNCATE)");
        var before = Db.FileState(Database);

        ps.Run("Reset-ChunkStatus -Database index.db -WhatIf").AssertNoErrors();
        Assert.Equal(before, Db.FileState(Database));

        ps.Run("Reset-ChunkStatus -Database index.db").AssertNoErrors();
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Failed'"));
    }

    [Fact]
    public void Another_object_is_an_error_for_that_object_only()
    {
        using var ps = Index();

        var run = ps.Run("Get-BatchJob -Database index.db; 'x' | Reset-ChunkStatus -Database index.db");

        Assert.Equal("InputObjectNotSupported", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    public void Dispose() => dir.Dispose();
}
