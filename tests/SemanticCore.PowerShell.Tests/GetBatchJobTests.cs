using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Xml.Linq;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Get-BatchJob: filters, per-item errors, typed output, piping into Sync-BatchJob, the table view.</summary>
[Collection(ModuleCollection.Name)]
public sealed class GetBatchJobTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    /// <summary>25 Pending chunks flushed as three jobs (10, 10, 5), in creation order.</summary>
    private List<string> ThreeJobs(PsSession ps, Dictionary<string, object?> keys)
    {
        BatchTestKit.WriteCorpus(dir, "kb", documents: 5, sections: 5);
        ps.Run("Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Async").AssertNoErrors();
        var jobs = ps.Run("Invoke-BatchFlush -Database index.db -MaxBatchSize 10 -BatchApiKey $BatchKey", keys).AssertNoErrors().Output;
        Assert.Equal([10L, 10L, 5L], jobs.Select(j => j.Long("Requests")));
        return jobs.Select(j => j.Text("Id")).ToList();
    }

    [Fact]
    public async Task Filters_by_Active_Status_and_Id_with_one_error_per_unknown_id()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        var ids = ThreeJobs(ps, keys);
        ps.Run($"Sync-BatchJob -Database index.db -Id {ids[0]} -BatchApiKey $BatchKey", keys).AssertNoErrors();

        Assert.Equal(ids, ps.Run("Get-BatchJob -Database index.db").AssertNoErrors().Output.Select(j => j.Text("Id")));
        var active = ps.Run("Get-BatchJob -Database index.db -Active").AssertNoErrors().Output;
        Assert.Equal(ids.Skip(1), active.Select(j => j.Text("Id")));
        Assert.All(active, j => Assert.Equal("Submitted", j.Text("Status")));
        Assert.Equal([ids[0]], ps.Run("Get-BatchJob -Database index.db -Status Completed").AssertNoErrors().Output.Select(j => j.Text("Id")));
        Assert.Equal(ids, ps.Run("Get-BatchJob -Database index.db -Status Completed, Submitted").AssertNoErrors().Output.Select(j => j.Text("Id")));
        Assert.Empty(ps.Run("Get-BatchJob -Database index.db -Status Failed, Expired").AssertNoErrors().Output);

        var byId = ps.Run($"Get-BatchJob -Database index.db -Id {ids[1]}, no-such-job, 'another-missing-job'");
        Assert.Null(byId.Terminating);
        Assert.Equal(ids[1], byId.Single().Text("Id"));
        var errors = BatchTestKit.AssertErrors(byId, "BatchJobNotFound", ErrorCategory.ObjectNotFound, 2);
        Assert.Equal(["no-such-job", "another-missing-job"], errors.Select(e => (string)e.TargetObject));
        Assert.All(errors, e => Assert.Contains((string)e.TargetObject, e.Exception.Message, StringComparison.Ordinal));

        // An invalid -Status is refused by parameter binding (the enum), before anything runs.
        var invalid = ps.Run("Get-BatchJob -Database index.db -Status Finished");
        Assert.NotNull(invalid.Terminating);
        Assert.IsAssignableFrom<ParameterBindingException>(invalid.Terminating!.Exception);
        Assert.Equal(ErrorCategory.InvalidArgument, invalid.Terminating.CategoryInfo.Category);
        Assert.Empty(invalid.Output);
    }

    [Fact]
    public async Task Output_is_typed_and_filters_with_Where_Object()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        var ids = ThreeJobs(ps, keys);
        ps.Run($"Sync-BatchJob -Database index.db -Id {ids[2]} -BatchApiKey $BatchKey", keys).AssertNoErrors();

        var job = ps.Run($"Get-BatchJob -Database index.db -Id {ids[2]}").AssertNoErrors().Single();
        Assert.Equal("SemanticCore.Model.BatchJob", job.TypeName());
        // Statuses are names, so ConvertTo-Json and Export-Csv write them as such.
        Assert.Equal("Completed", Assert.IsType<string>(job.Prop("Status")));
        Assert.IsType<long>(job.Prop("Requests"));
        Assert.IsType<long>(job.Prop("Succeeded"));
        Assert.IsType<long>(job.Prop("Tokens"));
        // Dates are UTC DateTimes: (Get-Date) - $job.CreatedAt, New-TimeSpan and Get-Date -Date work on them.
        Assert.Equal(DateTimeKind.Utc, Assert.IsType<DateTime>(job.Prop("CreatedAt")).Kind);
        Assert.Equal(DateTimeKind.Utc, Assert.IsType<DateTime>(job.Prop("SubmittedAt")).Kind);
        Assert.Equal(DateTimeKind.Utc, Assert.IsType<DateTime>(job.Prop("CompletedAt")).Kind);
        Assert.IsType<decimal>(job.Prop("EstimatedCost"));
        Assert.Equal(2 * (decimal)job.Prop("EstimatedCost")!, (decimal)job.Prop("InteractiveCost")!);
        Assert.Equal((decimal)job.Prop("EstimatedCost")!, (decimal)job.Prop("Savings")!);
        Assert.Equal(false, job.Prop("IsActive"));
        Assert.Equal(5L, job.Long("Succeeded"));
        Assert.True(job.Long("Tokens") > 0);
        Assert.Equal(Database, job.Text("Database"));
        Assert.StartsWith("batches/", job.Text("RemoteName"), StringComparison.Ordinal);

        // Status compares as a name; numbers compare as numbers; JSON has names, and dates do arithmetic.
        Assert.Equal([ids[2]], ps.Run("Get-BatchJob -Database index.db | Where-Object Status -eq 'Completed' | ForEach-Object Id").AssertNoErrors().Output.Select(o => o.ToString()));
        Assert.Equal(ids.Take(2), ps.Run("Get-BatchJob -Database index.db | Where-Object Requests -gt 9 | ForEach-Object Id").AssertNoErrors().Output.Select(o => o.ToString()));
        Assert.Equal(["Completed"], ps.Run($"(Get-BatchJob -Database index.db -Id {ids[2]} | ConvertTo-Json | ConvertFrom-Json).Status").AssertNoErrors().Output.Select(o => o.ToString()));
        Assert.Equal(["True"], ps.Run($"$j = Get-BatchJob -Database index.db -Id {ids[2]}; ((Get-Date) - $j.CreatedAt).TotalMinutes -lt 10 -and (New-TimeSpan -Start $j.CreatedAt -End $j.CompletedAt).TotalSeconds -ge 0").AssertNoErrors().Output.Select(o => o.ToString()));
    }

    [Fact]
    public async Task Piping_Get_BatchJob_into_Sync_BatchJob_binds_each_job_by_Id_and_Database()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        var ids = ThreeJobs(ps, keys);

        // No -Database on Sync-BatchJob: the piped job brings its own; only the piped job is synced.
        var one = ps.Run($"Get-BatchJob -Database index.db -Id {ids[1]} | Sync-BatchJob -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        Assert.Equal(ids[1], one.Text("Id"));
        Assert.Equal("Completed", one.Text("Status"));
        Assert.Equal(["Submitted", "Completed", "Submitted"], ids.Select(id => Db.Scalar<string>(Database, $"SELECT status FROM batch_jobs WHERE id = '{id}'")));
        Assert.Equal(1, gemini.Server.Batches.Count(b => b.Polls > 0));

        var rest = ps.Run("Get-BatchJob -Database index.db -Active | Sync-BatchJob -BatchApiKey $BatchKey", keys).AssertNoErrors().Output;
        Assert.Equal([ids[0], ids[2]], rest.Select(j => j.Text("Id")));
        Assert.All(rest, j => Assert.Equal("Completed", j.Text("Status")));
        Assert.Equal(25L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
    }

    [Fact]
    public void The_module_exports_a_loadable_table_view_of_BatchJob_whose_columns_are_its_properties()
    {
        // Get-FormatData (Microsoft.PowerShell.Utility) is not part of the hosted engine: check the module's
        // exported format file instead, and that PowerShell's own FormatTable loader accepts it.
        using var ps = module.NewSession(dir.Path);
        var formatFile = ps.Run("(Get-Module SemanticCore.PS).ExportedFormatFiles").AssertNoErrors().Single().ToString();
        Assert.True(File.Exists(formatFile), formatFile);
        _ = new FormatTable([formatFile]); // throws FormatTableLoadException when a view is invalid

        var view = XDocument.Load(formatFile).Descendants("View").SingleOrDefault(v => (string?)v.Element("Name") == "SemanticCore-BatchJob");
        Assert.NotNull(view);
        Assert.Equal(["SemanticCore.Model.BatchJob"], view.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => t.Value));
        var table = view.Element("TableControl");
        Assert.NotNull(table);
        var headers = table.Element("TableHeaders")!.Elements("TableColumnHeader").Count();
        var items = table.Descendants("TableColumnItem").ToList();
        Assert.Equal(headers, items.Count);
        var properties = BatchJobPropertyNames();
        foreach (var name in items.Select(i => i.Element("PropertyName")?.Value).OfType<string>())
        {
            Assert.Contains(name, properties);
        }

        Assert.Contains("Status", items.Select(i => i.Element("PropertyName")?.Value));

        IReadOnlyCollection<string> BatchJobPropertyNames()
        {
            var type = ps.Run("Get-Command Get-BatchJob | ForEach-Object { $_.OutputType[0].Type }").AssertNoErrors().Single().BaseObject as Type;
            Assert.NotNull(type);
            Assert.Equal("SemanticCore.Model.BatchJob", type.FullName);
            return type.GetProperties().Select(p => p.Name).ToList();
        }
    }

    public void Dispose() => dir.Dispose();
}
