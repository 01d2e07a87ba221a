using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The hostile-input suite: a catalogue of bad inputs, each fed to the cmdlets in this process. Every kind gets its
/// documented ErrorId (or the outcome the catalogue names), never a raw .NET or SQLite exception; nothing already
/// stored is lost; nothing hangs; the good item after the bad one still gets through; and the index's invariants hold.
/// </summary>
/// <remarks>
/// To add a kind, add a <see cref="HostileKind"/> to its area below: what to put in the test folder, the script (the
/// bad item first, then a good one), the ErrorIds it must produce in order, and what shows the good item got through
/// (by default: kb/good.md was imported). Kinds tested elsewhere are listed in <see cref="CoveredElsewhere"/> with the
/// test that covers them, so the catalogue counts every kind once.
/// </remarks>
[Collection(ModuleCollection.Name)]
public sealed class HostileInputTests(ModuleFixture module)
{
    private const string Seed = "# Seed\n\nSeed words about rotating certificates.\n\n## Second\n\nMore seed text for the index.\n";
    private const string Good = "# Good\n\nThe good file after the bad one.\n";

    /// <summary>Errors that PowerShell's parameter binder raises itself (documented PowerShell behaviour, with its own ErrorIds).</summary>
    private static readonly HashSet<string> BindingErrorIds =
    [
        "ParameterArgumentValidationError", "ParameterArgumentValidationErrorNullNotAllowed",
        "ParameterArgumentValidationErrorEmptyStringNotAllowed", "CannotConvertArgumentNoMessage",
    ];

    /// <summary>A kind of bad input and what must come of it.</summary>
    /// <param name="Name">What the hostile world tries.</param>
    /// <param name="Script">Runs in the test folder, whose index.db holds kb/seed.md (Ready); the bad item first, then the good one.</param>
    /// <param name="Errors">The ErrorIds it must produce, in order (a terminating one last).</param>
    /// <param name="Arrange">Puts the bad input in place; returns the script's variables.</param>
    /// <param name="Then">Shows the good item got through (and what the bad one left); default: kb/good.md was imported.</param>
    /// <param name="Terminating">The last error ends the command (a bad -Database, say): every item would meet it.</param>
    /// <param name="Prepare">A script run first, in the same session (a batch job to name, say).</param>
    /// <param name="UnixOnly">Needs named pipes, symbolic links or file names that Windows doesn't have.</param>
    public sealed record HostileKind(
        string Name,
        string Script,
        string[] Errors,
        Func<TestDirectory, Dictionary<string, object?>>? Arrange = null,
        Action<PsResult, TestDirectory>? Then = null,
        bool Terminating = false,
        string? Prepare = null,
        bool UnixOnly = false);

    public static IReadOnlyList<HostileKind> Kinds { get; } =
        [.. Content(), .. Paths(), .. Databases(), .. Queries(), .. ChunksAndJobs(), .. Parameters()];

    /// <summary>Kinds another test already feeds to the cmdlets: the kind, its outcome, and that test.</summary>
    public static IReadOnlyList<(string Kind, string Outcome, string Test)> CoveredElsewhere { get; } =
    [
        ("missing file", "PathNotFound", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("wildcard that matches nothing", "NoMatchingFiles", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("a directory named x.md", "PathIsDirectory", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("binary file (PNG header, NUL bytes)", "BinaryFile", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("invalid UTF-8 (a Latin-1 byte)", "InvalidUtf8", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("a 0-byte file named .md", "EmptyFile, and a first import leaves no index", "ImportSemanticDocumentTests.A_first_import_that_stores_nothing_leaves_no_index_behind"),
        ("whitespace-only file", "EmptyFile", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("unsupported extension", "UnsupportedFileType", "ImportSemanticDocumentTests.Bad_input_gets_one_ErrorRecord_per_item_and_the_pipeline_goes_on"),
        ("unreadable file (/proc/self/mem: root ignores file permissions, so a mode of 000 proves nothing here)", "FileUnreadable", "ImportSemanticDocumentTests.Unreadable_file_is_a_per_item_ReadError"),
        ("a FIFO named .md", "NotARegularFile", "ImportSemanticDocumentTests.Pipes_devices_and_too_deep_Markdown_are_errors_of_their_own_and_never_hang_the_pipeline"),
        ("/dev/zero behind a symbolic link", "NotARegularFile", "ImportSemanticDocumentTests.Pipes_devices_and_too_deep_Markdown_are_errors_of_their_own_and_never_hang_the_pipeline"),
        ("5,000 nested quotes, 1,000 nested lists, 20,000 brackets", "MarkdownTooDeep", "ImportSemanticDocumentTests.Pipes_devices_and_too_deep_Markdown_are_errors_of_their_own_and_never_hang_the_pipeline"),
        ("-Dimensions outside the provider's range", "InvalidDimensions", "ImportSemanticDocumentTests.Dimensions_outside_the_providers_range_are_refused_before_an_index_is_created"),
        ("a text file as -Database", "NotADatabase, file untouched", "SchemaTests.Paths_that_are_not_an_index_get_a_clear_error_and_are_never_overwritten"),
        ("a directory as -Database", "DatabaseIsDirectory", "SchemaTests.Paths_that_are_not_an_index_get_a_clear_error_and_are_never_overwritten"),
        ("another application's SQLite database as -Database", "NotASemanticIndex, file untouched", "SchemaTests.Paths_that_are_not_an_index_get_a_clear_error_and_are_never_overwritten"),
        ("an index of a newer schema", "SchemaTooNew, file untouched", "SchemaTests.A_newer_index_it_cannot_use_is_refused_untouched"),
        ("a truncated index", "IndexCorrupt from every cmdlet", "StoreFailureTests.A_truncated_index_is_IndexCorrupt_for_every_cmdlet_and_Update_SemanticSchema_goes_on_with_the_next"),
        ("random bytes over an index's pages", "the Integrity rule fails", "StoreFailureTests.A_damaged_page_fails_the_Integrity_rule_instead_of_the_whole_health_check"),
        ("-Database /dev/null", "NotADatabase, no journal beside it", "StoreFailureTests.A_device_is_not_an_index_and_nothing_is_written_beside_it_and_odd_wildcards_match_literally"),
        ("an invalid wildcard ('a[b') as -DocumentPath", "matched literally", "StoreFailureTests.A_device_is_not_an_index_and_nothing_is_written_beside_it_and_odd_wildcards_match_literally"),
        ("FTS5 syntax, SQL injection, a 10 KB query, non-Latin scripts", "searched as words", "SearchTests.Hostile_queries_are_searched_as_words_never_as_syntax"),
        ("an empty, blank or punctuation-only query", "SearchQueryEmpty", "SearchTests.A_query_without_words_is_a_clear_per_item_error_and_the_pipeline_goes_on"),
        ("an object that names no chunk, piped to Get-ChunkStatus", "InputObjectNotSupported", "PipelineEdgeTests.An_object_that_names_no_chunks_is_an_error_for_that_object_only"),
        ("unknown job ids for Get-BatchJob", "BatchJobNotFound", "GetBatchJobTests.Filters_by_Active_Status_and_Id_with_one_error_per_unknown_id"),
        ("an unknown job id for Stop-BatchJob", "BatchJobNotFound", "StopBatchJobTests.An_ended_job_is_an_error_for_that_job_and_WhatIf_changes_nothing"),
        ("a key with spaces or non-ASCII characters", "InvalidApiKeyFormat", "KeyringTests.A_key_that_can_never_be_sent_fails_at_once_with_no_request"),
        ("Set-SemanticKeyring without a key", "KeyringNoKeyGiven", "KeyringTests.Set_SemanticKeyring_without_a_key_is_refused"),
        ("a file as Sync-SemanticFolder's folder", "PathIsNotDirectory", "SyncSemanticFolderTests.A_path_that_is_not_a_folder_ends_the_command"),
    ];

    public static TheoryData<string> KindNames => [.. Kinds.Select(k => k.Name)];

    [Fact]
    public void The_catalogue_counts_at_least_30_kinds_each_once_and_every_test_it_points_at_exists()
    {
        var names = Kinds.Select(k => k.Name).Concat(CoveredElsewhere.Select(c => c.Kind)).ToList();
        Assert.True(names.Count >= 30, $"Only {names.Count} kinds of hostile input.");
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        foreach (var (kind, _, test) in CoveredElsewhere)
        {
            var (type, method) = (test[..test.IndexOf('.')], test[(test.IndexOf('.') + 1)..]);
            var found = typeof(HostileInputTests).Assembly.GetType($"{typeof(HostileInputTests).Namespace}.{type}")?.GetMethod(method, BindingFlags.Public | BindingFlags.Instance);
            Assert.True(found is not null, $"'{kind}' points at {test}, which does not exist.");
        }
    }

    [Theory]
    [MemberData(nameof(KindNames))]
    public async Task Each_kind_gets_its_documented_error_loses_nothing_and_the_good_item_gets_through(string name)
    {
        var kind = Kinds.Single(k => k.Name == name);
        if (kind.UnixOnly && OperatingSystem.IsWindows()) return;
        using var dir = new TestDirectory();
        dir.Write("kb/seed.md", Seed);
        dir.Write("kb/good.md", Good);
        var database = dir.Combine("index.db");
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/seed.md -Database index.db -Provider Local").AssertNoErrors();
        if (kind.Prepare is not null) ps.Run(kind.Prepare).AssertNoErrors();
        var stored = SeedRows(database);
        var variables = kind.Arrange?.Invoke(dir);

        // Never hangs: a run that does not end within minutes fails here instead of blocking the suite.
        var run = await Task.Run(() => ps.Run(kind.Script, variables)).WaitAsync(TimeSpan.FromMinutes(3));

        AssertClearErrors(run, kind);
        (kind.Then ?? GoodImported)(run, dir);
        Assert.Equal(stored, SeedRows(database));
        Invariants.AssertHold(database);
        var answer = ps.Run("Search-SemanticIndex 'rotating certificates' -Database index.db -Top 1").AssertNoErrors();
        Assert.EndsWith("seed.md", answer.Single().Text("DocumentPath"), StringComparison.Ordinal);
    }

    /// <summary>The errors are the kind's, in order, each a documented ErrorId on our own exception (or PowerShell's binder's), with a message.</summary>
    private static void AssertClearErrors(PsResult run, HostileKind kind)
    {
        var errors = run.Errors.Concat(run.Terminating is null ? [] : [run.Terminating]).ToList();
        Assert.True(kind.Errors.SequenceEqual(errors.Select(Id)),
            $"Expected [{string.Join(", ", kind.Errors)}], got:\n" + string.Join("\n", errors.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception.GetType().FullName}: {e}")));
        Assert.Equal(kind.Terminating, run.Terminating is not null);
        foreach (var error in errors)
        {
            var id = Id(error);
            var exception = error.Exception.GetType().FullName!;
            if (BindingErrorIds.Contains(id))
            {
                Assert.StartsWith("System.Management.Automation.ParameterBinding", exception, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(exception == "SemanticCore.SemanticCoreException", $"{id} comes from a raw {exception}: {error.Exception.Message}");
                Assert.True(DocumentedErrorIds.Contains(id), $"{id} is not in any ErrorId table of docs/en-US.");
            }

            Assert.False(string.IsNullOrWhiteSpace(error.Exception.Message));
            Assert.DoesNotContain("   at ", error.Exception.Message, StringComparison.Ordinal);
        }
    }

    private static string Id(System.Management.Automation.ErrorRecord error) => error.FullyQualifiedErrorId.Split(',')[0];

    /// <summary>The seed document's chunks (id and content hash): what must never be lost.</summary>
    private static List<string> SeedRows(string database) =>
        Db.Rows(database, "SELECT c.id, c.content_hash, d.content_hash FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source_path LIKE '%seed.md' ORDER BY c.id")
            .Select(r => string.Join("|", r)).ToList();

    private static void GoodImported(PsResult run, TestDirectory dir) =>
        Assert.Contains(run.Output, o => o.Text("Path") == dir.Combine("kb", "good.md") && o.Text("Status") is "Added" or "Updated");

    /// <summary>The good file imported, and the bad one too (a hostile encoding or content that is still a document).</summary>
    private static Action<PsResult, TestDirectory> BothImported(string file, Action<string>? check = null) => (run, dir) =>
    {
        GoodImported(run, dir);
        var result = Assert.Single(run.Output, o => o.Text("Path") == dir.Combine("kb", file));
        Assert.Equal("Added", result.Text("Status"));
        check?.Invoke(dir.Combine("index.db"));
    };

    private static Func<TestDirectory, Dictionary<string, object?>> Put(string name, byte[] bytes) => dir =>
    {
        dir.WriteBytes(Path.Combine("kb", name), bytes);
        return [];
    };

    private static Func<TestDirectory, Dictionary<string, object?>> Put(string name, string text) => Put(name, Encoding.UTF8.GetBytes(text));

    private static byte[] Bytes(params object[] parts) =>
        [.. parts.SelectMany(p => p switch { string s => Encoding.UTF8.GetBytes(s), byte[] b => b, _ => throw new ArgumentException(p.ToString()) })];

    private static string Import(string file, string mode = "Async") =>
        $"'kb/{file}', 'kb/good.md' | Import-SemanticDocument -Database index.db -Mode {mode}";

    private static string Scalar(string database, string sql) => Convert.ToString(Db.Scalar<object>(database, sql))!;

    /// <summary>Nothing beside the index and the documents: no file under a mangled name, no other index.</summary>
    private static void NothingCreated(TestDirectory dir)
    {
        Assert.Equal(["kb"], Directory.GetDirectories(dir.Path).Select(Path.GetFileName));
        Assert.All(Directory.GetFiles(dir.Path).Select(Path.GetFileName), f => Assert.StartsWith("index.db", f, StringComparison.Ordinal));
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", path)!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private static bool IsFifo(string path)
    {
        using var test = Process.Start("test", ["-p", path])!;
        test.WaitForExit();
        return test.ExitCode == 0;
    }

    // ---- What a document file can hold ----------------------------------------------------------------------------

    private static IEnumerable<HostileKind> Content() =>
    [
        new("a BOM-only file", Import("bom.md"), ["EmptyFile"], Put("bom.md", [0xEF, 0xBB, 0xBF])),
        new("an overlong UTF-8 encoding", Import("overlong.md"), ["InvalidUtf8"], Put("overlong.md", Bytes("# T\n\n", new byte[] { 0xC0, 0xAF }, "x"))),
        new("a lone surrogate encoded in UTF-8", Import("surrogate.md"), ["InvalidUtf8"], Put("surrogate.md", Bytes("# T\n\n", new byte[] { 0xED, 0xA0, 0x80 }, "x"))),
        new("UTF-16 without a BOM", Import("utf16.md"), ["BinaryFile"], Put("utf16.md", Encoding.Unicode.GetBytes("# Grüße\n\nText in UTF-16."))),
        new("UTF-16 with a BOM and a lone surrogate", Import("utf16bad.md"), ["InvalidUtf8"],
            Put("utf16bad.md", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("# T\n\nx"), 0x00, 0xD8, .. Encoding.Unicode.GetBytes("y")])),
        new("UTF-16 (big-endian) with a BOM", Import("utf16be.md"), [],
            Put("utf16be.md", [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes("# Grüße\n\nText in UTF-16.")]),
            BothImported("utf16be.md", db => Assert.Equal("Grüße", Scalar(db, "SELECT title FROM documents WHERE source_path LIKE '%utf16be.md'")))),
        new("UTF-32 with a BOM", Import("utf32.md"), [],
            Put("utf32.md", [.. new UTF32Encoding(false, true).GetPreamble(), .. new UTF32Encoding(false, true).GetBytes("# Ünïcode 🚀\n\nText in UTF-32.")]),
            // Read as UTF-16 it was text with a NUL after every character, and a title of stray characters past U+FFFF.
            BothImported("utf32.md", db => Assert.Equal("Ünïcode 🚀", Scalar(db, "SELECT title FROM documents WHERE source_path LIKE '%utf32.md'")))),
        new("only control characters", Import("control.md"), ["EmptyFile"],
            Put("control.md", [.. Enumerable.Range(1, 31).Where(b => b is not (9 or 10 or 13)).Select(b => (byte)b), 0x7F, 0x1B, 0x07, 0x0C, 0x0A])),
        new("terminal escape sequences in a title and text", Import("escapes.md"), [],
            Put("escapes.md", "# Title\u001b]0;owned\u0007\n\nText \u001b[2J\u001b[31mred\u001b[0m and a bell\u0007.\n"),
            BothImported("escapes.md", db => Assert.Equal("0", Scalar(db,
                "SELECT (SELECT COUNT(*) FROM chunks WHERE instr(content, char(27)) OR instr(content, char(7))) + (SELECT COUNT(*) FROM documents WHERE instr(title, char(27)) OR instr(title, char(7)))")))),
        new("a file over the 64 MiB cap (sparse)", Import("huge.md"), ["FileTooLarge"], dir =>
        {
            using (var file = System.IO.File.Create(dir.Combine("kb", "huge.md"))) file.SetLength(64L * 1024 * 1024 + 1);
            return [];
        }),
        new("a 4 MB line without a space", Import("line.md"), [], Put("line.md", "# Line\n\n" + new string('x', 4 * 1024 * 1024)),
            BothImported("line.md", db =>
            {
                Assert.True(long.Parse(Scalar(db, "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source_path LIKE '%line.md'")) > 100);
                Assert.True(long.Parse(Scalar(db, "SELECT MAX(length(content)) FROM chunks")) < 10_000, "a chunk over the size limit");
            })),
        new("100,000 headings", Import("headings.md"), [],
            Put("headings.md", string.Concat(Enumerable.Range(1, 100_000).Select(i => $"## H{i}\n")) + "\nThe only paragraph.\n"),
            BothImported("headings.md", db => Assert.Equal("1", Scalar(db, "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.source_path LIKE '%headings.md'")))),
        new("pathological tables (2,000 columns; 200,000 rows of bars)", Import("tables.md"), [],
            Put("tables.md", "# Tables\n\n|" + string.Concat(Enumerable.Range(0, 2000).Select(i => $" c{i} |")) + "\n|" + string.Concat(Enumerable.Repeat("---|", 2000)) + "\n|" +
                string.Concat(Enumerable.Range(0, 2000).Select(i => $" {i} |")) + "\n\n" + string.Concat(Enumerable.Repeat("|\n", 200_000))),
            BothImported("tables.md", db => Assert.True(long.Parse(Scalar(db, "SELECT MAX(length(content)) FROM chunks")) < 20_000, "a chunk over the size limit"))),
        // Markdown whose parsing costs the square (or cube) of its size: refused before the parser spends minutes on it.
        new("100,000 inline links that never close (\"[a](\" repeated, 400 KB)", Import("links.md"), ["MarkdownTooComplex"],
            Put("links.md", "# Links\n\n" + string.Concat(Enumerable.Repeat("[a](", 100_000)))),
        new("100,000 link reference definitions in one paragraph", Import("refs.md"), ["MarkdownTooComplex"],
            Put("refs.md", "# Refs\n\n" + string.Concat(Enumerable.Range(0, 100_000).Select(i => $"[r{i}]: http://example.com/{i}\n")))),
        new("2,000 nested list items (4 MB)", Import("nested.md"), ["MarkdownTooDeep"],
            Put("nested.md", string.Concat(Enumerable.Range(0, 2000).Select(i => new string(' ', 2 * i) + "- item\n")))),
        new("2,000 nested list markers with no text", Import("markers.md"), ["MarkdownTooDeep"],
            Put("markers.md", string.Concat(Enumerable.Range(0, 2000).Select(i => new string(' ', 2 * i) + "-\n")))),
        new("2,000 lines of ever deeper quotes", Import("quotes.md"), ["MarkdownTooDeep"],
            Put("quotes.md", string.Concat(Enumerable.Range(0, 2000).Select(i => new string('>', i) + " a\n")))),
        new("5,000 links and data-URI images that do close (not refused)", Import("manylinks.md"), [],
            Put("manylinks.md", "# Many links\n\n" + string.Concat(Enumerable.Range(0, 5000).Select(i =>
                $"See [link {i}](http://example.com/{i}) and ![image {i}](data:image/png;base64,{new string('A', 200)}).\n\n"))),
            BothImported("manylinks.md")),
        new("a YAML bomb in front matter (billion laughs, 200,000 keys)", Import("yaml.md"), [],
            Put("yaml.md", "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n" +
                "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" + string.Concat(Enumerable.Range(0, 200_000).Select(i => $"k{i}: v\n")) +
                "title: *d\n---\n\nText after the bomb.\n"),
            // Front matter is never parsed as YAML: only its title: line is read, as written.
            BothImported("yaml.md", db => Assert.Equal("*d|1", Scalar(db,
                "SELECT title || '|' || (SELECT COUNT(*) FROM chunks WHERE document_id = d.id) FROM documents d WHERE source_path LIKE '%yaml.md'")))),
        new("front matter that never closes", Import("open.md"), [], Put("open.md", "---\ntitle: \"unterminated\n" + string.Concat(Enumerable.Repeat("line\n", 1000))),
            BothImported("open.md")),
        new("HTML and script in Markdown", Import("html.md"), [],
            Put("html.md", "# Page\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n<iframe src='javascript:alert(3)'></iframe>\n\n<div>visible <b>text</b></div>\n\n<style>body{}</style>\n"),
            BothImported("html.md", db =>
            {
                Assert.Equal("0", Scalar(db, "SELECT COUNT(*) FROM chunks WHERE content LIKE '%alert(1)%'"));
                Assert.Equal("1", Scalar(db, "SELECT COUNT(*) FROM chunks WHERE content LIKE '%visible%'"));
            })),
        new("SQL injection in a title and text", Import("sql.md"), [],
            Put("sql.md", "# Robert'); DROP TABLE documents;--\n\n'; DELETE FROM chunks; -- \" OR 1=1 -- chunks_fts MATCH '*'\n"),
            BothImported("sql.md", db => Assert.Equal("Robert'); DROP TABLE documents;--", Scalar(db, "SELECT title FROM documents WHERE source_path LIKE '%sql.md'")))),
    ];

    // ---- Paths and what is piped as one -------------------------------------------------------------------------

    private static IEnumerable<HostileKind> Paths() =>
    [
        new("wildcard characters in a name, given with -LiteralPath", "Import-SemanticDocument -LiteralPath 'kb/[a]*?.md', 'kb/good.md' -Database index.db -Mode Async", [],
            Put("[a]*?.md", "# Stars\n\nA literal name."),
            (run, dir) =>
            {
                GoodImported(run, dir);
                Assert.Contains(run.Output, o => o.Text("Path") == dir.Combine("kb", "[a]*?.md"));
            }, UnixOnly: true),
        new("spaces, a newline, Unicode and a leading dash in names", "Import-SemanticDocument -LiteralPath $names -Database index.db -Mode Async", [],
            dir =>
            {
                string[] names = ["a b.md", "new\nline.md", "ünï 日本 🚀.md", "-dash.md", "back`tick.md"];
                foreach (var name in names) dir.Write(Path.Combine("kb", name), "# N\n\nText.");
                return new() { ["names"] = names.Select(n => $"kb/{n}").Append("kb/good.md").ToArray() };
            },
            (run, dir) =>
            {
                GoodImported(run, dir);
                Assert.Equal(6, run.Output.Count(o => o.Text("Status") == "Added"));
                Assert.Contains(run.Output, o => o.Text("Path") == dir.Combine("kb", "new\nline.md"));
            }, UnixOnly: true),
        new("a file name longer than 255 bytes", "$long, 'kb/good.md' | Import-SemanticDocument -Database index.db -Mode Async", ["PathNotFound"],
            _ => new() { ["long"] = "kb/" + new string('n', 300) + ".md" }),
        new("a path longer than PATH_MAX", "Import-SemanticDocument -LiteralPath $long, 'kb/good.md' -Database index.db -Mode Async", ["PathNotFound"],
            _ => new() { ["long"] = string.Join('/', Enumerable.Repeat(new string('d', 200), 25)) + "/x.md" }),
        new("a symbolic link loop", Import("loop.md"), ["FileUnreadable"], dir =>
        {
            System.IO.File.CreateSymbolicLink(dir.Combine("kb", "loop.md"), dir.Combine("kb", "loop2.md"));
            System.IO.File.CreateSymbolicLink(dir.Combine("kb", "loop2.md"), dir.Combine("kb", "loop.md"));
            return [];
        }, UnixOnly: true),
        new("a dangling symbolic link", Import("dangling.md"), ["FileUnreadable"], dir =>
        {
            System.IO.File.CreateSymbolicLink(dir.Combine("kb", "dangling.md"), dir.Combine("kb", "nowhere.md"));
            return [];
        }, UnixOnly: true),
        new("a symbolic link to a folder, named x.md", Import("linked.md"), ["PathIsDirectory"], dir =>
        {
            Directory.CreateDirectory(dir.Combine("sub"));
            Directory.CreateSymbolicLink(dir.Combine("kb", "linked.md"), dir.Combine("sub"));
            return [];
        }, UnixOnly: true),
        new("a NUL character in a path", "$bad, 'kb/good.md' | Import-SemanticDocument -Database index.db -Mode Async", ["PathNotFound"],
            _ => new() { ["bad"] = "kb/go\0od.md" }),
        new("5,000 missing files before the good one", "$missing + 'kb/good.md' | Import-SemanticDocument -Database index.db -Mode Async",
            [.. Enumerable.Repeat("PathNotFound", 5000)],
            _ => new() { ["missing"] = Enumerable.Range(0, 5000).Select(i => $"kb/missing{i}.md").ToArray() }),
        new("a named pipe and symbolic links (back up the tree, to /dev/zero, out of the folder) in a mirrored folder", "Sync-SemanticFolder kb -Database index.db", ["NotARegularFile"],
            dir =>
            {
                MakeFifo(dir.Combine("kb", "pipe.md"));
                Directory.CreateDirectory(dir.Combine("kb", "sub"));
                Directory.CreateSymbolicLink(dir.Combine("kb", "sub", "up"), dir.Combine("kb"));
                System.IO.File.CreateSymbolicLink(dir.Combine("kb", "zero.md"), "/dev/zero");
                System.IO.File.CreateSymbolicLink(dir.Combine("kb", "outside.md"), dir.Write("outside.md", "# Outside\n\nNot in the folder."));
                return [];
            },
            (run, dir) =>
            {
                GoodImported(run, dir);
                // Symbolic links are left out, to files as to folders: nothing is read through them, nothing loops.
                Assert.DoesNotContain(run.Output, o => o.Text("Path").EndsWith("zero.md", StringComparison.Ordinal) || o.Text("Path").EndsWith("outside.md", StringComparison.Ordinal));
                Assert.Equal(1L, run.Output.Single(o => o.TypeName().EndsWith("FolderSyncSummary", StringComparison.Ordinal)).Long("Failed"));
            }, UnixOnly: true),
        new("$null and empty strings piped", "$null, '', 'kb/good.md' | Import-SemanticDocument -Database index.db -Mode Async",
            ["ParameterArgumentValidationErrorNullNotAllowed", "ParameterArgumentValidationErrorEmptyStringNotAllowed"]),
        new("a number, a hashtable and a folder piped as files", "42, @{ Path = 'kb/good.md' }, (Get-Item kb), 'kb/good.md' | Import-SemanticDocument -Database index.db -Mode Async",
            ["PathNotFound", "PathNotFound", "PathIsDirectory"]),
    ];

    // ---- What -Database (and -Destination) can name ---------------------------------------------------------------

    private static IEnumerable<HostileKind> Databases() =>
    [
        new("a named pipe as -Database", "Import-SemanticDocument kb/good.md -Database pipe.db -Mode Async", ["NotADatabase"],
            dir =>
            {
                MakeFifo(dir.Combine("pipe.db"));
                return [];
            },
            (_, dir) => Assert.True(IsFifo(dir.Combine("pipe.db"))), Terminating: true, UnixOnly: true),
        new("an SQLite header over garbage as -Database", "Get-ChunkStatus -Database garbage.db", ["IndexCorrupt"],
            dir =>
            {
                var bytes = new byte[16384];
                new Random(3).NextBytes(bytes);
                "SQLite format 3\0"u8.CopyTo(bytes);
                dir.WriteBytes("garbage.db", bytes);
                return [];
            },
            (_, _) => { }, Terminating: true),
        new("a blank -Database (never the default index)", "Import-SemanticDocument kb/good.md -Database ' ' -WhatIf", ["InvalidPath"], null,
            (run, dir) =>
            {
                Assert.Empty(run.Output);
                NothingCreated(dir);
            }, Terminating: true),
        new("a NUL character in -Database", "Import-SemanticDocument kb/good.md -Database $bad -Provider Local", ["InvalidPath"],
            _ => new() { ["bad"] = "in\0dex.db" }, (_, dir) => NothingCreated(dir), Terminating: true),
        new("-Database on another provider (env:)", "Import-SemanticDocument kb/good.md -Database env:SEMANTICCORE_HOSTILE -Provider Local", ["NotAFileSystemPath"], null,
            (_, dir) =>
            {
                NothingCreated(dir);
                Assert.False(System.IO.File.Exists("SEMANTICCORE_HOSTILE"));
            }, Terminating: true),
        new("-Database on a drive that doesn't exist", "Get-ChunkStatus -Database 'nodrive:/index.db'", ["InvalidPath"], null, (_, dir) => NothingCreated(dir), Terminating: true),
        new("bad paths piped to Update-SemanticSchema among good ones", "$bad, ' ', 'index.db' | Update-SemanticSchema", ["InvalidPath", "InvalidPath"],
            _ => new() { ["bad"] = "a\0b.db" },
            (run, dir) => Assert.Equal(dir.Combine("index.db"), run.Single().Text("Database"))),
        new("a NUL character in Backup-SemanticIndex -Destination", "Backup-SemanticIndex -Destination $bad -Database index.db", ["InvalidPath"],
            _ => new() { ["bad"] = "copy\0.db" }, (_, dir) => NothingCreated(dir), Terminating: true),
        new("a named pipe as Backup-SemanticIndex -Destination, with -Force",
            "Backup-SemanticIndex pipe.db -Database index.db -Force; Backup-SemanticIndex copy.db -Database index.db", ["BackupDestinationExists"],
            dir =>
            {
                MakeFifo(dir.Combine("pipe.db"));
                return [];
            },
            (run, dir) =>
            {
                // Replaced, the pipe would be a file now (and /dev/null, for root, a file for every process).
                Assert.True(IsFifo(dir.Combine("pipe.db")));
                Assert.Equal(dir.Combine("copy.db"), run.Single().Text("Path"));
            }, UnixOnly: true),
        new("a Backup-SemanticIndex -Destination below a file",
            "Backup-SemanticIndex afile/nodir/copy.db -Database index.db; Backup-SemanticIndex copy.db -Database index.db", ["BackupFailed"],
            dir =>
            {
                dir.Write("afile", "a file, not a folder");
                return [];
            },
            (run, dir) =>
            {
                Assert.Equal("a file, not a folder", System.IO.File.ReadAllText(dir.Combine("afile")));
                Assert.Equal(dir.Combine("copy.db"), run.Single().Text("Path"));
            }),
        new("an index whose recorded dimensions were edited to -5", "Search-SemanticIndex rotating -Database tampered.db -Mode Semantic", ["IndexCorrupt"],
            dir =>
            {
                Db.Execute(dir.Combine("index.db"), "PRAGMA wal_checkpoint(TRUNCATE)");
                System.IO.File.Copy(dir.Combine("index.db"), dir.Combine("tampered.db"));
                Db.Execute(dir.Combine("tampered.db"), "UPDATE settings SET value = '-5' WHERE key = 'dimensions'");
                return [];
            },
            (_, _) => { }, Terminating: true),
        new("-Database in a folder that doesn't exist", "Get-ChunkStatus -Database nodir/sub/index.db", ["DatabaseNotFound"], null,
            (_, dir) => Assert.False(Directory.Exists(dir.Combine("nodir"))), Terminating: true),
    ];

    // ---- What a search can be asked ------------------------------------------------------------------------------

    private static IEnumerable<HostileKind> Queries() =>
    [
        new("a 100 KB query", "Search-SemanticIndex -Query $q -Database index.db", [],
            _ => new() { ["q"] = "rotating certificates " + string.Join(' ', Enumerable.Range(0, 12_000).Select(i => $"w{i}")) },
            (run, _) => Assert.Contains(run.Output, o => o.Text("DocumentPath").EndsWith("seed.md", StringComparison.Ordinal))),
        new("a NUL character in a query", "Search-SemanticIndex -Query $q -Database index.db -Mode Keyword", [],
            _ => new() { ["q"] = "rotating\0certificates" },
            (run, _) => Assert.Contains(run.Output, o => o.Text("DocumentPath").EndsWith("seed.md", StringComparison.Ordinal))),
        new("$null, a number and a hashtable piped as queries", "$null, 42, @{ Query = 'x' }, 'rotating certificates' | Search-SemanticIndex -Database index.db -Top 1",
            ["ParameterArgumentValidationErrorNullNotAllowed"], null,
            (run, _) => Assert.Contains(run.Output, o => o.Text("DocumentPath").EndsWith("seed.md", StringComparison.Ordinal))),
        new("SQL injection and FTS syntax in -DocumentPath and -Language",
            """
            $filtered = @(Search-SemanticIndex rotating -DocumentPath "'; DROP TABLE documents; --", '" OR 1=1 NEAR(' -Database index.db)
            $languages = @(Search-SemanticIndex rotating -Language "') OR 1=1 --", 'x" content:' -Database index.db)
            $plain = @(Search-SemanticIndex rotating -Database index.db)
            [pscustomobject]@{ Filtered = $filtered.Count + $languages.Count; Plain = $plain.Count }
            """, [], null,
            (run, _) =>
            {
                Assert.Equal(0L, run.Single().Long("Filtered"));
                Assert.True(run.Single().Long("Plain") > 0);
            }),
    ];

    // ---- Chunks, jobs and documents named by id or piped ------------------------------------------------------------

    private static IEnumerable<HostileKind> ChunksAndJobs() =>
    [
        new("chunk ids that don't exist for Reset-ChunkStatus",
            "Reset-ChunkStatus -Id 999999, -1, 9223372036854775807, $id -Database index.db -Force -PassThru",
            ["ChunkNotFound", "ChunkNotFound", "ChunkNotFound"],
            dir => new() { ["id"] = Db.Scalar<long>(dir.Combine("index.db"), "SELECT MIN(id) FROM chunks") },
            (run, _) => Assert.Equal("Pending", run.Single().Text("Status"))),
        new("a number, a string and a hashtable piped to Reset-ChunkStatus",
            "@{ Id = $id }, 42, 'x', (Get-ChunkStatus -Database index.db -Id $id) | Reset-ChunkStatus -Database index.db -Force -PassThru",
            ["InputObjectNotSupported", "InputObjectNotSupported", "InputObjectNotSupported"],
            dir => new() { ["id"] = Db.Scalar<long>(dir.Combine("index.db"), "SELECT MIN(id) FROM chunks") },
            (run, _) => Assert.Equal("Pending", run.Single().Text("Status"))),
        new("a number and a hashtable piped to Get-BatchJob",
            "@{ Id = 'x' }, 42, (Get-ChunkStatus -DocumentPath kb/seed.md -Database index.db -First 1), (Get-BatchJob -Database index.db) | Get-BatchJob -Database index.db",
            ["InputObjectNotSupported", "InputObjectNotSupported"], null,
            // The seed's chunk is in no job: it names none, and that is no error.
            (run, _) => Assert.Equal("Submitted", run.Single().Text("Status")),
            Prepare: "Import-SemanticDocument kb/good.md -Database index.db -Mode Async; $null = Invoke-BatchFlush -Database index.db -Force"),
        new("a number and a hashtable piped to Stop-BatchJob",
            "$job = Get-BatchJob -Database index.db -Active; @{ Id = $job.Id }, 42, $job | Stop-BatchJob -Database index.db -Confirm:$false",
            ["InputObjectNotSupported", "InputObjectNotSupported"], null,
            (run, _) => Assert.Equal("Cancelled", run.Single().Text("Status")),
            Prepare: "Import-SemanticDocument kb/good.md -Database index.db -Mode Async; $null = Invoke-BatchFlush -Database index.db -Force"),
        new("a number and a hashtable piped to Sync-BatchJob",
            "$job = Get-BatchJob -Database index.db -Active; @{ Id = $job.Id }, 42, $job | Sync-BatchJob -Database index.db",
            ["InputObjectNotSupported", "InputObjectNotSupported"], null,
            (run, _) => Assert.Equal("Completed", run.Single().Text("Status")),
            Prepare: "Import-SemanticDocument kb/good.md -Database index.db -Mode Async; $null = Invoke-BatchFlush -Database index.db -Force"),
        new("job ids that don't exist (and SQL) for Sync-BatchJob",
            "\"' OR '1'='1\", 'no-such-job', (Get-BatchJob -Database index.db -Active).Id | Sync-BatchJob -Database index.db",
            ["BatchJobNotFound", "BatchJobNotFound"], null,
            (run, _) => Assert.Equal("Completed", run.Single().Text("Status")),
            Prepare: "Import-SemanticDocument kb/good.md -Database index.db -Mode Async; $null = Invoke-BatchFlush -Database index.db -Force"),
        new("a number, a path string and a hashtable piped to Remove-SemanticDocument",
            "@{ Id = 1 }, 42, 'kb/seed.md', (Get-SemanticDocument kb/good.md -Database index.db) | Remove-SemanticDocument -Database index.db -Confirm:$false",
            ["InputObjectNotSupported", "InputObjectNotSupported", "InputObjectNotSupported"], null,
            (_, dir) => Assert.Equal("0", Scalar(dir.Combine("index.db"), "SELECT COUNT(*) FROM documents WHERE source_path LIKE '%good.md'")),
            Prepare: "Import-SemanticDocument kb/good.md -Database index.db"),
    ];

    // ---- Parameter values --------------------------------------------------------------------------------------

    private static IEnumerable<HostileKind> Parameters() =>
    [
        new("zero, negative, huge and NaN numbers",
            """
            foreach ($command in
                { Search-SemanticIndex seed -Top 0 -Database index.db },
                { Search-SemanticIndex seed -Top -1 -Database index.db },
                { Search-SemanticIndex seed -Top ([int]::MaxValue) -Database index.db },
                { Search-SemanticIndex seed -MinScore ([double]::NaN) -Database index.db },
                { Search-SemanticIndex seed -MinScore ([double]::NegativeInfinity) -Database index.db },
                { Get-ChunkStatus -First 0 -Database index.db },
                { Invoke-BatchFlush -MinSize 0 -Database index.db },
                { Invoke-BatchFlush -MaxBatchSize 2000000 -Database index.db },
                { Sync-BatchJob -PollInterval 0 -Database index.db },
                { Sync-BatchJob -Timeout -1 -Database index.db },
                { Test-SemanticIndex -PendingHours ([double]::NaN) -Database index.db },
                { Import-SemanticDocument kb/good.md -Dimensions 0 -Provider Local -Database new.db }) {
                try { & $command } catch { Write-Error -ErrorRecord $_ }
            }
            Import-SemanticDocument kb/good.md -Database index.db
            """,
            [.. Enumerable.Repeat("ParameterArgumentValidationError", 12)], null,
            (run, dir) =>
            {
                GoodImported(run, dir);
                Assert.False(System.IO.File.Exists(dir.Combine("new.db")));
            }),
        new("a blank -Model for a new index", "Import-SemanticDocument kb/good.md -Database new.db -Provider Gemini -Model ' ' -Mode Async", ["InvalidModel"], null,
            // Recorded, it would have been the index's model for good, and every flush would fail.
            (_, dir) => Assert.False(System.IO.File.Exists(dir.Combine("new.db"))), Terminating: true),
    ];
}
