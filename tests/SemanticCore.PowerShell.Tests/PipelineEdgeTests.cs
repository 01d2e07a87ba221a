using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>The pipelines admins write daily: each object names what it is, whatever property names it shares with others.</summary>
[Collection(ModuleCollection.Name)]
public sealed class PipelineEdgeTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private PsSession ImportedSession()
    {
        dir.Write("kb/a.md", "# A\n\nAlpha text.\n\n## More\n\nMore alpha.\n\n## Most\n\nMost alpha.");
        dir.Write("kb/b.md", "# B\n\nBeta text.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        return ps;
    }

    [Fact]
    public void A_batch_job_piped_to_Get_ChunkStatus_gives_that_jobs_chunks_only()
    {
        using var ps = ImportedSession();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -Force").AssertNoErrors().Single();
        dir.Write("kb/c.md", "# C\n\nGamma, imported after the flush.");
        ps.Run("Import-SemanticDocument kb/c.md -Database index.db").AssertNoErrors();

        var chunks = ps.Run("Get-BatchJob -Database index.db | Get-ChunkStatus").AssertNoErrors().Output;

        Assert.Equal(job.Long("Requests"), chunks.Count);
        Assert.All(chunks, c => Assert.Equal(job.Text("Id"), c.Text("BatchJobId")));
    }

    [Fact]
    public void Chunks_piped_to_Get_ChunkStatus_give_those_chunks_once_each()
    {
        using var ps = ImportedSession();

        var run = ps.Run("$three = Get-ChunkStatus -Database index.db -First 3; $three + $three[0] | Get-ChunkStatus").AssertNoErrors();

        Assert.Equal(3, run.Output.Count);
        Assert.Equal(run.Output.Select(c => c.Long("Id")).Distinct().Count(), run.Output.Count);
    }

    [Fact]
    public void Import_results_files_and_paths_piped_to_Get_ChunkStatus_give_their_documents_chunks()
    {
        using var ps = ImportedSession();
        var total = ps.Run("(Get-ChunkStatus -Database index.db -DocumentPath a.md).Count").Single();

        var fromResult = ps.Run("Import-SemanticDocument kb/a.md -Database index.db | Get-ChunkStatus").AssertNoErrors();
        var fromFile = ps.Run("Get-ChildItem kb/a.md | Get-ChunkStatus -Database index.db").AssertNoErrors();
        var fromString = ps.Run("'kb/a.md' | Get-ChunkStatus -Database index.db").AssertNoErrors();
        var fromDocument = ps.Run("Get-SemanticDocument a.md -Database index.db | Get-ChunkStatus").AssertNoErrors();

        Assert.Equal(3L, (int)total.BaseObject);
        Assert.Equal(3, fromResult.Output.Count);
        Assert.Equal(3, fromFile.Output.Count);
        Assert.Equal(3, fromString.Output.Count);
        Assert.Equal(3, fromDocument.Output.Count);
    }

    [Fact]
    public void An_object_that_names_no_chunks_is_an_error_for_that_object_only()
    {
        using var ps = ImportedSession();

        var run = ps.Run("[pscustomobject]@{ Name = 'x' }, 'kb/b.md' | Get-ChunkStatus -Database index.db");

        Assert.Equal("InputObjectNotSupported", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Single(run.Output);
    }

    [Fact]
    public void Job_ids_as_strings_and_chunks_piped_to_Get_BatchJob_name_jobs()
    {
        using var ps = ImportedSession();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -Force").AssertNoErrors().Single();

        var fromStrings = ps.Run($"'{job.Text("Id")}' | Get-BatchJob -Database index.db").AssertNoErrors();
        var fromChunk = ps.Run("Get-ChunkStatus -Database index.db -First 1 | Get-BatchJob").AssertNoErrors();
        var unknown = ps.Run("'no-such-job' | Get-BatchJob -Database index.db");

        Assert.Equal(job.Text("Id"), fromStrings.Single().Text("Id"));
        Assert.Equal(job.Text("Id"), fromChunk.Single().Text("Id"));
        Assert.Equal("BatchJobNotFound", Assert.Single(unknown.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Index_files_pipe_into_Update_SemanticSchema_as_strings_and_from_Get_ChildItem()
    {
        using var ps = ImportedSession();
        ps.Run("Import-SemanticDocument kb/b.md -Database other.db -Provider Local -Mode Async").AssertNoErrors();

        var fromStrings = ps.Run("'index.db', 'other.db' | Update-SemanticSchema").AssertNoErrors();
        var fromFiles = ps.Run("Get-ChildItem *.db | Update-SemanticSchema").AssertNoErrors();

        Assert.Equal([dir.Combine("index.db"), dir.Combine("other.db")], fromStrings.Output.Select(o => o.Text("Database")));
        Assert.Equal([dir.Combine("index.db"), dir.Combine("other.db")], fromFiles.Output.Select(o => o.Text("Database")));
    }

    [Fact]
    public void Database_accepts_a_FileInfo()
    {
        using var ps = ImportedSession();

        var chunk = ps.Run("Get-ChunkStatus -Database (Get-Item index.db) -First 1").AssertNoErrors().Single();

        Assert.Equal(dir.Combine("index.db"), chunk.Text("Database"));
    }

    public void Dispose() => dir.Dispose();
}
