using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Security.Cryptography;
using FakeGemini;
using SemanticCore.PowerShell.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SemanticCore.PowerShell.Tests;

/// <summary>
/// The secrets suite (DESIGN "Non-negotiables: Keys"): every cmdlet of the module, run with -Verbose -Debug and every
/// preference at Continue, in calls that succeed and calls that fail (a key the API refuses, 403, 429, 500, a dropped
/// connection, a stalled download, a wrong database, bad arguments, a malformed key), with the keys given each way the
/// module takes them (-ApiKey/-BatchApiKey, Set-SemanticKeyring, $env:GEMINI_API_KEY, $env:GEMINI_BATCH_API_KEY,
/// $env:GOOGLE_API_KEY). No key, in any form <see cref="SecretScanner"/> knows, may appear in any stream record (walked
/// recursively: exception chains, targets, invocation info), any output object (walked, formatted and as JSON), the
/// index, its WAL (read while a session holds the index open) and shared memory, any file in the temporary or test
/// folder (read while requests are in flight, when the batch input spool exists), or a request's URL, body or other
/// headers. A separate host process with a transcript is checked the same way. The first test proves that the scans
/// catch a key planted in each of those places.
/// </summary>
[Collection(ModuleCollection.Name)]
public sealed class SecretsSuiteTests(ModuleFixture module, ITestOutputHelper log) : IDisposable
{
    private static readonly string[] KeyVariables = ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BATCH_API_KEY"];

    private readonly TestDirectory dir = new();

    private static string NewKey(string kind, string extra = "") => $"sk-SECRET-{Guid.NewGuid():N}-{kind}{extra}";

    // ------------------------------------------------------------------------------------------------ the sweep

    public enum Source
    {
        Parameter,
        Keyring,
        Environment,
        GoogleEnvironment,
    }

    [Fact]
    public async Task No_key_leaks_from_any_cmdlet_with_any_key_source_in_success_or_failure()
    {
        var tmp = Directory.CreateDirectory(dir.Combine("tmp")).FullName;
        using var env = BatchTestKit.Environment([.. KeyVariables.Select(v => (v, (string?)null)), ("TMPDIR", tmp), ("SEMANTICCORE_GEMINI_TIMEOUT", null)]);
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        var scanner = new SecretScanner();
        var sweep = new Sweep(module, dir, tmp, gemini.Server, scanner);
        gemini.Server.OnRequest = sweep.InFlight;

        try
        {
            foreach (var (source, round) in Enum.GetValues<Source>().Select((s, i) => (s, i))) sweep.Round(round, source);
        }
        finally
        {
            foreach (var line in NoisySession.Timings) log.WriteLine(line);
            log.WriteLine($"{NoisySession.RunCount} runs ({NoisySession.FailingRunCount} with errors), {NoisySession.CommandCount} invocations of the module's commands; " +
                $"{gemini.Server.Requests.Count} requests; bytes scanned {scanner.BytesScanned} in {scanner.ByteScanTime.TotalMilliseconds:0} ms; texts {scanner.TextsScanned}");
        }
        gemini.Server.OnRequest = null;

        var requests = ScanRequests(gemini.Server, scanner, sweep.Sendable);

        // Each kind of key really reached the fake, each kind of failure really happened.
        foreach (var key in sweep.MustBeSent) Assert.Contains(requests, r => r.Header("x-goog-api-key") == key);
        foreach (var errorId in new[]
                 {
                     "GeminiInvalidApiKey", "GeminiPermissionDenied", "GeminiDailyQuotaExhausted", "GeminiRateLimited", "GeminiUnavailable",
                     "BatchSubmitUncertain", "InvalidApiKeyFormat", "DatabaseIsDirectory", "NotADatabase", "NotASemanticIndex", "DatabaseNotFound",
                     "KeyringNoKeyGiven", "KeyringEmptyKey", "BatchJobNotFound", "ParameterArgumentValidationError", "ParameterArgumentTransformationError",
                 })
        {
            Assert.True(sweep.ErrorIds.ContainsKey(errorId), $"no call failed with {errorId}; seen: {string.Join(", ", sweep.ErrorIds.Keys.Order())}");
        }

        // The scans saw what they claim to: the spool in the temporary folder while it existed, a live WAL, every stream.
        Assert.True(sweep.SpoolsSeen >= 4, $"the batch input spool was seen in flight {sweep.SpoolsSeen} time(s)");
        Assert.True(sweep.LiveWalBytes > 0, "no WAL was read while a session held an index open");
        Assert.True(sweep.Streams.All(s => s.Value > 0), "streams captured: " + string.Join(", ", sweep.Streams.Select(s => $"{s.Key} {s.Value}")));
        Assert.Empty(sweep.HookFailures);
        Assert.True(scanner.Findings.Count == 0, $"{scanner.Findings.Count} leak(s):\n" + string.Join("\n", scanner.Findings.Distinct().Take(200)));
    }

    // ------------------------------------------------------------------------------------------------ a separate host

    [Fact]
    public async Task A_separate_host_with_a_transcript_shows_no_key_on_screen_in_its_transcript_or_its_files()
    {
        var tmp = Directory.CreateDirectory(dir.Combine("host-tmp")).FullName;
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        var keys = (Default: NewKey("host-default"), Batch: NewKey("host-batch"), Refused: NewKey("host-refused"), Malformed: NewKey("host-malformed", " x"));
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        gemini.Server.ValidKeys = new HashSet<string> { keys.Default, keys.Batch };
        var scanner = new SecretScanner().Add("default key", keys.Default).Add("batch key", keys.Batch).Add("refused key", keys.Refused).Add("malformed key", keys.Malformed);
        var canaries = new SecretScanner().Add("canary", canary);
        var sweep = new Sweep(module, dir, tmp, gemini.Server, scanner);
        gemini.Server.OnRequest = sweep.InFlight;
        BatchTestKit.WriteCorpus(dir, "kb", documents: 2, sections: 3, tag: "hk");
        BatchTestKit.WriteCorpus(dir, "queue", documents: 2, sections: 4, tag: "hq");
        BatchTestKit.WriteCorpus(dir, "more", documents: 1, sections: 2, tag: "hm");
        // No key in the script: they come from the environment, as in a scheduled task.
        dir.Write("run.ps1", """
            $VerbosePreference = $DebugPreference = $InformationPreference = 'Continue'
            $PSDefaultParameterValues['*:WarningAction'] = 'Continue'
            Start-Transcript -Path (Join-Path $PWD 'transcript.txt') -IncludeInvocationHeader
            Import-Module SemanticCore.PS
            Import-SemanticDocument -Path kb/*.md -Database index.db -Mode Sync -Verbose -Debug | Format-Table
            Search-SemanticIndex 'restart the queue worker' -Database index.db -Verbose -Debug | Format-Table
            Import-SemanticDocument -Path queue/*.md -Database index.db -Verbose -Debug | Format-Table
            Invoke-BatchFlush -Database index.db -Force -Verbose -Debug | Format-List *
            Sync-BatchJob -Database index.db -Verbose -Debug | Format-List *
            Get-SemanticKeyring -Verbose -Debug | Format-List *
            Test-SemanticIndex -Database index.db -Verbose -Debug | Format-List *
            Set-SemanticKeyring -ApiKey (ConvertTo-SecureString $env:SECRETS_REFUSED -AsPlainText -Force) -Verbose -Debug
            Search-SemanticIndex 'worker' -Mode Semantic -Database index.db -Verbose -Debug
            Import-SemanticDocument -Path more/*.md -Database index.db -Mode Sync -Verbose -Debug
            Set-SemanticKeyring -Clear -Verbose -Debug
            $env:GEMINI_BATCH_API_KEY = $env:SECRETS_MALFORMED
            Invoke-BatchFlush -Database index.db -Force -Verbose -Debug
            Get-SemanticKeyring -Verbose -Debug | Format-List *
            Set-SemanticKeyring -ApiKey $env:SECRETS_REFUSED -Verbose -Debug
            Get-ChunkStatus -Database missing.db -Verbose -Debug
            $Error | Get-Error
            "canary on the screen: $env:SECRETS_CANARY"
            [Console]::Error.WriteLine("canary on stderr: $env:SECRETS_CANARY")
            Set-Content -LiteralPath (Join-Path ([IO.Path]::GetTempPath()) 'canary.txt') -Value $env:SECRETS_CANARY
            Stop-Transcript
            """);

        (int ExitCode, string Stdout, string Stderr) host;
        using (BatchTestKit.Environment(("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", keys.Default), ("GEMINI_BATCH_API_KEY", keys.Batch),
                   ("SECRETS_REFUSED", keys.Refused), ("SECRETS_MALFORMED", keys.Malformed), ("SECRETS_CANARY", canary), ("TMPDIR", tmp)))
        {
            host = HostProcess.Run(dir.Path, "-File", "run.ps1");
        }

        gemini.Server.OnRequest = null;
        var transcript = File.ReadAllText(dir.Combine("transcript.txt"));
        var everything = host.Stdout + host.Stderr + transcript;
        // The run did what it says: the keys were used and refused, and the failures were printed in full.
        foreach (var expected in new[] { "GeminiInvalidApiKey", "InvalidApiKeyFormat", "DatabaseNotFound", "sha256:", "Completed" })
        {
            Assert.True(everything.Contains(expected, StringComparison.Ordinal), $"the host's output lacks {expected}:\n{host.Stdout}\n{host.Stderr}");
        }

        foreach (var key in new[] { keys.Default, keys.Batch, keys.Refused }) Assert.Contains(gemini.Server.Requests, r => r.Header("x-goog-api-key") == key);
        Assert.True(sweep.SpoolsSeen > 0, "the host's batch input spool was not seen in its temporary folder");

        // The screen, the transcript and the files are read: a canary printed, written to stderr and to a temporary file is found in each.
        canaries.ScanText(host.Stdout, "stdout");
        canaries.ScanText(host.Stderr, "stderr");
        canaries.ScanText(transcript, "transcript");
        canaries.ScanFolder(tmp, "temporary folder");
        foreach (var where in new[] { "stdout", "stderr", "transcript", "temporary folder: file canary.txt" })
        {
            Assert.Contains(canaries.Findings, f => f.EndsWith(" in " + where, StringComparison.Ordinal));
        }

        scanner.ScanText(host.Stdout, "stdout");
        scanner.ScanText(host.Stderr, "stderr");
        scanner.ScanText(transcript, "transcript");
        sweep.ScanFiles("after the host");
        ScanRequests(gemini.Server, scanner, new HashSet<string> { keys.Default, keys.Batch, keys.Refused });
        Assert.Empty(sweep.HookFailures);
        Assert.True(scanner.Findings.Count == 0, $"{scanner.Findings.Count} leak(s):\n" + string.Join("\n", scanner.Findings));
    }

    // ------------------------------------------------------------------------------------------------ redirects

    [Fact]
    public async Task A_redirect_to_another_origin_is_not_followed_and_one_within_the_endpoint_is()
    {
        await using var gemini = await GeminiFake.StartAsync();
        gemini.Server.PollsUntilDone = 0;
        await using var elsewhere = await FakeGeminiServer.StartAsync(); // another origin: the same fake on another port
        elsewhere.ValidKeys = gemini.Server.ValidKeys;
        BatchTestKit.WriteCorpus(dir, "kb", documents: 4, sections: 2, tag: "rd");
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        void Redirect(string path, int status, Uri origin) => gemini.Server.AnswerNextRequests(path, 1, status, _ => "",
            headers: request => new Dictionary<string, string> { ["Location"] = new Uri(origin, request.Path + request.QueryString).ToString() });
        int Embeds() => gemini.Server.Requests.Count(r => BatchTestKit.IsInteractiveEmbed(r) && r.Header("x-goog-api-key") == GeminiFake.DefaultKey);

        // To the endpoint itself: followed, with the key (a 307 repeats the POST), and the import succeeds.
        Redirect(":batchEmbedContents", 307, gemini.Server.Endpoint);
        Assert.Equal(0L, ps.Run("Import-SemanticDocument -Path kb/rd-000.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors().Single().Long("Pending"));
        Assert.Equal(2, Embeds());

        // Elsewhere: a POST (307), a job's status (302), its output (303): not followed, each a clear error, nothing changed.
        Redirect(":batchEmbedContents", 307, elsewhere.Endpoint);
        var import = ps.Run("Import-SemanticDocument -Path kb/rd-001.md -Database index.db -Mode Sync -ApiKey $ApiKey", keys);
        Assert.Empty(elsewhere.Requests);
        Assert.Contains("not followed", BatchTestKit.AssertErrors(import, "GeminiInvalidResponse", ErrorCategory.InvalidData, 1)[0].Exception.Message, StringComparison.Ordinal);
        ps.Run("Import-SemanticDocument -Path kb/rd-002.md, kb/rd-003.md -Database index.db -Mode Async", keys).AssertNoErrors();
        var job = ps.Run("Invoke-BatchFlush -Database index.db -Force -BatchApiKey $BatchKey", keys).AssertNoErrors().Single();
        foreach (var (path, status) in new[] { ("/v1beta/batches/", 302), (":download", 303) })
        {
            Redirect(path, status, elsewhere.Endpoint);
            BatchTestKit.AssertErrors(ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys), "GeminiInvalidResponse", ErrorCategory.InvalidData, 1);
            Assert.Equal("Submitted", ps.Run($"Get-BatchJob -Id {job.Text("Id")} -Database index.db").Single().Text("Status"));
        }

        Assert.Equal("Completed", ps.Run("Sync-BatchJob -Database index.db -BatchApiKey $BatchKey", keys).AssertNoErrors().Single().Text("Status"));
        Assert.Empty(elsewhere.Requests);
    }

    // ------------------------------------------------------------------------------------------------ the scans catch a key

    [Fact]
    public async Task The_scans_catch_a_key_planted_in_each_place_they_look()
    {
        var tmp = Directory.CreateDirectory(dir.Combine("tmp")).FullName;
        using var env = BatchTestKit.Environment([.. KeyVariables.Select(v => (v, (string?)null)), ("TMPDIR", tmp)]);
        await using var gemini = await GeminiFake.StartAsync();
        var planted = NewKey("planted");
        var inWal = NewKey("planted-wal");
        // Every 16 characters hold a '/', escaped as %2F: only the URL-encoded form can match its encoded text.
        var urlOnly = "sk/SECRET/url/" + string.Join("/", Guid.NewGuid().ToString("N").Chunk(8).Select(c => new string(c)));
        var scanner = new SecretScanner().Add("planted", planted).Add("planted in the WAL", inWal).Add("planted, URL-only", urlOnly);
        var sweep = new Sweep(module, dir, tmp, gemini.Server, scanner);
        gemini.Server.OnRequest = sweep.InFlight;
        using var ps = new NoisySession(module, dir.Path, sweep);
        var vars = new Dictionary<string, object?> { ["Planted"] = planted, ["UrlOnly"] = urlOnly, ["BatchKey"] = GeminiFake.Secure(GeminiFake.BatchKey) };
        void Run(string label, string script) => ps.Run(label, script, vars);

        Run("verbose", "Write-Verbose $Planted");
        Run("debug", "Write-Debug ([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('Bearer ' + $Planted)))");
        Run("information", "Write-Information ('https://example.test/?q=' + [uri]::EscapeDataString($UrlOnly))");
        Run("warning", "Write-Warning ([Convert]::ToHexString([Text.Encoding]::UTF8.GetBytes($Planted)))");
        Run("progress", "Write-Progress -Activity 'a' -Status 's' -CurrentOperation $Planted");
        Run("truncated", "Write-Verbose ('key: ' + $Planted.Substring(0, 20) + '...')");
        Run("inner exception", "Write-Error -Exception ([InvalidOperationException]::new('outer', [Exception]::new('inner ' + $Planted)))");
        Run("target", "Write-Error 'failed' -TargetObject ([pscustomobject]@{ A = @{ B = @(1, $Planted) } })");
        Run("recommended action", "$e = [Management.Automation.ErrorRecord]::new([Exception]::new('x'), 'Id', 'NotSpecified', $null); " +
            "$e.ErrorDetails = [Management.Automation.ErrorDetails]::new('x'); $e.ErrorDetails.RecommendedAction = $Planted; Write-Error -ErrorRecord $e");
        Run("script text", $"Write-Error 'failed' # {planted}");
        Run("exception data", "$e = [Exception]::new('x'); $e.Data['k'] = $Planted; throw $e");
        Run("output", "[pscustomobject]@{ Level1 = [pscustomobject]@{ Level2 = @{ Level3 = @('x', $Planted) } } }");
        Run("script property", "$o = [pscustomobject]@{ Name = 'x' }; $o | Add-Member -MemberType ScriptProperty -Name Computed -Value { $Planted }; $o");
        Run("temporary file", "Set-Content -LiteralPath (Join-Path $env:TMPDIR 'planted.txt') -Value $Planted");
        Run("temporary file, UTF-16", "[IO.File]::WriteAllText((Join-Path $env:TMPDIR 'planted16.txt'), $Planted, [Text.Encoding]::Unicode)");

        // A document with a key in it: in the index, in its WAL while a session holds it open, in the flush's spool and upload.
        dir.Write("planted/first.md", $"# First\n\n## One\n\nThe key {planted} was pasted here.\n");
        dir.Write("planted/second.md", $"# Second\n\n## One\n\nAnd {inWal} here.\n");
        Run("import", "Import-SemanticDocument -Path planted/first.md -Database planted.db -Mode Async -Verbose -Debug");
        using (new IndexHolder(module, dir.Path, "planted.db", sweep))
        {
            Run("import held", "Import-SemanticDocument -Path planted/second.md -Database planted.db -Mode Async -Verbose -Debug");
            Run("flush", "Invoke-BatchFlush -Database planted.db -Force -BatchApiKey $BatchKey -Verbose -Debug");
        }

        ps.FormatAndScan();

        // A request with a key in its URL and in another header.
        using (var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gemini.Server.Endpoint, "/v1beta/files?key=" + Uri.EscapeDataString(urlOnly))))
        {
            request.Headers.Add("x-goog-api-key", GeminiFake.BatchKey);
            request.Headers.Add("x-debug", planted);
            using var http = new HttpClient();
            (await http.SendAsync(request)).Dispose();
        }

        gemini.Server.OnRequest = null;
        ScanRequests(gemini.Server, scanner, new HashSet<string> { GeminiFake.BatchKey });

        var findings = scanner.Findings;
        foreach (var (label, form, where) in new[]
                 {
                     ("planted", "as is", "verbose: verbose stream"),
                     ("planted", "base64", "debug: debug stream"),
                     ("planted, URL-only", "URL-encoded", "information: information stream"),
                     ("planted", "hex", "warning: warning stream"),
                     ("planted", "as is", "progress: progress stream"),
                     ("planted", "characters 0..15", "truncated: verbose stream"),
                     ("planted", "as is", "inner exception: error stream"),
                     ("planted", "as is", "target: error stream"),
                     ("planted", "as is", "recommended action: error stream"),
                     ("planted", "as is", "script text: error stream"),
                     ("planted", "as is", "exception data: error stream"),
                     ("planted", "as is", "output: output stream"),
                     ("planted", "as is", "script property: formatted, JSON"),
                     ("planted", "as is", "script property: formatted, Format-List *"),
                     ("planted", "as is, utf-8", "after temporary file: tmp/planted.txt"),
                     ("planted", "as is, utf-16", "after temporary file, UTF-16: tmp/planted16.txt"),
                     ("planted", "as is, utf-8", "after import: planted.db"),
                     ("planted in the WAL", "as is, utf-8", "after import held: planted.db-wal"),
                     ("planted in the WAL", "as is, utf-8", "after holding planted.db open: planted.db"),
                     ("planted in the WAL", "as is, utf-8", "in flight (POST /upload/v1beta/files): tmp/semanticcore-"),
                     ("planted in the WAL", "as is, utf-8", "uploaded file"),
                     ("planted, URL-only", "URL-encoded", "request GET /v1beta/files URL"),
                     ("planted", "as is", "request GET /v1beta/files header x-debug"),
                 })
        {
            Assert.True(findings.Any(f => f.StartsWith($"{label} ({form}", StringComparison.Ordinal) && f.Contains($" in {where}", StringComparison.Ordinal)),
                $"the scan missed {label} ({form}) in {where}; it found:\n{string.Join("\n", findings.Distinct())}");
        }

        Assert.Empty(sweep.HookFailures);
    }

    /// <summary>
    /// Every request the fake received: the key in x-goog-api-key only, and only a key given to the module (well-formed);
    /// never in the URL, the body or another header; nor in an uploaded file.
    /// </summary>
    private static IReadOnlyList<RecordedRequest> ScanRequests(FakeGeminiServer fake, SecretScanner scanner, IReadOnlySet<string> sendable)
    {
        var requests = fake.Requests;
        Assert.NotEmpty(requests);
        foreach (var request in requests)
        {
            var where = $"request {request.Method} {request.Path}";
            var key = request.Header("x-goog-api-key");
            Assert.True(key is not null && sendable.Contains(key), $"{where} carried no key, or one that is not a well-formed key given to the module");
            scanner.ScanText(request.Path + request.QueryString, where + " URL");
            scanner.ScanText(request.Body, where + " body");
            foreach (var (name, value) in request.Headers)
            {
                if (!name.Equals("x-goog-api-key", StringComparison.OrdinalIgnoreCase)) scanner.ScanText($"{name}: {value}", $"{where} header {name}");
            }
        }

        foreach (var (name, content) in fake.UploadedFiles) scanner.ScanBytes(content, "uploaded file " + name);
        return requests;
    }

    /// <summary>One session per round (a key source), its index held open throughout by a second session.</summary>
    private sealed class Sweep(ModuleFixture module, TestDirectory dir, string tmp, FakeGeminiServer fake, SecretScanner scanner)
    {
        private readonly Dictionary<string, (int Length, byte[] Hash)> scannedFiles = new(StringComparer.Ordinal);
        private readonly object filesGate = new();

        /// <summary>Keys that may appear in the x-goog-api-key header: the well-formed ones given to the module.</summary>
        public HashSet<string> Sendable { get; } = new(StringComparer.Ordinal);

        public List<string> MustBeSent { get; } = [];

        public Dictionary<string, int> ErrorIds { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Streams { get; } = new() { ["verbose"] = 0, ["warning"] = 0, ["progress"] = 0, ["error"] = 0, ["output"] = 0 };

        public int SpoolsSeen;

        public long LiveWalBytes;

        public ConcurrentQueue<string> HookFailures { get; } = new();

        public void Round(int round, Source source)
        {
            var valid = (Default: NewKey("default"), Batch: NewKey("batch"));
            var refused = (Default: NewKey("refused", round == 3 ? "\"'<>%\\&;" : ""), Batch: NewKey("refusedbatch", "+/="));
            (string Default, string Batch) malformed = round switch
            {
                0 => (NewKey("malformed", " spaced"), NewKey("malformedbatch", " spaced")),
                1 => (NewKey("malformed", "é"), NewKey("malformedbatch", "ü")),
                2 => (NewKey("malformed", "\tx"), NewKey("malformedbatch", "\u0001")),
                _ => (NewKey("malformed", "\r\nx"), NewKey("malformedbatch", "\u00a0x")),
            };
            var plain = NewKey("plain");
            var other = NewKey("alternate");
            foreach (var (label, key) in new[]
                     {
                         ("valid default key", valid.Default), ("valid batch key", valid.Batch), ("refused default key", refused.Default),
                         ("refused batch key", refused.Batch), ("malformed default key", malformed.Default), ("malformed batch key", malformed.Batch),
                         ("plain-text key", plain), ("alternate key", other),
                     })
            {
                scanner.Add($"round {round} ({source}) {label}", key);
            }

            Sendable.UnionWith([valid.Default, valid.Batch, refused.Default, refused.Batch]);
            MustBeSent.AddRange([valid.Default, valid.Batch, refused.Default, refused.Batch]);
            fake.ValidKeys = new HashSet<string>(fake.ValidKeys) { valid.Default, valid.Batch, other };

            var roundFolder = $"r{round}";
            var db = $"{roundFolder}/index.db";
            BatchTestKit.WriteCorpus(dir, $"{roundFolder}/sync", documents: 2, sections: 3, tag: $"s{round}");
            BatchTestKit.WriteCorpus(dir, $"{roundFolder}/queue", documents: 2, sections: 6, tag: $"q{round}");
            BatchTestKit.WriteCorpus(dir, $"{roundFolder}/mirror", documents: 2, sections: 2, tag: $"m{round}");
            BatchTestKit.WriteCorpus(dir, $"{roundFolder}/later", documents: 2, sections: 6, tag: $"l{round}");
            BatchTestKit.WriteCorpus(dir, $"{roundFolder}/fail", documents: 10, sections: 2, tag: $"f{round}");
            dir.Write($"{roundFolder}/not-an-index.txt", "plain text, not a database\n");
            Directory.CreateDirectory(dir.Combine(roundFolder, "a-folder"));
            CreateForeignDatabase(dir.Combine(roundFolder, "other-app.db"));

            using var ps = new NoisySession(module, dir.Path, this);
            var vars = new Dictionary<string, object?>
            {
                ["KeyDefault"] = null,
                ["KeyBatch"] = null,
                ["PlainKey"] = plain,
                ["EmptyKey"] = new System.Security.SecureString(),
                ["KeyJson"] = $"{{\"key\": \"{plain}\", \"gemini\": {{\"key\": \"{plain}\"}}}}",
            };

            // How a key reaches the next command, per source: a parameter, the session keyring, or the environment.
            string Use(KeyKind kind, string key)
            {
                var variable = kind == KeyKind.Default ? "KeyDefault" : "KeyBatch";
                vars[variable] = GeminiFake.Secure(key);
                switch (source)
                {
                    case Source.Parameter:
                        return "";
                    case Source.Keyring:
                        // The default key by position, the batch key by name: both ways reach the keyring.
                        return $"Set-SemanticKeyring {(kind == KeyKind.Default ? "" : "-BatchApiKey ")}${variable} -Verbose -Debug\n";
                    case Source.Environment:
                        Environment.SetEnvironmentVariable(kind == KeyKind.Default ? "GEMINI_API_KEY" : "GEMINI_BATCH_API_KEY", key);
                        if (kind == KeyKind.Default) Environment.SetEnvironmentVariable("GOOGLE_API_KEY", other); // loses to GEMINI_API_KEY
                        return "";
                    default:
                        Environment.SetEnvironmentVariable(kind == KeyKind.Default ? "GOOGLE_API_KEY" : "GEMINI_BATCH_API_KEY", key);
                        return "";
                }
            }

            var apiKey = source == Source.Parameter ? " -ApiKey $KeyDefault" : "";
            var batchKey = source == Source.Parameter ? " -BatchApiKey $KeyBatch" : "";
            PsRun Run(string label, string script) => ps.Run($"round {round} ({source}): {label}", script, vars);
            string Both() => Use(KeyKind.Default, valid.Default) + Use(KeyKind.Batch, valid.Batch);

            // ---- calls that succeed
            Run("clear the keyring", "Set-SemanticKeyring -Clear -Verbose -Debug").AssertNoErrors();
            Run("Sync import", $"{Both()}Import-SemanticDocument -Path {roundFolder}/sync/*.md -Database {db} -Mode Sync{apiKey} -Verbose -Debug").AssertNoErrors();

            // From here on a second session keeps the index open, so its WAL stays (and is read) while commands run.
            using var holder = new IndexHolder(module, dir.Path, db, this);
            Run("Async import", $"Import-SemanticDocument -Path {roundFolder}/queue/*.md -Database {db} -Mode {(source == Source.Parameter ? "Async" : "Auto")} -Verbose -Debug").AssertNoErrors();
            Run("folder sync", $"Sync-SemanticFolder -Path {roundFolder}/mirror -Database {db} -Verbose -Debug").AssertNoErrors();
            var embedsBefore = fake.Requests.Count(r => BatchTestKit.IsInteractiveEmbed(r) && r.Header("x-goog-api-key") == valid.Default);
            Assert.NotEmpty(Run("hybrid search", $"{Both()}Search-SemanticIndex 'restart the queue worker' -Database {db}{apiKey} -Verbose -Debug").AssertNoErrors().Output);
            Assert.NotEmpty(Run("semantic search", $"{Both()}Search-SemanticIndex 'check the log' -Mode Semantic -Database {db}{apiKey} -NoCache -Verbose -Debug").AssertNoErrors().Output);
            Assert.Equal(embedsBefore + 2, fake.Requests.Count(r => BatchTestKit.IsInteractiveEmbed(r) && r.Header("x-goog-api-key") == valid.Default));
            var keyring = Run("keyring", $"{Both()}Get-SemanticKeyring -Verbose -Debug").AssertNoErrors();
            if (source != Source.Parameter)
            {
                Assert.All(keyring.Output, entry => Assert.Matches("^sha256:[0-9a-f]{8}$", entry.Text("Fingerprint")));
            }

            Run("health", $"Test-SemanticIndex -Database {db} -Verbose -Debug").AssertNoErrors();
            Assert.Single(Run("flush forecast", $"Invoke-BatchFlush -Database {db} -WhatIf -Verbose -Debug").AssertNoErrors().Output);
            var flushed = Run("flush", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug").AssertNoErrors().Single();
            Assert.Equal("Submitted", flushed.Text("Status"));
            Run("list", $"Get-BatchJob -Database {db} -Verbose -Debug; Get-ChunkStatus -Database {db} -Summary -Verbose -Debug; " +
                $"Get-ChunkStatus -Database {db} -First 5 -Verbose -Debug; Get-SemanticDocument -Database {db} -Verbose -Debug; " +
                $"Get-SemanticSpend -Database {db} -Verbose -Debug").AssertNoErrors();
            // Round 0 waits for the job: its first poll sees it running, so the countdown's progress is written too.
            fake.PollsUntilDone = round == 0 ? 1 : 0;
            var synced = Run("batch sync", $"{Both()}Sync-BatchJob -Database {db}{batchKey}{(round == 0 ? " -Wait -PollInterval 1" : "")} -Verbose -Debug").AssertNoErrors().Single();
            fake.PollsUntilDone = 0;
            Assert.Equal("Completed", synced.Text("Status"));

            Run("import more", $"Import-SemanticDocument -Path {roundFolder}/later/*.md -Database {db} -Mode Async -Verbose -Debug").AssertNoErrors();
            fake.AutoComplete = false;
            var running = Run("flush to stop", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug").AssertNoErrors().Single().Text("Id");
            Assert.Equal("Cancelled", Run("stop", $"{Both()}Stop-BatchJob -Id {running} -Database {db}{batchKey} -Verbose -Debug").AssertNoErrors().Single().Text("Status"));
            Run("requeue", $"Get-ChunkStatus -Database {db} -Status Ready -First 2 -Verbose -Debug | Reset-ChunkStatus -Force -PassThru -Verbose -Debug").AssertNoErrors();
            Run("remove", $"Remove-SemanticDocument -Path '*m{round}-000*' -Database {db} -Confirm:$false -Verbose -Debug").AssertNoErrors();
            Run("backup", $"Backup-SemanticIndex -Database {db} -Destination {roundFolder}/backup.db -Verbose -Debug").AssertNoErrors();
            Run("copy", $"Copy-SemanticIndex -Database {db} -Destination {roundFolder}/copy.db -Verbose -Debug").AssertNoErrors();
            Run("schema", $"Update-SemanticSchema -Database {db} -Verbose -Debug").AssertNoErrors();

            // A job left running for the failures of sync and stop below.
            var active = Run("flush, kept running", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug").AssertNoErrors().Single().Text("Id");

            // ---- a key the API refuses (400 API_KEY_INVALID), from the same source
            string Refused() => Use(KeyKind.Default, refused.Default) + Use(KeyKind.Batch, refused.Batch);
            var fail = 0;
            string NextFail() => $"{roundFolder}/fail/f{round}-{fail++:D3}.md";
            Expect(Run("refused key, Sync import", $"{Refused()}Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Sync{apiKey} -Verbose -Debug"), "GeminiInvalidApiKey");
            Expect(Run("refused key, semantic search", $"{Refused()}Search-SemanticIndex 'queue' -Mode Semantic -Database {db}{apiKey} -Verbose -Debug"), "GeminiInvalidApiKey");
            Assert.NotEmpty(Run("refused key, hybrid search", $"{Refused()}Search-SemanticIndex 'worker' -Database {db}{apiKey} -Verbose -Debug").Warnings);
            Run("import to flush", $"Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Async -Verbose -Debug").AssertNoErrors();
            Expect(Run("refused key, flush", $"{Refused()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug"), "GeminiInvalidApiKey");
            Expect(Run("refused key, batch sync", $"{Refused()}Sync-BatchJob -Id {active} -Database {db}{batchKey} -Verbose -Debug"), "GeminiInvalidApiKey");
            Expect(Run("refused key, stop", $"{Refused()}Stop-BatchJob -Id {active} -Database {db}{batchKey} -Verbose -Debug"), "GeminiInvalidApiKey");

            // ---- the service fails: 403, 429 (per day, and per minute past the retries), 500 past the retries
            fake.FailNextRequests(":batchEmbedContents", 1, 403);
            Expect(Run("403 on Sync import", $"{Both()}Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Sync{apiKey} -Verbose -Debug"), "GeminiPermissionDenied");
            fake.FailNextRequests("/v1beta/batches/", 1, 403);
            Expect(Run("403 on batch sync", $"{Both()}Sync-BatchJob -Id {active} -Database {db}{batchKey} -Verbose -Debug"), "GeminiPermissionDenied");
            fake.FailNextRequests(":batchEmbedContents", 1, 429, perDayQuota: true);
            Expect(Run("429 per day on semantic search", $"{Both()}Search-SemanticIndex 'restart' -Mode Semantic -Database {db}{apiKey} -Verbose -Debug"), "GeminiDailyQuotaExhausted");
            fake.FailNextRequests("/upload/", 5, 429, retryDelay: "0s");
            Expect(Run("429 on the upload, retries spent", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug"), "GeminiRateLimited");
            fake.FailNextRequests(":batchEmbedContents", 5, 500, retryDelay: "0s");
            Expect(Run("500 on Sync import, retries spent", $"{Both()}Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Sync{apiKey} -Verbose -Debug"), "GeminiUnavailable");
            fake.FailNextRequests(":cancel", 5, 500, retryDelay: "0s");
            Expect(Run("500 on stop, retries spent", $"{Both()}Stop-BatchJob -Id {active} -Database {db}{batchKey} -Verbose -Debug"), "BatchStopFailed");
            fake.FailNextRequests(":batchEmbedContents", 5, 503, retryDelay: "0s");
            Assert.NotEmpty(Run("503 on hybrid search", $"{Both()}Search-SemanticIndex 'log' -Database {db}{apiKey} -Verbose -Debug").Warnings);

            // ---- something in between refuses the request and echoes it, key included: in a text page (where the key
            // straddles the point where a quoted body is cut), or in the API's JSON error shape (message, reason, status)
            string Echo(RecordedRequest request)
            {
                var key = request.Header("x-goog-api-key");
                var json = (string message, string reason, string status) =>
                    System.Text.Json.JsonSerializer.Serialize(new { error = new { code = round == 2 ? 400 : 403, message, status, details = new[] { new Dictionary<string, string> { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", ["reason"] = reason } } } });
                return round switch
                {
                    0 => "Request refused by the proxy.\n" + new string('.', 230) + $" x-goog-api-key: {key} on {request.Path}",
                    1 => json($"Refused for key {key}.", "PROXY_REFUSED", "PERMISSION_DENIED"),
                    2 => json("Refused.", key!, "INVALID_ARGUMENT"),
                    _ => json("Refused.", "PROXY_REFUSED", key!),
                };
            }

            var echoStatus = round == 2 ? 400 : 403;
            var echoError = round == 2 ? "GeminiBadRequest" : "GeminiPermissionDenied";
            var echoType = round == 0 ? "text/plain" : "application/json";
            fake.AnswerNextRequests(":batchEmbedContents", 1, echoStatus, Echo, echoType);
            Expect(Run("a proxy echoes the key, Sync import", $"{Both()}Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Sync{apiKey} -Verbose -Debug"), echoError);
            fake.AnswerNextRequests("/upload/", 1, echoStatus, Echo, echoType);
            Expect(Run("a proxy echoes the key, flush", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug"), echoError);
            Assert.Contains("Failed", Run("the refused job", $"Get-BatchJob -Database {db} -Verbose -Debug").AssertNoErrors().Output.Select(j => j.Text("Status")));

            // ---- the network fails: a connection dropped after the create, a download that stalls
            fake.CrashAfterCreate = true;
            Expect(Run("connection dropped after create", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug"), "BatchSubmitUncertain");
            fake.CrashAfterCreate = false;
            fake.AutoComplete = true;
            Run("recovery adopts the job", $"{Both()}Sync-BatchJob -Database {db}{batchKey} -Verbose -Debug").AssertNoErrors();
            if (round == 0)
            {
                Run("import to stall", $"Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Async -Verbose -Debug").AssertNoErrors();
                Run("flush to stall", $"{Both()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug").AssertNoErrors();
                fake.AutoComplete = false;
                var stalled = fake.Batches.Last();
                fake.Complete(stalled.Name);
                fake.StallDownloads = true;
                using (BatchTestKit.Environment(("SEMANTICCORE_GEMINI_TIMEOUT", "2")))
                {
                    Expect(Run("stalled download", $"{Both()}Sync-BatchJob -Database {db}{batchKey} -Verbose -Debug"), "GeminiUnavailable");
                }

                fake.StallDownloads = false;
                fake.AutoComplete = true;
                Run("sync after the stall", $"{Both()}Sync-BatchJob -Database {db}{batchKey} -Verbose -Debug").AssertNoErrors();
            }

            // ---- a malformed key: refused before any request, never echoed
            var sentBefore = fake.Requests.Count;
            string Malformed() => Use(KeyKind.Default, malformed.Default) + Use(KeyKind.Batch, malformed.Batch);
            Expect(Run("malformed key, Sync import", $"{Malformed()}Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Sync{apiKey} -Verbose -Debug"), "InvalidApiKeyFormat");
            Expect(Run("malformed key, semantic search", $"{Malformed()}Search-SemanticIndex 'queue' -Mode Semantic -Database {db}{apiKey} -Verbose -Debug"), "InvalidApiKeyFormat");
            Assert.NotEmpty(Run("malformed key, hybrid search", $"{Malformed()}Search-SemanticIndex 'queue' -Database {db}{apiKey} -Verbose -Debug").Warnings);
            Run("import to flush", $"Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Async -Verbose -Debug").AssertNoErrors();
            Expect(Run("malformed key, flush", $"{Malformed()}Invoke-BatchFlush -Database {db} -Force{batchKey} -Verbose -Debug"), "InvalidApiKeyFormat");
            Expect(Run("malformed key, batch sync", $"{Malformed()}Sync-BatchJob -Database {db}{batchKey} -Verbose -Debug"), "InvalidApiKeyFormat");
            var listed = Run("malformed key, list", $"{Malformed()}Get-SemanticKeyring -Verbose -Debug; Test-SemanticIndex -Database {db} -Verbose -Debug").AssertNoErrors();
            if (source != Source.Parameter) Assert.Contains(listed.Output, o => o.Text("Fingerprint") == "(malformed)");
            Assert.Equal(sentBefore, fake.Requests.Count);

            // ---- a wrong database, for every cmdlet that takes one
            var wrong = round switch
            {
                0 => ($"{roundFolder}/a-folder", "DatabaseIsDirectory"),
                1 => ($"{roundFolder}/not-an-index.txt", "NotADatabase"),
                2 => ($"{roundFolder}/other-app.db", "NotASemanticIndex"),
                _ => ($"{roundFolder}/missing-*.db", "DatabaseNotFound"),
            };
            foreach (var command in ps.ModuleCmdlets.Where(c => ps.TakesDatabase(c)))
            {
                var arguments = command switch
                {
                    "Import-SemanticDocument" => $" -Path {roundFolder}/sync/*.md -Mode Sync{apiKey}",
                    "Sync-SemanticFolder" => $" -Path {roundFolder}/mirror",
                    "Search-SemanticIndex" => $" 'queue'{apiKey}",
                    "Backup-SemanticIndex" => $" -Destination {roundFolder}/backup-{command}.db",
                    "Copy-SemanticIndex" => $" -Destination {roundFolder}/copy-{command}.db",
                    "Stop-BatchJob" => $" -Id {active}{batchKey}",
                    "Remove-SemanticDocument" => " -Path * -Confirm:$false",
                    "Invoke-BatchFlush" or "Sync-BatchJob" => batchKey,
                    _ => "",
                };
                var expected = wrong.Item2 == "DatabaseNotFound" && command is "Import-SemanticDocument" or "Sync-SemanticFolder" ? null : wrong.Item2;
                // A missing index is one per command: the two that create an index would make it for the others.
                var run = Run($"wrong database, {command}", $"{Both()}{command} -Database {wrong.Item1.Replace("*", command)}{arguments} -Verbose -Debug");
                if (expected is not null) Expect(run, expected);
            }

            // A missing database for the cmdlets that create one would succeed: those get another app's file instead.
            if (wrong.Item2 == "DatabaseNotFound")
            {
                Expect(Run("foreign database, Import-SemanticDocument", $"Import-SemanticDocument -Path {roundFolder}/sync/*.md -Database {roundFolder}/other-app.db -Verbose -Debug"), "NotASemanticIndex");
                Expect(Run("foreign database, Sync-SemanticFolder", $"Sync-SemanticFolder -Path {roundFolder}/mirror -Database {roundFolder}/other-app.db -Verbose -Debug"), "NotASemanticIndex");
            }

            // ---- bad arguments, a plain-text key among them
            Expect(Run("keyring without a key", "Set-SemanticKeyring -Verbose -Debug"), "KeyringNoKeyGiven");
            Expect(Run("keyring with an empty key", "Set-SemanticKeyring -ApiKey $EmptyKey -Verbose -Debug"), "KeyringEmptyKey");
            // A key that is not a SecureString: as plain text, and inside objects (read from JSON, a hashtable, an array).
            const string keyError = "ParameterArgumentTransformationError";
            Expect(Run("keyring with a plain-text key", "Set-SemanticKeyring -ApiKey $PlainKey -Verbose -Debug"), keyError);
            Expect(Run("keyring with plain-text keys by position", "Set-SemanticKeyring $PlainKey $PlainKey -Verbose -Debug"), keyError);
            Expect(Run("keyring with a key read from JSON", "Set-SemanticKeyring -BatchApiKey ($KeyJson | ConvertFrom-Json) -Verbose -Debug"), keyError);
            Expect(Run("a key in an object to an import", $"Import-SemanticDocument -Path {NextFail()} -Database {db} -Mode Sync -ApiKey ($KeyJson | ConvertFrom-Json).gemini -Verbose -Debug"), keyError);
            Expect(Run("plain-text keys to a search", $"Search-SemanticIndex 'queue' -Database {db} -ApiKey @($PlainKey, $PlainKey) -Verbose -Debug"), keyError);
            Expect(Run("plain-text key to a flush", $"Invoke-BatchFlush -Database {db} -BatchApiKey $PlainKey -Verbose -Debug"), keyError);
            Expect(Run("a key in a hashtable to a sync", $"Sync-BatchJob -Database {db} -BatchApiKey @{{ key = $PlainKey }} -Verbose -Debug"), keyError);
            Expect(Run("a key in an object to a stop", $"Stop-BatchJob -Id {active} -Database {db} -BatchApiKey ([pscustomobject]@{{ Key = $PlainKey }}) -Verbose -Debug"), keyError);
            Expect(Run("keyring with a wrong parameter", "Get-SemanticKeyring -Key $PlainKey -Verbose -Debug"), "NamedParameterNotFound");
            Expect(Run("search with -Top 0", $"{Both()}Search-SemanticIndex 'queue' -Top 0 -Database {db}{apiKey} -Verbose -Debug"), "ParameterArgumentValidationError");
            Expect(Run("stop an unknown job", $"{Both()}Stop-BatchJob -Id no-such-job -Database {db}{batchKey} -Verbose -Debug"), "BatchJobNotFound");
            Expect(Run("sync an unknown job", $"{Both()}Sync-BatchJob -Id no-such-job -Database {db}{batchKey} -Verbose -Debug"), "BatchJobNotFound");

            // ---- the round's last look while the index is still held open, then after it is closed
            Run("final state", $"{Both()}Get-ChunkStatus -Database {db} -Summary -Verbose -Debug; Test-SemanticIndex -Database {db} -Verbose -Debug").AssertNoErrors();
            var wal = dir.Combine(roundFolder, "index.db-wal");
            Assert.True(File.Exists(wal), "the held index has a WAL");
            LiveWalBytes += new FileInfo(wal).Length;
            ScanFiles($"round {round} ({source}) index held open");
            holder.Release();
            ScanFiles($"round {round} ({source}) index closed");

            ps.AssertCovered($"round {round} ({source})");
            ps.FormatAndScan();
            Run("clear the keyring", "Set-SemanticKeyring -Clear -Verbose -Debug").AssertNoErrors();
            foreach (var variable in KeyVariables) Environment.SetEnvironmentVariable(variable, null);
            fake.AutoComplete = true;
        }

        private void Expect(PsRun run, string errorId)
        {
            var ids = run.ErrorIds.ToList();
            Assert.True(ids.Contains(errorId), $"{run.Label}: expected {errorId}, got [{string.Join(", ", ids)}]");
        }

        /// <summary>
        /// After each run, and in flight: every file of the test (or temporary) folder. Content already scanned is not
        /// scanned again: a file that only grew (the WAL, while the index is held open) has its new end scanned.
        /// </summary>
        public void ScanFiles(string where, string? folder = null)
        {
            const int overlap = 4096; // longer than any form of a key in any encoding
            foreach (var file in Directory.EnumerateFiles(folder ?? dir.Path, "*", SearchOption.AllDirectories))
            {
                if (SecretScanner.TryRead(file) is not { } bytes) continue;
                var from = 0;
                lock (filesGate)
                {
                    if (scannedFiles.TryGetValue(file, out var seen) && seen.Length <= bytes.Length
                        && SHA256.HashData(bytes.AsSpan(0, seen.Length)).AsSpan().SequenceEqual(seen.Hash))
                    {
                        if (seen.Length == bytes.Length) continue;
                        from = Math.Max(0, seen.Length - overlap);
                    }

                    scannedFiles[file] = (bytes.Length, SHA256.HashData(bytes));
                }

                scanner.ScanBytes(from == 0 ? bytes : bytes[from..], $"{where}: {Path.GetRelativePath(dir.Path, file)}{(from == 0 ? "" : $" from byte {from}")}");
            }
        }

        /// <summary>The fake calls this while a request waits for its answer: the command that sent it is mid-way.</summary>
        public void InFlight(RecordedRequest request)
        {
            try
            {
                if (request.Path == "/upload/v1beta/files" && !request.QueryString.Contains("upload_id", StringComparison.Ordinal))
                {
                    // The flush wrote its input (the documents' text) to the spool before this upload started.
                    if (Directory.EnumerateFiles(tmp, "semanticcore-*.jsonl").Any()) Interlocked.Increment(ref SpoolsSeen);

                    ScanFiles($"in flight ({request.Method} {request.Path})", tmp);
                }
            }
            catch (Exception ex)
            {
                HookFailures.Enqueue(ex.ToString());
            }
        }

        public void Record(PsRun run)
        {
            foreach (var id in run.ErrorIds) ErrorIds[id] = ErrorIds.GetValueOrDefault(id) + 1;
            Streams["verbose"] += run.Verbose;
            Streams["warning"] += run.Warnings.Count;
            Streams["progress"] += run.Progress;
            Streams["error"] += run.ErrorIds.Count;
            Streams["output"] += run.Output.Count;
            ScanFiles($"after {run.Label}");
        }

        public SecretScanner Scanner => scanner;

        private static void CreateForeignDatabase(string path)
        {
            // Written before any of the module's connections exist (two SQLite libraries in one process must not share a file).
            Db.Execute(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
        }
    }

    public enum KeyKind
    {
        Default,
        Batch,
    }

    /// <summary>A second session that keeps an index open (its command paused mid-pipeline) until released.</summary>
    private sealed class IndexHolder : IDisposable
    {
        private readonly ManualResetEventSlim reached = new();
        private readonly ManualResetEventSlim release = new();
        private readonly NoisySession session;
        private readonly Task<PsRun> running;
        private bool released;

        public IndexHolder(ModuleFixture module, string location, string database, Sweep sweep)
        {
            session = new NoisySession(module, location, sweep);
            var vars = new Dictionary<string, object?> { ["Reached"] = reached, ["Release"] = release };
            running = Task.Run(() => session.Run($"holding {database} open",
                $"Get-SemanticDocument -Database {database} -Verbose -Debug | ForEach-Object -Begin {{ $held = $false }} -Process {{ " +
                "if (-not $held) { $held = $true; $Reached.Set(); [void]$Release.Wait([TimeSpan]::FromMinutes(5)) } }", vars));
            Assert.True(WaitHandle.WaitAny([reached.WaitHandle, ((IAsyncResult)running).AsyncWaitHandle], BatchTestSupport.HangGuard) == 0,
                "the holding session did not reach its pause");
        }

        public void Release()
        {
            if (released) return;
            released = true;
            release.Set();
            Assert.True(running.Wait(BatchTestSupport.HangGuard), "the holding session did not end");
            running.Result.AssertNoErrors();
            session.FormatAndScan();
        }

        public void Dispose()
        {
            // After a failure elsewhere: end the pause without asserting, so that failure is the one reported.
            release.Set();
            running.Wait(BatchTestSupport.HangGuard);
            session.Dispose();
            reached.Dispose();
            release.Dispose();
        }
    }

    /// <summary>What one run produced, and which of the module's cmdlets it ran and which failed.</summary>
    private sealed record PsRun(string Label, IReadOnlyList<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, ErrorRecord? Terminating,
        IReadOnlyList<string> Warnings, int Verbose, int Progress)
    {
        public IEnumerable<ErrorRecord> AllErrors => Terminating is null ? Errors : Errors.Append(Terminating);

        public List<string> ErrorIds => AllErrors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]).ToList();

        public PSObject Single() => Assert.Single(Output);

        public PsRun AssertNoErrors()
        {
            Assert.True(Terminating is null && Errors.Count == 0,
                $"{Label}: unexpected errors:\n" + string.Join("\n", AllErrors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
            return this;
        }
    }

    /// <summary>
    /// A runspace with the module, every preference at Continue; each run's streams, output and errors are walked,
    /// formatted (default views, Format-List *, Get-Error) and serialized (ConvertTo-Json), and all of it scanned.
    /// </summary>
    private sealed class NoisySession : IDisposable
    {
        public static readonly ConcurrentQueue<string> Timings = new();

        /// <summary>Runs, those with an error, and invocations of the module's commands in them (for the log).</summary>
        public static int RunCount, FailingRunCount, CommandCount;

        /// <remarks>
        /// -Debug makes warnings inquire (pwsh asks whether to go on), which a runspace without a UI ends with
        /// HostFunctionNotImplemented: -WarningAction Continue, given to every command by default, lets the command go on.
        /// </remarks>
        private const string Preferences = "$VerbosePreference = $DebugPreference = $InformationPreference = $ProgressPreference = 'Continue'\n" +
            "$PSDefaultParameterValues['*:WarningAction'] = 'Continue'\n";

        private readonly Runspace runspace;
        private readonly Sweep? sweep;
        private readonly SecretScanner scanner;
        private readonly Dictionary<string, (bool Succeeded, bool Failed)> coverage = new(StringComparer.OrdinalIgnoreCase);
        private readonly Dictionary<string, bool> takesDatabase = new(StringComparer.OrdinalIgnoreCase);
        private readonly List<(string Label, List<PSObject> Output, List<ErrorRecord> Errors)> unformatted = [];

        public NoisySession(ModuleFixture module, string location, Sweep sweep)
            : this(module, location, sweep.Scanner)
        {
            this.sweep = sweep;
        }

        public NoisySession(ModuleFixture module, string location, SecretScanner scanner)
        {
            this.scanner = scanner;
            runspace = RunspaceFactory.CreateRunspace(module.SessionState);
            runspace.Open();
            runspace.SessionStateProxy.Path.SetLocation(location);
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = runspace;
            // The module's commands as loaded, which must be those its manifest exports: a new one joins the sweep's checks.
            foreach (var command in ps.AddScript("Get-Command -Module SemanticCore.PS -CommandType Cmdlet, Function").Invoke())
            {
                var info = (CommandInfo)command.BaseObject;
                takesDatabase[info.Name] = info.Parameters.ContainsKey("Database");
                // Every key parameter refuses what is not a SecureString without quoting it (PowerShell's conversion error would).
                foreach (var parameter in info.Parameters.Values.Where(p => p.ParameterType == typeof(System.Security.SecureString)))
                {
                    Assert.True(parameter.Attributes.Any(a => a.GetType().Name == "SecureKeyAttribute"), $"{info.Name} -{parameter.Name} lacks [SecureKey]");
                }
            }

            ps.Commands.Clear();
            var exported = ps.AddScript("(Import-PowerShellDataFile -LiteralPath $args[0]).CmdletsToExport").AddArgument(module.ManifestPath).Invoke().Select(o => o.ToString());
            Assert.NotEmpty(takesDatabase);
            Assert.Equal(exported.Order(StringComparer.Ordinal), takesDatabase.Keys.Order(StringComparer.Ordinal));
        }

        public IReadOnlyList<string> ModuleCmdlets => [.. takesDatabase.Keys.Order(StringComparer.Ordinal)];

        public bool TakesDatabase(string cmdlet) => takesDatabase[cmdlet];

        public PsRun Run(string label, string script, IDictionary<string, object?>? variables = null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var commands = ModuleCommandsOf(label, script);
            foreach (var (name, value) in variables ?? new Dictionary<string, object?>()) runspace.SessionStateProxy.SetVariable(name, value);
            runspace.SessionStateProxy.SetVariable("__terminating", null);

            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript($"{Preferences}try {{\n{script}\n}} catch {{ $global:__terminating = $_ }}");
            var output = ps.Invoke().Where(o => o is not null).ToList();
            var terminating = runspace.SessionStateProxy.GetVariable("__terminating") switch
            {
                PSObject { BaseObject: ErrorRecord record } => record,
                ErrorRecord record => record,
                _ => null,
            };
            var run = new PsRun(label, output, ps.Streams.Error.ToList(), terminating, ps.Streams.Warning.Select(w => w.Message).ToList(),
                ps.Streams.Verbose.Count, ps.Streams.Progress.Count);


            // Every record of every stream, walked.
            foreach (var (stream, records) in new (string, IEnumerable<object>)[]
                     {
                         ("output", output), ("error", run.AllErrors), ("warning", ps.Streams.Warning), ("verbose", ps.Streams.Verbose),
                         ("debug", ps.Streams.Debug), ("information", ps.Streams.Information), ("progress", ps.Streams.Progress),
                     })
            {
                foreach (var record in records) scanner.ScanText(ObjectText.Of(record), $"{label}: {stream} stream");
            }

            // Formatted later, all runs of the session at once (a formatting pipeline per run costs more than the run).
            unformatted.Add((label, output, run.AllErrors.ToList()));

            Interlocked.Increment(ref RunCount);
            Interlocked.Add(ref CommandCount, commands.Count);
            if (run.AllErrors.Any()) Interlocked.Increment(ref FailingRunCount);
            var failed = run.AllErrors.Select(e => e.InvocationInfo?.MyCommand?.Name).OfType<string>().Where(takesDatabase.ContainsKey).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var command in commands)
            {
                var (succeeded, failedBefore) = coverage.GetValueOrDefault(command);
                coverage[command] = (succeeded || !failed.Contains(command), failedBefore || failed.Contains(command));
            }

            sweep?.Record(run);
            Timings.Enqueue($"{clock.Elapsed.TotalMilliseconds,6:0} ms {label} [{string.Join(", ", run.ErrorIds)}]");
            return run;
        }

        /// <summary>
        /// What a user would print or save of every run so far: default views, every property (Format-List * -Force) of
        /// outputs, errors and exceptions, the error view, and JSON; one formatting pipeline for all runs (per run it would
        /// cost more than the runs), cut back into runs by markers so that a finding names its run. The markers have one
        /// width: a table sizes its columns on its first rows, and would cut a longer marker short.
        /// </summary>
        public void FormatAndScan()
        {
            if (unformatted.Count == 0) return;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var ps = System.Management.Automation.PowerShell.Create();
            ps.Runspace = runspace;
            runspace.SessionStateProxy.SetVariable("__runs", unformatted.Select(r => new object[] { r.Output.ToArray(), r.Errors.ToArray() }).ToArray());
            ps.AddScript("""
                $__i = 0
                $__outputs = foreach ($__run in $__runs) { [pscustomobject]@{ Marker = "@@run $($__i.ToString('D4'))@@" }; $__run[0]; $__i++ }
                $__i = 0
                $__errors = foreach ($__run in $__runs) { [pscustomobject]@{ Marker = "@@run $($__i.ToString('D4'))@@" }; $__run[1]; $__i++ }
                $__outputs | Out-String -Width 300
                $__outputs | Format-List * -Force | Out-String -Width 300
                $__errors | Out-String -Width 300
                $__errors | Format-List * -Force | Out-String -Width 300
                $__errors | ForEach-Object { if ($_ -is [System.Management.Automation.ErrorRecord]) { $_.Exception } else { $_ } } | Format-List * -Force | Out-String -Width 300
                $__i = 0
                $(foreach ($__run in $__runs) { "@@run $($__i.ToString('D4'))@@"; ConvertTo-Json -InputObject @($__run[0]) -Depth 5 -WarningAction Ignore; $__i++ }) -join "`n"
                """);
            var texts = ps.Invoke();
            Assert.True(ps.Streams.Error.Count == 0, "formatting failed: " + string.Join("; ", ps.Streams.Error));
            string[] forms = ["default view", "Format-List *", "error view", "errors, Format-List *", "exceptions, Format-List *", "JSON"];
            Assert.Equal(forms.Length, texts.Count);
            for (var form = 0; form < forms.Length; form++)
            {
                var parts = System.Text.RegularExpressions.Regex.Split(texts[form].ToString(), "@@run ([0-9]+)@@");
                Assert.True(parts.Length == 2 * unformatted.Count + 1, $"{forms[form]}: every run's marker is in the formatted text:\n{texts[form].ToString()[..Math.Min(4000, texts[form].ToString().Length)]}");
                for (var i = 1; i < parts.Length; i += 2) scanner.ScanText(parts[i + 1], $"{unformatted[int.Parse(parts[i])].Label}: formatted, {forms[form]}");
            }

            Timings.Enqueue($"{clock.Elapsed.TotalMilliseconds,6:0} ms formatting {unformatted.Count} runs, {texts.Sum(t => t.ToString().Length)} chars");
            unformatted.Clear();
        }

        /// <summary>The module's cmdlets a script runs; each must have -Verbose and -Debug (the suite's rule, checked here).</summary>
        private List<string> ModuleCommandsOf(string label, string script)
        {
            var ast = Parser.ParseInput(script, out _, out var parseErrors);
            Assert.True(parseErrors.Length == 0, $"{label}: script does not parse: {string.Join("; ", parseErrors.Select(e => e.Message))}");
            var commands = new List<string>();
            foreach (CommandAst command in ast.FindAll(a => a is CommandAst, searchNestedScriptBlocks: true))
            {
                if (command.GetCommandName() is not { } name || !takesDatabase.ContainsKey(name)) continue;
                var parameters = command.CommandElements.OfType<CommandParameterAst>().Select(p => p.ParameterName).ToHashSet(StringComparer.OrdinalIgnoreCase);
                Assert.True(parameters.Contains("Verbose") && parameters.Contains("Debug"), $"{label}: {name} runs without -Verbose -Debug");
                commands.Add(name);
            }

            return commands;
        }

        /// <summary>Every cmdlet of the module ran in a call that succeeded and in one that failed (a new cmdlet fails this until the suite runs it).</summary>
        public void AssertCovered(string where)
        {
            var missing = takesDatabase.Keys.Where(c => !coverage.TryGetValue(c, out var seen) || !seen.Succeeded || !seen.Failed)
                .Select(c => coverage.TryGetValue(c, out var seen) ? $"{c} (succeeded: {seen.Succeeded}, failed: {seen.Failed})" : $"{c} (never run)")
                .ToList();
            Assert.True(missing.Count == 0, $"{where}: cmdlets not run both ways: {string.Join(", ", missing)}");
        }

        public void Dispose() => runspace.Dispose();
    }

    public void Dispose() => dir.Dispose();
}
