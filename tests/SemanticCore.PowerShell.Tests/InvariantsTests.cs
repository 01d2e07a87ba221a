using SemanticCore.PowerShell.Tests.Infrastructure;
using Xunit.Sdk;

namespace SemanticCore.PowerShell.Tests;

/// <summary>The invariants checker holds on a healthy index and catches each kind of break it names.</summary>
[Collection(ModuleCollection.Name)]
public sealed class InvariantsTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    [Theory]
    [InlineData("DELETE FROM chunk_vectors WHERE chunk_id = (SELECT MIN(id) FROM chunks)", "Ready chunks without a vector")]
    [InlineData("UPDATE chunks SET embedding_status = 'Submitted' WHERE id = (SELECT MIN(id) FROM chunks)", "Submitted chunks outside an active job")]
    [InlineData("DELETE FROM chunks_fts WHERE rowid = (SELECT MIN(id) FROM chunks)", "chunks missing from the keyword index")]
    [InlineData("UPDATE chunk_vectors SET dimensions = 3 WHERE chunk_id = (SELECT MIN(id) FROM chunks)", "Ready chunks without a vector")]
    public void The_checker_passes_a_healthy_index_and_names_what_is_broken(string breakIt, string expected)
    {
        dir.Write("kb/a.md", "# A\n\nOne.\n\n## B\n\nTwo.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Sync").AssertNoErrors();
        Invariants.AssertHold(Database);

        Db.Execute(Database, breakIt);

        var failure = Assert.ThrowsAny<XunitException>(() => Invariants.AssertHold(Database));
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    public void Dispose() => dir.Dispose();
}
