using System.Management.Automation;
using SemanticCore.PowerShell.Tests.Infrastructure;
using SemanticCore.Tests.Postgres;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The Onnx provider of the companion module SemanticCore.PS.Onnx: every cmdlet works on an Onnx index as on a Local one,
/// with vectors from a sentence-embedding model on this machine; without the module, -Provider Onnx says how to get it.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class OnnxProviderTests(ModuleFixture module) : IDisposable
{
    private readonly TestDirectory dir = new();

    private static string CompanionManifest { get; } = Directory.GetFiles(Path.Combine(ModuleFixture.RepoRoot, "out", "SemanticCore.PS.Onnx"), "SemanticCore.PS.Onnx.psd1", SearchOption.AllDirectories).Single();

    /// <summary>A session with the companion module imported as a user would (by name, from a folder on PSModulePath).</summary>
    private PsSession Session()
    {
        var ps = module.NewSession(dir.Path);
        ps.Run($"Import-Module '{CompanionManifest}'").AssertNoErrors();
        return ps;
    }

    /// <summary>Three runbooks; a question about the first shares none of its words.</summary>
    private void WriteRunbooks()
    {
        dir.Write("kb/rotate.md", "# Service accounts\n\nTo change the secret of the automation account, open the vault, generate a new one and restart the agent.");
        dir.Write("kb/printer.md", "# Printers\n\nThe office printer on floor two needs the PCL driver; add it from Settings.");
        dir.Write("kb/backup.md", "# Backups\n\nNightly backups of the file server run at one o'clock and are kept for thirty days.");
    }

    private const string Paraphrase = "renewing credentials for bot users";

    [Theory]
    [InlineData("Sqlite")]
    [PostgresData]
    public void An_async_import_flushes_and_syncs_on_this_machine_and_semantic_search_finds_what_keyword_search_misses(string backend)
    {
        WriteRunbooks();
        var index = TestIndex.For(backend, dir);
        var db = index.Argument;
        using var ps = Session();

        ps.Run($"Import-SemanticDocument kb/*.md -Database {db} -Provider Onnx -Mode Async").AssertNoErrors();
        Assert.Equal(["Pending", "Pending", "Pending"], ps.Run($"(Get-ChunkStatus -Database {db}).Status").AssertNoErrors().Output.Select(o => o.ToString()));
        ps.Run($"Invoke-BatchFlush -Database {db} -Force | Sync-BatchJob -Database {db}").AssertNoErrors();

        Assert.Equal(["Ready", "Ready", "Ready"], ps.Run($"(Get-ChunkStatus -Database {db}).Status").AssertNoErrors().Output.Select(o => o.ToString()));
        Assert.Equal(["Onnx", "all-MiniLM-L6-v2", "384"], Db.Rows(index.Database, "SELECT value FROM settings WHERE key IN ('provider', 'model', 'dimensions') ORDER BY key DESC").Select(r => (string)r[0]!));
        var semantic = ps.Run($"Search-SemanticIndex '{Paraphrase}' -Database {db} -Mode Semantic -Top 1").AssertNoErrors().Single();
        Assert.EndsWith("rotate.md", semantic.Text("DocumentPath"));
        var keyword = ps.Run($"Search-SemanticIndex '{Paraphrase}' -Database {db} -Mode Keyword").AssertNoErrors().Output;
        Assert.DoesNotContain(keyword, hit => hit.Text("DocumentPath").EndsWith("rotate.md", StringComparison.Ordinal));
        var hybrid = ps.Run($"Search-SemanticIndex '{Paraphrase}' -Database {db}").AssertNoErrors().Output;
        Assert.Contains(hybrid, hit => hit.Text("DocumentPath").EndsWith("rotate.md", StringComparison.Ordinal));
    }

    [Fact]
    public void A_sync_import_embeds_at_once_with_the_same_vectors_as_a_flush_and_asks_for_no_key()
    {
        WriteRunbooks();
        using var ps = Session();

        var import = ps.Run("Import-SemanticDocument kb/*.md -Database sync.db -Provider Onnx -Mode Sync").AssertNoErrors();
        Assert.Contains(import.Progress, p => p.Activity == "Embedding with all-MiniLM-L6-v2 on this machine" && p.StatusDescription.EndsWith(" a second", StringComparison.Ordinal));
        ps.Run("Import-SemanticDocument kb/*.md -Database async.db -Provider Onnx -Mode Async; Invoke-BatchFlush -Database async.db -Force | Sync-BatchJob -Database async.db").AssertNoErrors();

        const string vectors = "SELECT d.source_path, v.vector FROM chunks c JOIN documents d ON d.id = c.document_id JOIN chunk_vectors v ON v.chunk_id = c.id ORDER BY d.source_path, c.ordinal";
        var sync = Db.Rows(dir.Combine("sync.db"), vectors);
        var viaFlush = Db.Rows(dir.Combine("async.db"), vectors);
        Assert.Equal(3, sync.Count);
        Assert.Equal(sync.Select(r => r[0]), viaFlush.Select(r => r[0]));
        // Batched with other chunks, a chunk's padding differs, and so do the last bits of its vector.
        Assert.All(sync.Zip(viaFlush), pair => Assert.True(
            Cosine(Floats(pair.First[1]), Floats(pair.Second[1])) > 0.99999));
        var keys = ps.Run("Test-SemanticIndex -Database sync.db | Where-Object Name -eq Keys").AssertNoErrors().Single();
        Assert.True((bool)keys.Prop("Passed")!);
        Assert.Equal("The Onnx provider needs no key.", keys.Text("Message"));
    }

    [Fact]
    public void Each_model_is_chosen_by_name_at_its_own_dimension_and_a_wrong_model_or_dimension_creates_nothing()
    {
        WriteRunbooks();
        using var ps = Session();

        ps.Run("Import-SemanticDocument kb/rotate.md -Database arctic.db -Provider Onnx -Model snowflake-arctic-embed-xs").AssertNoErrors();
        Assert.Equal("snowflake-arctic-embed-xs", Db.Scalar<string>(dir.Combine("arctic.db"), "SELECT value FROM settings WHERE key = 'model'"));
        Assert.EndsWith("rotate.md", ps.Run($"Search-SemanticIndex '{Paraphrase}' -Database arctic.db -Mode Semantic -Top 1").AssertNoErrors().Single().Text("DocumentPath"));

        // Another model's vectors never join an index.
        var mixed = ps.Run("Import-SemanticDocument kb/printer.md -Database arctic.db -Provider Onnx -Model all-MiniLM-L6-v2");
        BatchTestKit.AssertTerminating(mixed, "IndexSettingsConflict", ErrorCategory.InvalidArgument);
        Assert.Equal(1L, Db.Scalar<long>(dir.Combine("arctic.db"), "SELECT count(*) FROM documents"));

        var dimensions = ps.Run("Import-SemanticDocument kb/rotate.md -Database wrong.db -Provider Onnx -Dimensions 768");
        Assert.Contains("makes 384-dimension vectors, not 768", BatchTestKit.AssertTerminating(dimensions, "InvalidDimensions", ErrorCategory.InvalidArgument).ToString());
        var model = ps.Run("Import-SemanticDocument kb/rotate.md -Database wrong.db -Provider Onnx -Model all-mpnet-base-v2");
        Assert.Contains("all-MiniLM-L6-v2, snowflake-arctic-embed-xs", BatchTestKit.AssertTerminating(model, "InvalidModel", ErrorCategory.InvalidArgument).ToString());
        Assert.False(File.Exists(dir.Combine("wrong.db")));
    }

    [Fact]
    public void The_module_is_imported_when_an_index_needs_it_and_without_it_Onnx_says_how_to_install_it()
    {
        WriteRunbooks();
        using (var ps = Session()) ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Provider Onnx").AssertNoErrors();

        // A new process, as a user's next session: the host has the repository's out/ on PSModulePath.
        var found = HostProcess.Run(dir.Path, "-Command",
            $"(Search-SemanticIndex '{Paraphrase}' -Database index.db -Mode Semantic -Top 1).DocumentPath; (Get-Module SemanticCore.PS.Onnx).Name");
        Assert.True(found.ExitCode == 0, found.Stderr);
        Assert.Equal([dir.Combine("kb/rotate.md"), "SemanticCore.PS.Onnx"], found.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        // A forecast of a new Onnx index imports the module too (it works out the settings without opening an index).
        var forecast = HostProcess.Run(dir.Path, "-Command", "Import-SemanticDocument kb/rotate.md -Database forecast.db -Provider Onnx -WhatIf; Test-Path forecast.db");
        Assert.True(forecast.ExitCode == 0 && forecast.Stderr.Length == 0, forecast.Stderr);
        Assert.Contains("Would create a new Onnx index", forecast.Stdout);
        Assert.EndsWith("False", forecast.Stdout.Trim());

        // The same without the companion on PSModulePath: reading works, embedding says what is missing, nothing is created.
        var withoutCompanion = "$env:PSModulePath = ($env:PSModulePath -split [IO.Path]::PathSeparator | Where-Object { -not (Test-Path (Join-Path $_ SemanticCore.PS.Onnx)) }) -join [IO.Path]::PathSeparator; " +
            $"Import-Module '{module.ManifestPath}'; ";
        var missing = HostProcess.Run(dir.Path, "-Command", withoutCompanion +
            "(Get-ChunkStatus -Database index.db | Measure-Object).Count; " +
            "try { Search-SemanticIndex 'x' -Database index.db -Mode Semantic -ErrorAction Stop } catch { $_.FullyQualifiedErrorId; $_.ErrorDetails.RecommendedAction; $_.Exception.Message }; " +
            "try { Import-SemanticDocument kb/rotate.md -Database new.db -Provider Onnx -ErrorAction Stop } catch { $_.FullyQualifiedErrorId }; " +
            "Test-Path new.db");
        Assert.True(missing.ExitCode == 0, missing.Stderr);
        var lines = missing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("3", lines[0]);
        Assert.StartsWith("ProviderNotInstalled,", lines[1]);
        Assert.Contains("SemanticCore.PS.Onnx", string.Join("\n", lines[2..]));
        Assert.StartsWith("ProviderNotInstalled,", lines[^2]);
        Assert.Equal("False", lines[^1]);
    }

    [Fact]
    public void The_companion_ships_its_runtime_and_models_and_loads_them_in_its_own_context_beside_the_base_module()
    {
        var folder = Path.GetDirectoryName(CompanionManifest)!;
        Assert.Equal(Path.GetFileName(Path.GetDirectoryName(module.ManifestPath)), Path.GetFileName(folder)); // released together
        foreach (var file in new[]
                 {
                     "dependencies/runtimes/linux-x64/native/libonnxruntime.so", "dependencies/runtimes/linux-arm64/native/libonnxruntime.so",
                     "dependencies/runtimes/osx-arm64/native/libonnxruntime.dylib", "dependencies/runtimes/win-x64/native/onnxruntime.dll",
                     "models/all-MiniLM-L6-v2/model.onnx", "models/all-MiniLM-L6-v2/vocab.txt",
                     "models/snowflake-arctic-embed-xs/model.onnx", "models/snowflake-arctic-embed-xs/vocab.txt",
                     "en-US/about_SemanticCore.PS.Onnx.help.txt",
                 })
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        }

        // The core is the base module's: a second copy would be a second provider registry.
        Assert.False(File.Exists(Path.Combine(folder, "dependencies", "SemanticCore.dll")));
        WriteRunbooks();
        using var ps = Session();
        ps.Run("Import-SemanticDocument kb/rotate.md -Database index.db -Provider Onnx").AssertNoErrors();
        var contexts = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name is "Microsoft.ML.OnnxRuntime" or "Microsoft.ML.Tokenizers" or "SemanticCore")
            .Select(a => (a.GetName().Name, System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(a)!.Name))
            .ToHashSet();
        Assert.Equal([("Microsoft.ML.OnnxRuntime", "SemanticCore.PS.Onnx"), ("Microsoft.ML.Tokenizers", "SemanticCore.PS.Onnx"), ("SemanticCore", "SemanticCore.PS")],
            contexts.OrderBy(c => c.Item1));
    }

    private static double Cosine(float[] a, float[] b) =>
        a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(y => (double)y * y));

    private static float[] Floats(object? blob) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>((byte[])blob!).ToArray();

    public void Dispose() => dir.Dispose();
}
