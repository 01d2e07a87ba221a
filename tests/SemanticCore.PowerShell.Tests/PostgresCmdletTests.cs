using System.Management.Automation;
using FakeGemini;
using Npgsql;
using SemanticCore.PowerShell.Tests.Infrastructure;
using SemanticCore.Tests.Postgres;
using static SemanticCore.PowerShell.Tests.BatchTestSupport;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// Every cmdlet through the built module on a PostgreSQL -Database: the same objects and ErrorIds as on SQLite,
/// a Database property that names the server without the password, and connection failures with their own ErrorIds,
/// losing nothing.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class PostgresCmdletTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    /// <summary>The life of an index, step by step, each step's output kept; $db is the index.</summary>
    private static readonly (string Name, string Script)[] Steps =
    [
        ("import Async", "Import-SemanticDocument kb/*.md -Database $db -Provider Local -Mode Async"),
        ("folder sync", "Sync-SemanticFolder more -Database $db -Mode Async"),
        ("flush estimate", "Invoke-BatchFlush -Database $db -Force -WhatIf"),
        ("flush", "Invoke-BatchFlush -Database $db -Force -MaxBatchSize 25"),
        ("jobs", "Get-BatchJob -Database $db"),
        ("sync", "Sync-BatchJob -Database $db"),
        ("import Sync", "Set-Content more/extra.md \"# Extra`n`nThe backup rotates every night at two.\"; Import-SemanticDocument more/extra.md -Database $db -Mode Sync"),
        ("status summary", "Get-ChunkStatus -Database $db -Summary"),
        ("chunk status", "Get-ChunkStatus -Database $db -DocumentPath (Resolve-Path kb/kb-000.md).Path"),
        ("documents", "Get-SemanticDocument -Database $db"),
        ("search Hybrid", "Search-SemanticIndex 'restart the queue worker' -Database $db -Mode Hybrid -Top 3 -DocumentPath (Resolve-Path kb/kb-001.md).Path"),
        ("search Semantic", "Search-SemanticIndex 'restart the queue worker' -Database $db -Mode Semantic -Top 3 -ChunkType Text"),
        ("search Keyword", "Search-SemanticIndex 'backup rotates' -Database $db -Mode Keyword -Top 3"),
        ("piped hits", "Search-SemanticIndex 'restart the queue worker' -Database $db -Top 2 | Get-ChunkStatus"),
        ("reset", "Get-ChunkStatus -Database $db -DocumentPath (Resolve-Path kb/kb-002.md).Path | Reset-ChunkStatus -Database $db -Force -PassThru"),
        ("flush again", "Invoke-BatchFlush -Database $db -Force"),
        ("stop", "Get-BatchJob -Database $db -Active | Stop-BatchJob -Confirm:$false"),
        ("remove", "Remove-SemanticDocument -Path (Resolve-Path kb/kb-003.md).Path -Database $db -Confirm:$false"),
        ("schema", "Update-SemanticSchema -Database $db"),
        ("health", "Test-SemanticIndex -Database $db"),
        ("spend", "Get-SemanticSpend -Database $db"),
        ("error: no such file", "Import-SemanticDocument kb/missing.md -Database $db"),
        ("error: other settings", "Import-SemanticDocument kb/kb-000.md -Database $db -Provider Gemini"),
        ("error: query without words", "Search-SemanticIndex '?!' -Database $db"),
    ];

    [PostgresFact]
    public void Every_cmdlet_gives_on_PostgreSQL_the_objects_and_ErrorIds_it_gives_on_SQLite()
    {
        BatchTestKit.WriteCorpus(dir, "kb", documents: 4, sections: 5, tag: "kb");
        BatchTestKit.WriteCorpus(dir, "more", documents: 2, sections: 3, tag: "more");
        var sqlite = RunSteps(TestIndex.For("Sqlite", dir));
        File.Delete(dir.Combine("more", "extra.md")); // the folder as the SQLite run found it
        var postgresIndex = TestIndex.For("Postgres", dir);
        var postgres = RunSteps(postgresIndex);

        foreach (var (name, _) in Steps)
        {
            Assert.Equal(Shape(sqlite[name]), Shape(postgres[name]));
        }

        Assert.Equal(3, postgres["search Hybrid"].Output.Count);
        Assert.All(postgres["search Hybrid"].Output, hit => Assert.EndsWith("kb-001.md", hit.Text("DocumentPath")));
        Assert.All(postgres["search Semantic"].Output, hit => Assert.Equal("Text", hit.Text("ChunkType")));
        Assert.Contains("backup rotates", postgres["search Keyword"].Output[0].Text("Content"));

        // The Database property names the server and the database, never the password.
        var password = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString).Password!;
        var named = postgres.Values.SelectMany(r => r.Output).Where(o => o.PropOrNull("Database") is not null).Select(o => o.Text("Database")).Distinct().ToList();
        Assert.NotEmpty(named);
        Assert.All(named, name =>
        {
            Assert.Contains("127.0.0.1", name);
            Assert.Contains("postgres", name);
            Assert.DoesNotContain(password, name);
        });
        Assert.All(postgres.Values, r => Assert.DoesNotContain(password, r.AllText + string.Join("\n", r.Errors.Select(BatchTestKit.ErrorTexts))));
        Invariants.AssertHold(postgresIndex.Database);
    }

    [PostgresFact]
    public async Task A_Gemini_index_on_PostgreSQL_takes_its_keys_from_the_keyring_and_stores_none()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        var index = TestIndex.For("Postgres", dir);
        var chunks = BatchTestKit.WriteCorpus(dir, "kb", documents: 3, sections: 4, tag: "kb");
        using var ps = module.NewSession(dir.Path);
        var variables = KeysAnd(index);
        try
        {
            ps.Run("Set-SemanticKeyring -ApiKey $ApiKey -BatchApiKey $BatchKey; Import-SemanticDocument kb/*.md -Database $db -Mode Async | Out-Null", variables).AssertNoErrors();
            ps.Run("Invoke-BatchFlush -Database $db -Force | Out-Null; Sync-BatchJob -Database $db | Out-Null", variables).AssertNoErrors();
            var hit = ps.Run("Search-SemanticIndex 'restart the queue worker' -Database $db -Top 1", variables).AssertNoErrors().Single();
            Assert.Contains("queue worker", hit.Text("Content"));
        }
        finally
        {
            ps.Run("Set-SemanticKeyring -Clear");
        }

        Assert.Equal((long)chunks, Db.Scalar<long>(index.Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        var everything = string.Join("\n", Db.Rows(index.Database, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
            .SelectMany(table => Db.Rows(index.Database, $"SELECT t::text FROM \"{table[0]}\" t")).Select(r => r[0]));
        Assert.DoesNotContain(GeminiFake.BatchKey, everything);
        Assert.DoesNotContain(GeminiFake.DefaultKey, everything);
        Invariants.AssertHold(index.Database);
    }

    public static TheoryData<string, string> ConnectionFailures => new()
    {
        { "DatabaseUnavailable", "unreachable" },
        { "DatabaseAuthenticationFailed", "wrong password" },
        { "DatabaseNotFound", "missing database" },
    };

    [PostgresTheory]
    [MemberData(nameof(ConnectionFailures))]
    public void A_connection_failure_gets_its_own_ErrorId_without_the_password(string errorId, string failure)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresFactAttribute.ConnectionString) { SearchPath = $"t_{Guid.NewGuid():N}" };
        var secret = builder.Password!;
        switch (failure)
        {
            case "unreachable":
                builder.Port = UnusedPort();
                break;
            case "wrong password":
                builder.Password = secret = "wrong-" + Guid.NewGuid().ToString("N");
                break;
            default:
                builder.Database = "missing_" + Guid.NewGuid().ToString("N");
                break;
        }

        using var ps = module.NewSession(dir.Path);
        var result = ps.Run("Get-ChunkStatus -Database $db", new Dictionary<string, object?> { ["db"] = builder.ConnectionString });

        var error = BatchTestKit.AssertTerminating(result, errorId, result.Terminating?.CategoryInfo.Category ?? ErrorCategory.NotSpecified);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        Assert.DoesNotContain(secret, BatchTestKit.ErrorTexts(error));
    }

    [PostgresFact]
    public async Task A_sync_whose_server_connection_is_killed_mid_way_loses_nothing_and_the_next_sync_resumes()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        var index = TestIndex.For("Postgres", dir);
        var chunks = BatchTestKit.WriteCorpus(dir, "kb", documents: 6, sections: 10, tag: "kb");
        using var ps = module.NewSession(dir.Path);
        var variables = KeysAnd(index);
        ps.Run("Import-SemanticDocument kb/*.md -Database $db -Mode Async | Out-Null; Invoke-BatchFlush -Database $db -Force -MaxBatchSize 25 -BatchApiKey $BatchKey | Out-Null", variables).AssertNoErrors();

        // The sync holds its connections while the fake holds the second download; they are killed, then it goes on.
        var download = gemini.Server.Hold((method, target) => method == "GET" && target.Contains(":download", StringComparison.Ordinal), afterHandling: true, skip: 1);
        var sync = Task.Run(() => ps.Run("Sync-BatchJob -Database $db -BatchApiKey $BatchKey", variables));
        await Task.WhenAny(download.Arrived, sync);
        Assert.True(download.Arrived.IsCompleted, "The sync never reached the second download");
        Assert.True(index.KillConnections() > 0, "The sync held no server connection");
        download.Release();
        var killed = await sync;
        Assert.Equal("DatabaseUnavailable", Assert.Single(killed.Errors.Append(killed.Terminating).OfType<ErrorRecord>()).ErrorId());

        ps.Run("Sync-BatchJob -Database $db -BatchApiKey $BatchKey | Out-Null; Invoke-BatchFlush -Database $db -Force -BatchApiKey $BatchKey | Out-Null; Sync-BatchJob -Database $db -BatchApiKey $BatchKey | Out-Null", variables).AssertNoErrors();
        Assert.Equal((long)chunks, Db.Scalar<long>(index.Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Ready'"));
        Assert.All(gemini.Server.Batches.GroupBy(b => b.DisplayName), created => Assert.Single(created));
        Invariants.AssertHold(index.Database);
    }

    /// <summary>The script variables of a Gemini test: $ApiKey, $BatchKey and $db.</summary>
    private static Dictionary<string, object?> KeysAnd(TestIndex index)
    {
        var variables = GeminiFake.KeyVariables();
        variables["db"] = index.Database;
        return variables;
    }

    private Dictionary<string, PsResult> RunSteps(TestIndex index)
    {
        using var ps = module.NewSession(dir.Path);
        var variables = new Dictionary<string, object?> { ["db"] = index.Database };
        return Steps.ToDictionary(step => step.Name, step => ps.Run(step.Script, variables));
    }

    /// <summary>What a step's output looks like whatever the backend: each object's type and properties, each error's ErrorId.</summary>
    private static string Shape(PsResult result) => string.Join("\n",
        result.Output.Select(o => o.TypeNames[0] + ": " + string.Join(",", o.Properties.Select(p => p.Name)))
            .Concat(result.Errors.Append(result.Terminating).OfType<ErrorRecord>().Select(e => $"error {e.FullyQualifiedErrorId} ({e.CategoryInfo.Category})")));

    private static int UnusedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose() => dir.Dispose();
}
