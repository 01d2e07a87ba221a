using System.Diagnostics;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// A lock that another process holds past the busy timeout is IndexLocked, with its advice, from every cmdlet that
/// meets it. The lock comes from a child process: two SQLite copies in one process do not see each other's locks.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class IndexLockTests(ModuleFixture module) : IDisposable
{
    /// <summary>The holder loads the module's own SQLite (by opening the index once) and keeps a transaction open.</summary>
    private const string HolderScript = """
        param([string] $Lock)
        Get-SemanticDocument -Database index.db | Out-Null
        $sqlite = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Microsoft.Data.Sqlite' }
        $connection = [Activator]::CreateInstance($sqlite.GetType('Microsoft.Data.Sqlite.SqliteConnection'), @('Data Source=index.db;Pooling=False'))
        $connection.Open()
        $command = $connection.CreateCommand()
        $command.CommandText = $Lock
        $null = $command.ExecuteNonQuery()
        'locked'
        Start-Sleep -Seconds 600
        """;

    /// <summary>A write transaction: in WAL mode readers go on, writers wait.</summary>
    private const string WriteLock = "BEGIN IMMEDIATE; UPDATE settings SET value = value";

    /// <summary>An exclusive lock (as a tool in exclusive locking mode holds it): readers wait too.</summary>
    private const string ExclusiveLock = "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE settings SET value = value";

    private static readonly string[] Writers =
    [
        "Invoke-BatchFlush -Force",
        "Sync-BatchJob",
        "Stop-BatchJob -Id $job -Confirm:$false",
        "Reset-ChunkStatus -Status Failed -Confirm:$false",
        "Remove-SemanticDocument -Path kb/a.md -Confirm:$false",
        "Import-SemanticDocument kb/new.md -Mode Async",
        "Sync-SemanticFolder kb",
    ];

    private static readonly string[] Readers =
    [
        "Get-ChunkStatus",
        "Get-ChunkStatus -Summary",
        "Get-SemanticDocument",
        "Get-BatchJob",
        "Search-SemanticIndex alpha",
        "Test-SemanticIndex",
        "Backup-SemanticIndex copy.db",
        "Update-SemanticSchema",
    ];

    private readonly TestDirectory dir = new();

    [Fact]
    public void A_write_lock_past_the_busy_timeout_is_IndexLocked_for_every_cmdlet_that_writes_and_readers_go_on()
    {
        using var ps = IndexWithAnActiveJob(out var job);
        using var holder = HoldLock(WriteLock);

        foreach (var command in Writers) AssertLocked(ps, command, job);
        foreach (var command in Readers) ps.Run($"{command} -Database index.db").AssertNoErrors();
    }

    [Fact]
    public void An_exclusive_lock_past_the_busy_timeout_is_IndexLocked_for_every_cmdlet()
    {
        using var ps = IndexWithAnActiveJob(out var job);
        using var holder = HoldLock(ExclusiveLock);

        foreach (var command in Writers.Concat(Readers)) AssertLocked(ps, command, job);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    [InlineData("thirty")]
    public void An_invalid_busy_timeout_stops_the_command_with_InvalidBusyTimeout(string value)
    {
        using var ps = IndexWithAnActiveJob(out _);

        var (exitCode, stdout, stderr) = HostProcess.Run(dir.Path, new Dictionary<string, string?> { ["SEMANTICCORE_BUSY_TIMEOUT"] = value },
            "-Command", "try { Get-ChunkStatus -Database index.db } catch { $_.FullyQualifiedErrorId; $_.ErrorDetails.RecommendedAction }");

        Assert.True(exitCode == 0, stderr);
        Assert.StartsWith("InvalidBusyTimeout,", stdout, StringComparison.Ordinal);
        Assert.Contains("SEMANTICCORE_BUSY_TIMEOUT to a whole number of seconds", stdout, StringComparison.Ordinal);
    }

    private static void AssertLocked(PsSession ps, string command, string job)
    {
        var run = ps.Run($"{command} -Database index.db", new Dictionary<string, object?> { ["job"] = job });

        var errors = run.Errors.Concat(run.Terminating is null ? [] : [run.Terminating]).ToList();
        Assert.True(errors.Count > 0, $"{command}: no error under the lock.");
        foreach (var error in errors)
        {
            Assert.True(error.ErrorId() == "IndexLocked", $"{command}: {error.FullyQualifiedErrorId}: {error}");
            Assert.Contains("stayed locked by another process for 1 s", error.Exception.Message, StringComparison.Ordinal);
            Assert.StartsWith("Run the command again when the other import, flush or sync", error.ErrorDetails.RecommendedAction, StringComparison.Ordinal);
        }
    }

    /// <summary>Pending, Failed and Submitted chunks, an active job and a file not yet imported: something for every writer to do.</summary>
    private PsSession IndexWithAnActiveJob(out string job)
    {
        dir.Write("kb/a.md", "# A\n\nAlpha text.\n\n## B\n\nBeta text.");
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        job = ps.Run("Invoke-BatchFlush -Database index.db -Force").AssertNoErrors().Single().Text("Id");
        dir.Write("kb/b.md", "# B\n\nGamma text.\n\n## C\n\nDelta text.");
        ps.Run("Import-SemanticDocument kb/b.md -Database index.db -Mode Async").AssertNoErrors();
        Db.Execute(dir.Combine("index.db"), "UPDATE chunks SET embedding_status = 'Failed' WHERE id = (SELECT MAX(id) FROM chunks)");
        dir.Write("kb/new.md", "# New\n\nFresh text.");
        return ps;
    }

    /// <summary>Starts the holder and returns once it holds the lock; disposing it ends the holder and its lock.</summary>
    private Holder HoldLock(string lockSql)
    {
        // Every wait for the lock (this process's cmdlets) ends after a second instead of the default 30.
        Environment.SetEnvironmentVariable("SEMANTICCORE_BUSY_TIMEOUT", "1");
        File.WriteAllText(dir.Combine("hold.ps1"), HolderScript);
        var process = HostProcess.Start(dir.Path, "-File", "hold.ps1", lockSql);
        var holder = new Holder(process);
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (line == "locked") return holder;
        }

        holder.Dispose();
        Assert.Fail($"The lock holder ended without the lock: {process.StandardError.ReadToEnd()}");
        return holder;
    }

    private sealed class Holder(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
        }
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("SEMANTICCORE_BUSY_TIMEOUT", null);
        dir.Dispose();
    }
}
