using System.Management.Automation;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

[Collection(ModuleCollection.Name)]
public sealed class ImportSemanticDocumentTests(ModuleFixture module) : IDisposable
{
    private const string Guide = """
        # Key rotation

        How the batch key is rotated.

        ## Before you start

        You need admin rights on the project. Check the current key's age first.

        ## Rotate

        Create the new key in the console, then store it:

        ```powershell
        Set-SemanticKeyring -BatchApiKey $new
        ```

        ## Verify

        Run a flush and check the job status.
        """;

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    [Fact]
    public void Async_import_stores_every_chunk_as_Pending_with_its_vector_source()
    {
        dir.Write("kb/rotation.md", Guide);
        using var ps = module.NewSession(dir.Path);

        var result = ps.Run("Import-SemanticDocument -Path kb/rotation.md -Database index.db -Provider Local -Mode Async").AssertNoErrors().Single();

        Assert.Equal("SemanticCore.Model.ImportResult", result.TypeName());
        Assert.Equal("Added", result.Text("Status"));
        Assert.Equal(dir.Combine("kb", "rotation.md"), result.Text("Path"));
        Assert.Equal("Key rotation", result.Text("Title"));
        Assert.Equal(Database, result.Text("Database"));
        var chunks = result.Long("Chunks");
        Assert.True(chunks >= 4, $"expected a chunk per section, got {chunks}");
        Assert.Equal(chunks, result.Long("Pending"));

        Assert.Equal(chunks, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE embedding_status = 'Pending' AND batch_job_id IS NULL"));
        Assert.Equal(0, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunk_vectors"));
        var sources = Db.Rows(Database, "SELECT json_extract(metadata, '$._vector_source'), chunk_type, language FROM chunks ORDER BY ordinal");
        Assert.All(sources, row => Assert.Contains("Key rotation", (string)row[0]!));
        Assert.Contains(sources, row => (string?)row[1] == "code" && (string?)row[2] == "powershell");
    }

    [Fact]
    public void Reimporting_an_unchanged_file_reports_Unchanged_and_writes_nothing()
    {
        dir.Write("rotation.md", Guide);
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument rotation.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        var before = Db.FileState(Database);

        var again = ps.Run("Import-SemanticDocument rotation.md -Database index.db -Mode Async").AssertNoErrors().Single();

        Assert.Equal("Unchanged", again.Text("Status"));
        Assert.Equal(0, again.Long("Added"));
        Assert.Equal(before, Db.FileState(Database));
    }

    [Fact]
    public void Changing_one_section_re_embeds_only_that_section()
    {
        var path = dir.Write("rotation.md", Guide);
        using var ps = module.NewSession(dir.Path);
        var first = ps.Run("Import-SemanticDocument rotation.md -Database index.db -Provider Local -Mode Sync").AssertNoErrors().Single();
        Assert.Equal(0, first.Long("Pending"));
        var readyBefore = Db.Rows(Database, "SELECT c.id, v.vector FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id")
            .ToDictionary(r => (long)r[0]!, r => Convert.ToHexString((byte[])r[1]!));

        File.WriteAllText(path, Guide.Replace("Run a flush and check the job status.", "Run a flush, then Sync-BatchJob -Wait, and check the job status."));
        var second = ps.Run("Import-SemanticDocument rotation.md -Database index.db -Mode Async").AssertNoErrors().Single();

        Assert.Equal("Updated", second.Text("Status"));
        Assert.Equal(1, second.Long("Added"));
        Assert.Equal(1, second.Long("Removed"));
        Assert.Equal(first.Long("Chunks") - 1, second.Long("Kept"));
        Assert.Equal(1, second.Long("Pending"));

        var pending = Db.Rows(Database, "SELECT content FROM chunks WHERE embedding_status = 'Pending'");
        Assert.Contains("Sync-BatchJob -Wait", (string)Assert.Single(pending)[0]!);
        // The kept chunks are the same rows with the same vectors: nothing already paid for is embedded again.
        var readyAfter = Db.Rows(Database, "SELECT c.id, v.vector FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id WHERE c.embedding_status = 'Ready'");
        Assert.Equal(readyBefore.Count - 1, readyAfter.Count);
        Assert.All(readyAfter, r => Assert.Equal(readyBefore[(long)r[0]!], Convert.ToHexString((byte[])r[1]!)));
    }

    [Fact]
    public void Sync_import_on_the_Local_provider_stores_unit_vectors_of_the_index_dimension()
    {
        dir.Write("rotation.md", Guide);
        using var ps = module.NewSession(dir.Path);

        var result = ps.Run("Import-SemanticDocument rotation.md -Database index.db -Provider Local -Dimensions 256").AssertNoErrors().Single();

        Assert.Equal(result.Long("Chunks"), result.Long("Embedded"));
        var vectors = Db.Rows(Database, "SELECT v.dimensions, v.model, v.vector FROM chunk_vectors v");
        Assert.Equal(result.Long("Chunks"), vectors.Count);
        foreach (var row in vectors)
        {
            Assert.Equal(256L, row[0]);
            Assert.Equal("local-feature-hash-v2", row[1]);
            var blob = (byte[])row[2]!;
            Assert.Equal(256 * 4, blob.Length);
            var floats = Enumerable.Range(0, 256).Select(i => BitConverter.ToSingle(blob, i * 4)).ToArray();
            Assert.Equal(1.0, Math.Sqrt(floats.Sum(f => (double)f * f)), 4);
        }
    }

    [Fact]
    public void Pipeline_input_of_strings_FileInfo_and_provider_items_all_import()
    {
        dir.Write("docs/a.md", "# A\n\nAlpha.");
        dir.Write("docs/b.md", "# B\n\nBeta.");
        dir.Write("docs/sub/c.txt", "Gamma paragraph.\n\nDelta paragraph.");
        using var ps = module.NewSession(dir.Path);

        var fromStrings = ps.Run("'docs/a.md', 'docs/b.md' | Import-SemanticDocument -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        var fromFileInfo = ps.Run("[System.IO.DirectoryInfo]::new([System.IO.Path]::Combine(\"$PWD\", 'docs')).GetFiles('*', 'AllDirectories') | Import-SemanticDocument -Database index.db -Mode Async").AssertNoErrors();
        // Provider items carry PSPath, as Get-ChildItem output does: it binds to -LiteralPath.
        var fromItems = ps.Run("$ExecutionContext.InvokeProvider.ChildItem.Get('docs/sub', $true) | Where-Object { -not $_.PSIsContainer } | Import-SemanticDocument -Database index.db -Mode Async").AssertNoErrors();

        Assert.Equal(["Added", "Added"], fromStrings.Output.Select(o => o.Text("Status")));
        Assert.Equal(["Added", "Unchanged", "Unchanged"], fromFileInfo.Output.Select(o => o.Text("Status")).Order());
        Assert.Equal("Unchanged", fromItems.Single().Text("Status"));
        Assert.Equal(3L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
    }

    [Fact]
    public void Relative_paths_follow_PowerShells_location_not_the_process_directory()
    {
        dir.Write("deep/nested/note.md", "# Note\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var result = ps.Run("$null = $ExecutionContext.SessionState.Path.SetLocation('deep/nested'); Import-SemanticDocument note.md -Database ../../index.db -Provider Local -Mode Async")
            .AssertNoErrors().Single();

        Assert.Equal(dir.Combine("deep", "nested", "note.md"), result.Text("Path"));
        Assert.Equal(Database, result.Text("Database"));
        Assert.True(File.Exists(Database));
    }

    [Fact]
    public void Wildcards_expand_and_LiteralPath_does_not()
    {
        dir.Write("w/one.md", "# One\n\nText one.");
        dir.Write("w/two.md", "# Two\n\nText two.");
        dir.Write("w/[x].md", "# Bracket\n\nLiteral name.");
        using var ps = module.NewSession(dir.Path);

        var expanded = ps.Run("Import-SemanticDocument -Path w/[ot]*.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        var literal = ps.Run("Import-SemanticDocument -LiteralPath 'w/[x].md' -Database index.db -Mode Async").AssertNoErrors();

        Assert.Equal(2, expanded.Output.Count);
        Assert.Equal(dir.Combine("w", "[x].md"), literal.Single().Text("Path"));
    }

    [Fact]
    public void Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on()
    {
        dir.Write("good.md", "# Good\n\nFine text.");
        dir.Write("empty.md", "");
        dir.Write("blank.md", "  \n\n \t\n");
        dir.WriteBytes("binary.md", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01, 0x02]);
        dir.WriteBytes("latin1.md", "# Caf"u8.ToArray().Concat(new byte[] { 0xE9, 0x0A }).ToArray());
        dir.Write("image.png", "not really a png");
        Directory.CreateDirectory(dir.Combine("folder.md"));
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("""
            'missing.md', 'nothing*.md', 'folder.md', 'binary.md', 'latin1.md', 'empty.md', 'blank.md', 'image.png', 'good.md' |
                Import-SemanticDocument -Database index.db -Provider Local -Mode Async
            """);

        Assert.Null(run.Terminating);
        Assert.Equal("good.md", Path.GetFileName(run.Single().Text("Path")));
        var errors = run.Errors.Select(e => (Id: e.FullyQualifiedErrorId.Split(',')[0], e.CategoryInfo.Category, Target: Path.GetFileName(e.TargetObject?.ToString()))).ToList();
        Assert.Equal(
            [
                ("PathNotFound", ErrorCategory.ObjectNotFound, "missing.md"),
                ("NoMatchingFiles", ErrorCategory.ObjectNotFound, "nothing*.md"),
                ("PathIsDirectory", ErrorCategory.InvalidArgument, "folder.md"),
                ("BinaryFile", ErrorCategory.InvalidData, "binary.md"),
                ("InvalidUtf8", ErrorCategory.InvalidData, "latin1.md"),
                ("EmptyFile", ErrorCategory.InvalidData, "empty.md"),
                ("EmptyFile", ErrorCategory.InvalidData, "blank.md"),
                ("UnsupportedFileType", ErrorCategory.InvalidArgument, "image.png"),
            ],
            errors);
        Assert.All(run.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Exception.Message)));
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
    }

    [Fact]
    public void Unreadable_file_is_a_per_item_ReadError()
    {
        dir.Write("good.md", "# Good\n\nFine.");
        string unreadable;
        if (OperatingSystem.IsLinux())
        {
            // Permissions do not stop root (CI here runs as root); reading /proc/self/mem at offset 0 fails with EIO for anyone.
            unreadable = dir.Combine("locked.md");
            File.CreateSymbolicLink(unreadable, "/proc/self/mem");
        }
        else
        {
            unreadable = dir.Write("locked.md", "# Locked");
            if (OperatingSystem.IsWindows()) return; // no portable way to deny ourselves a file there
            File.SetUnixFileMode(unreadable, UnixFileMode.None);
        }

        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("'locked.md', 'good.md' | Import-SemanticDocument -Database index.db -Provider Local -Mode Async");

        var error = Assert.Single(run.Errors);
        Assert.Equal("FileUnreadable", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ReadError, error.CategoryInfo.Category);
        Assert.Equal(unreadable, error.TargetObject);
        Assert.Equal("good.md", Path.GetFileName(run.Single().Text("Path")));
    }

    [Fact]
    public void WhatIf_forecasts_each_file_imports_nothing_and_creates_no_index()
    {
        dir.Write("a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument a.md -Database index.db -Provider Local -WhatIf").AssertNoErrors();

        var forecast = run.Single();
        Assert.Equal("Added", forecast.Text("Status"));
        Assert.True((bool)forecast.Prop("WhatIf")!);
        Assert.Equal(1L, forecast.Long("Added"));
        Assert.False(File.Exists(Database));
    }

    [Fact]
    public void Database_comes_from_the_environment_variable_when_not_given()
    {
        dir.Write("a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var result = ps.Run("$env:SEMANTICCORE_DATABASE = [System.IO.Path]::Combine(\"$PWD\", 'env.db'); try { Import-SemanticDocument a.md -Provider Local -Mode Async } finally { $env:SEMANTICCORE_DATABASE = $null }")
            .AssertNoErrors().Single();

        Assert.Equal(dir.Combine("env.db"), result.Text("Database"));
    }

    [Fact]
    public void An_explicit_setting_that_differs_from_the_index_is_refused_before_anything_is_written()
    {
        dir.Write("a.md", "# A\n\nText.");
        dir.Write("b.md", "# B\n\nText.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument a.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        var before = Db.FileState(Database);

        var run = ps.Run("Import-SemanticDocument b.md -Database index.db -Provider Gemini -Mode Async");

        Assert.NotNull(run.Terminating);
        Assert.Equal("IndexSettingsConflict", run.Terminating!.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("Local", run.Terminating.Exception.Message);
        Assert.Equal(before, Db.FileState(Database));
    }

    [Fact]
    public void Sync_mode_on_a_Gemini_index_without_a_key_fails_clearly_and_leaves_nothing()
    {
        dir.Write("a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument a.md -Database index.db -Mode Sync");

        Assert.NotNull(run.Terminating);
        Assert.Equal("ApiKeyMissing", run.Terminating!.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(System.Management.Automation.ErrorCategory.AuthenticationError, run.Terminating.CategoryInfo.Category);
        Assert.Contains("GEMINI_API_KEY", run.Terminating.Exception.Message);
        Assert.False(File.Exists(Database), "an index created by a command that imported nothing must not be left behind");
    }

    [Fact]
    public void The_default_mode_without_a_batch_key_on_a_new_Gemini_index_leaves_no_index_behind()
    {
        dir.Write("a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument a.md -Database index.db");
        var local = ps.Run("Import-SemanticDocument a.md -Database index.db -Provider Local").AssertNoErrors().Single();

        Assert.Equal("ApiKeyMissing", run.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("Added", local.Text("Status"));
    }

    [Theory]
    [InlineData("Gemini", 64)]
    [InlineData("Gemini", 4096)]
    public void Dimensions_outside_the_providers_range_are_refused_before_an_index_is_created(string provider, int dimensions)
    {
        dir.Write("a.md", "# A\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run($"Import-SemanticDocument a.md -Database index.db -Provider {provider} -Dimensions {dimensions} -Mode Async");

        Assert.Equal("InvalidDimensions", run.Terminating?.FullyQualifiedErrorId.Split(',')[0]);
        Assert.False(File.Exists(Database));
    }

    [Fact]
    public void A_wildcard_that_matches_only_directories_is_reported()
    {
        Directory.CreateDirectory(dir.Combine("kb1"));
        Directory.CreateDirectory(dir.Combine("kb2"));
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument kb* -Database index.db -Provider Local -Mode Async");

        Assert.Equal("NoMatchingFiles", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Progress_is_reported_per_file_and_completed()
    {
        dir.Write("a.md", "# A\n\nText.");
        dir.Write("b.md", "# B\n\nText.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument *.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        Assert.Equal(2, run.Progress.Count(p => p.RecordType == ProgressRecordType.Processing));
        Assert.Equal(ProgressRecordType.Completed, run.Progress[^1].RecordType);
        Assert.Single(run.Progress.Select(p => p.ActivityId).Distinct());
    }

    [Fact]
    public void Async_imports_share_transactions_and_a_file_that_cannot_be_stored_fails_alone()
    {
        for (var i = 0; i < 30; i++) dir.Write($"kb/doc-{i:D2}.md", $"# Doc {i}\n\nText of document {i}.");
        dir.Write("kb/doc-13-bad.md", "# Bad\n\nThis one the index refuses.");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/doc-00.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();
        // Any SQLite failure while storing one document (a lock held too long, a full disk) behaves like this refusal.
        Db.Execute(Database, "CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN new.source_path LIKE '%bad.md' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");

        var run = ps.Run("Import-SemanticDocument kb/*.md -Database index.db -Mode Async");

        var error = Assert.Single(run.Errors);
        Assert.Equal("DatabaseWriteFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(dir.Combine("kb", "doc-13-bad.md"), error.TargetObject);
        Assert.Equal(30, run.Output.Count);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => dir.Combine("kb", $"doc-{i:D2}.md")), run.Output.Select(r => r.Text("Path")));
        Assert.Equal(30L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM documents"));
        Assert.Equal(0L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE document_id IS NULL OR document_id NOT IN (SELECT id FROM documents)"));
    }

    [Fact]
    public void Chunks_queued_in_one_transaction_are_counted_searchable_and_compared_when_the_file_comes_again()
    {
        dir.Write("kb/rotation.md", Guide);
        dir.Write("kb/other.md", "# Other\n\nQuarterly storage review.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument kb/rotation.md, kb/other.md, kb/rotation.md -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        Assert.Equal(["Added", "Added", "Unchanged"], run.Output.Select(r => r.Text("Status")));
        var chunks = run.Output[0].Long("Chunks");
        Assert.Equal(chunks, run.Output[0].Long("Pending"));
        Assert.Equal(chunks, run.Output[2].Long("Chunks"));
        Assert.Equal(chunks + run.Output[1].Long("Chunks"), Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks"));
        // Every chunk reached the keyword index through its insert trigger.
        Assert.Equal(1L, Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'quarterly'"));
        Assert.Equal(Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks WHERE content LIKE '%admin rights%'"),
            Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'admin AND rights'"));
    }

    [Fact]
    public void A_pipeline_that_fails_before_its_end_stores_none_of_the_files_it_did_not_report()
    {
        for (var i = 0; i < 5; i++) dir.Write($"kb/doc-{i}.md", $"# Doc {i}\n\nText {i}.");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("& { 'kb/doc-0.md'; 'kb/doc-1.md'; throw 'the upstream command failed' } | Import-SemanticDocument -Database index.db -Provider Local -Mode Async");

        Assert.NotNull(run.Terminating);
        Assert.Empty(run.Output);
        Assert.False(File.Exists(Database)); // created by this command, and nothing stored: not left behind
        var again = ps.Run("'kb/doc-0.md', 'kb/doc-1.md' | Import-SemanticDocument -Database index.db -Mode Async").AssertNoErrors();
        Assert.All(again.Output, r => Assert.Equal("Added", r.Text("Status")));
    }

    [Fact]
    public async Task Pipes_devices_and_too_deep_Markdown_are_errors_of_their_own_and_never_hang_the_pipeline()
    {
        dir.Write("kb/good.md", "# Good\n\nImported.");
        dir.Write("kb/quotes.md", new string('>', 5000) + " deep\n");
        dir.Write("kb/lists.md", string.Concat(Enumerable.Range(0, 1000).Select(i => new string(' ', 2 * i) + "- item\n")));
        dir.Write("kb/brackets.md", new string('[', 20000) + "x" + new string(']', 20000));
        var targets = new List<string> { "kb/quotes.md", "kb/lists.md", "kb/brackets.md" };
        if (!OperatingSystem.IsWindows())
        {
            File.CreateSymbolicLink(dir.Combine("kb/zero.md"), "/dev/zero");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", dir.Combine("kb/pipe.md"))) await mkfifo.WaitForExitAsync();
            targets.AddRange(["kb/zero.md", "kb/pipe.md"]);
        }

        using var ps = module.NewSession(dir.Path);
        var command = $"{string.Join(", ", targets.Append("kb/good.md").Select(t => $"'{t}'"))} | Import-SemanticDocument -Database index.db -Provider Local -Mode Async";
        var run = await Task.Run(() => ps.Run(command)).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal("Added", run.Single().Text("Status"));
        var expected = new[] { "MarkdownTooDeep", "MarkdownTooDeep", "MarkdownTooDeep", "NotARegularFile", "NotARegularFile" }.Take(targets.Count);
        Assert.Equal(expected, run.Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]));
        Assert.Equal(targets.Select(t => dir.Combine(t)), run.Errors.Select(e => (string)e.TargetObject));
    }

    [LinuxFact]
    public void A_link_to_a_proc_file_whose_size_reads_as_zero_is_imported_as_the_text_it_is()
    {
        Directory.CreateDirectory(dir.Combine("kb"));
        File.CreateSymbolicLink(dir.Combine("kb/status.txt"), "/proc/self/status");
        using var ps = module.NewSession(dir.Path);

        var imported = ps.Run("Import-SemanticDocument kb/status.txt -Database index.db -Provider Local -Mode Async").AssertNoErrors().Single();
        var hits = ps.Run("Search-SemanticIndex 'VmRSS' -Mode Keyword -Database index.db").AssertNoErrors();

        Assert.Equal("Added", imported.Text("Status"));
        Assert.Equal(dir.Combine("kb/status.txt"), Assert.Single(hits.Output).Text("DocumentPath"));
    }

    [Fact]
    public void A_first_import_that_stores_nothing_leaves_no_index_behind()
    {
        dir.Write("kb/empty.md", "");
        using var ps = module.NewSession(dir.Path);

        var run = ps.Run("Import-SemanticDocument kb/empty.md -Database index.db -Provider Local -Mode Async");

        Assert.Equal("EmptyFile", Assert.Single(run.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.False(File.Exists(Database));
        Assert.False(File.Exists(Database + "-wal"));
    }

    public void Dispose() => dir.Dispose();
}
