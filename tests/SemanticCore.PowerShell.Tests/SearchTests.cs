using System.Management.Automation;
using System.Security.Cryptography;
using System.Text.Json;
using SemanticCore.PowerShell.Tests.Infrastructure;

namespace SemanticCore.PowerShell.Tests;

/// <summary>Search-SemanticIndex through the engine against the built module: Local provider and the loopback Gemini fake.</summary>
[Collection(ModuleCollection.Name)]
public sealed class SearchTests(ModuleFixture module) : IDisposable
{
    private const string RotationPhrase = "Rotate the signing certificate on the ingress gateway every ninety days";

    private readonly TestDirectory dir = new();

    private string Database => dir.Combine("index.db");

    private void WriteKnowledgeBase()
    {
        dir.Write("kb/certificates.md", $"""
            # Certificates

            ## Rotation

            {RotationPhrase}, before the old one expires.

            ## Inventory

            Keep a list of every certificate with its owner, issuer and expiry date in the asset register.

            ```powershell
            Get-ChildItem Cert:\LocalMachine\My | Where-Object NotAfter -lt (Get-Date).AddDays(30)
            ```
            """);
        dir.Write("kb/backups.md", """
            # Backups

            ## Schedule

            The database is dumped nightly at 02:00 and the dumps are kept for thirty-five days.

            ## Restore drill

            Once a quarter, restore last night's dump into a scratch server and compare the row counts.

            ```sql
            SELECT count(*) FROM orders;
            ```
            """);
        dir.Write("kb/cafe.md", """
            # Café naïve

            ## Menü

            Crème brûlée and the café au lait are served until closing time.

            ## Ротация ключей

            Ротация ключей выполняется ежеквартально администратором безопасности.
            """);
    }

    /// <summary>Every chunk embedded now with the Local provider (Ready, vectors stored).</summary>
    private PsSession SeedReady()
    {
        WriteKnowledgeBase();
        var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/* -Database index.db -Provider Local -Mode Sync").AssertNoErrors();
        return ps;
    }

    private long ChunkIdContaining(string text) =>
        Db.Scalar<long>(Database, $"SELECT id FROM chunks WHERE content LIKE '%{text.Replace("'", "''")}%'");

    [Theory]
    [InlineData("Hybrid")]
    [InlineData("Semantic")]
    [InlineData("Keyword")]
    public void An_exact_phrase_ranks_its_chunk_first_in_every_mode(string mode)
    {
        using var ps = SeedReady();

        var hits = ps.Run($"Search-SemanticIndex '{RotationPhrase}' -Mode {mode} -Database index.db").AssertNoErrors().Output;

        var first = hits[0];
        Assert.Equal("SemanticCore.Model.SearchHit", first.TypeName());
        Assert.Equal(1L, first.Long("Rank"));
        Assert.Equal(ChunkIdContaining(RotationPhrase), first.Long("ChunkId"));
        Assert.Equal(dir.Combine("kb", "certificates.md"), first.Text("DocumentPath"));
        Assert.Equal("Certificates", first.Text("Title"));
        Assert.Equal("Certificates > Rotation", first.Text("Section"));
        Assert.Equal("Text", first.Text("ChunkType"));
        Assert.Equal("Ready", first.Text("Status"));
        Assert.Contains(RotationPhrase, first.Text("Content"));
        Assert.Equal(Database, first.Text("Database"));
        Assert.Equal(RotationPhrase, first.Text("Query"));
        Assert.Equal(Db.Scalar<long>(Database, "SELECT document_id FROM chunks WHERE id = " + first.Long("ChunkId")), first.Long("DocumentId"));
        var expectedMatch = mode == "Hybrid" ? "Keyword, Semantic" : mode;
        Assert.Equal(expectedMatch, first.Text("MatchedBy"));
        Assert.Equal(Enumerable.Range(1, hits.Count).Select(i => (long)i), hits.Select(h => h.Long("Rank")));
        var scores = hits.Select(h => Convert.ToDouble(h.Prop("Score"))).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
    }

    [Fact]
    public void Pending_chunks_are_found_by_keyword_and_hybrid_before_any_flush()
    {
        WriteKnowledgeBase();
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/* -Database index.db -Provider Local -Mode Async").AssertNoErrors();

        var keyword = ps.Run("Search-SemanticIndex 'restore drill scratch server' -Mode Keyword -Database index.db").AssertNoErrors();
        var hybrid = ps.Run("Search-SemanticIndex 'restore drill scratch server' -Database index.db -Verbose").AssertNoErrors();
        var semantic = ps.Run("Search-SemanticIndex 'restore drill scratch server' -Mode Semantic -Database index.db").AssertNoErrors();

        var expected = ChunkIdContaining("scratch server");
        Assert.Equal(expected, keyword.Output[0].Long("ChunkId"));
        Assert.Equal("Pending", keyword.Output[0].Text("Status"));
        Assert.Equal(expected, hybrid.Output[0].Long("ChunkId"));
        Assert.Equal("Keyword", hybrid.Output[0].Text("MatchedBy"));
        Assert.Empty(hybrid.Warnings); // nothing embedded yet is not a failure: no query embedding is paid for
        var chunks = Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks");
        Assert.Contains(hybrid.Verbose, v => v.Contains($"keywords: {chunks} chunks") && v.Contains($"{chunks} of {chunks} chunks not Ready"));
        Assert.Empty(semantic.Output);
        Assert.Contains(semantic.Warnings, w => w.Contains("No chunk of this index has a Ready vector yet"));
    }

    public static TheoryData<string, bool> HostileQueries => new()
    {
        { "\"unbalanced certificate", true },
        { "certificate AND (expiry OR", true },
        { "NOT certificate NEAR(rotation", true },
        { "expir* -ninety col:umn ^start", true },
        { "content: rotation", true },
        { "'; DROP TABLE orders; --", true },
        { string.Concat(Enumerable.Repeat("certificate rotation gateway ", 360)), true },
        { "cafe naive creme brulee", true },
        { "ротация ключей", true },
        { "證書 ローテーション 인증서", false },
        { "🚀 rocket", false },
    };

    [Theory]
    [MemberData(nameof(HostileQueries))]
    public void Hostile_queries_are_searched_as_words_never_as_syntax(string query, bool expectHits)
    {
        using var ps = SeedReady();

        foreach (var mode in new[] { "Hybrid", "Semantic", "Keyword" })
        {
            var run = ps.Run($"Search-SemanticIndex -Query $q -Mode {mode} -Database index.db", new Dictionary<string, object?> { ["q"] = query });

            run.AssertNoErrors();
            Assert.DoesNotContain("SQLite", run.AllText, StringComparison.OrdinalIgnoreCase);
            if (expectHits) Assert.NotEmpty(run.Output);
        }

        // Diacritics are folded and non-Latin scripts are words: the right chunk comes first.
        if (query.StartsWith("cafe")) Assert.Contains("Crème brûlée", ps.Run("Search-SemanticIndex $q -Mode Keyword -Database index.db", new Dictionary<string, object?> { ["q"] = query }).Output[0].Text("Content"));
        if (query.StartsWith("ротация")) Assert.Contains("ежеквартально", ps.Run("Search-SemanticIndex $q -Mode Keyword -Database index.db", new Dictionary<string, object?> { ["q"] = query }).Output[0].Text("Content"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("!!! ??? ... (*) \"\" --")]
    public void A_query_without_words_is_a_clear_per_item_error_and_the_pipeline_goes_on(string empty)
    {
        using var ps = SeedReady();

        var run = ps.Run("$q, 'scratch server row counts' | Search-SemanticIndex -Database index.db -Top 1", new Dictionary<string, object?> { ["q"] = empty });

        var error = BatchTestKit.AssertErrors(run, "SearchQueryEmpty", ErrorCategory.InvalidArgument, 1)[0];
        Assert.Equal(empty, error.TargetObject);
        Assert.Contains("scratch server", run.Single().Text("Content"));
    }

    [Fact]
    public void Queries_come_from_the_pipeline_and_hits_pipe_into_Get_ChunkStatus()
    {
        using var ps = SeedReady();
        const string questions = "$questions = 'when are backups taken', 'rotate the gateway certificate'";

        var hits = ps.Run($"{questions}; $questions | Search-SemanticIndex -Database index.db -Top 1").AssertNoErrors().Output;
        var chunks = ps.Run($"{questions}; $questions | Search-SemanticIndex -Database index.db -Top 1 | Get-ChunkStatus").AssertNoErrors().Output;
        var fromCsv = ps.Run("[pscustomobject]@{ Query = 'scratch server row counts' } | Search-SemanticIndex -Database index.db -Top 1").AssertNoErrors().Single();

        Assert.Equal(["when are backups taken", "rotate the gateway certificate"], hits.Select(h => h.Text("Query")));
        Assert.Equal(ChunkIdContaining("dumped nightly"), hits[0].Long("ChunkId"));
        Assert.Equal(ChunkIdContaining(RotationPhrase), hits[1].Long("ChunkId"));
        Assert.Equal("SemanticCore.Model.Chunk", chunks[0].TypeName());
        Assert.Equal(hits.Select(h => h.Long("ChunkId")), chunks.Select(c => c.Long("Id")));
        Assert.Equal(ChunkIdContaining("scratch server"), fromCsv.Long("ChunkId"));
    }

    [Fact]
    public void Filters_keep_only_matching_documents_types_languages_and_scores()
    {
        using var ps = SeedReady();

        var byPath = ps.Run("Search-SemanticIndex 'certificate backups restore' -Database index.db -DocumentPath backups.md").AssertNoErrors().Output;
        var byFullPattern = ps.Run("Search-SemanticIndex 'certificate backups restore' -Database index.db -DocumentPath ./kb/cert*").AssertNoErrors().Output;
        var code = ps.Run("Search-SemanticIndex 'certificate orders count' -Database index.db -ChunkType Code").AssertNoErrors().Output;
        var sql = ps.Run("Search-SemanticIndex 'certificate orders count' -Database index.db -Language SQL -Mode Semantic").AssertNoErrors().Output;
        var all = ps.Run("Search-SemanticIndex 'certificate' -Database index.db -Mode Semantic").AssertNoErrors().Output;
        var min = Convert.ToDouble(all[1].Prop("Score"));
        var strong = ps.Run($"Search-SemanticIndex 'certificate' -Database index.db -Mode Semantic -MinScore {min.ToString(System.Globalization.CultureInfo.InvariantCulture)}").AssertNoErrors().Output;
        var none = ps.Run("Search-SemanticIndex 'certificate' -Database index.db -DocumentPath nothing-*.md").AssertNoErrors().Output;

        Assert.NotEmpty(byPath);
        Assert.All(byPath, h => Assert.EndsWith("backups.md", h.Text("DocumentPath")));
        Assert.NotEmpty(byFullPattern);
        Assert.All(byFullPattern, h => Assert.EndsWith("certificates.md", h.Text("DocumentPath")));
        Assert.Equal(2, code.Count);
        Assert.All(code, h => Assert.Equal("Code", h.Text("ChunkType")));
        Assert.Equal("sql", Assert.Single(sql).Text("Language"));
        Assert.Equal(2, strong.Count);
        Assert.All(strong, h => Assert.True(Convert.ToDouble(h.Prop("Score")) >= min));
        Assert.Empty(none);
    }

    [Fact]
    public void Vectors_of_another_model_or_dimension_are_never_scored()
    {
        using var ps = SeedReady();
        var rotation = ChunkIdContaining(RotationPhrase);
        var restore = ChunkIdContaining("scratch server");
        Db.Execute(Database, $"UPDATE chunk_vectors SET model = 'another-model' WHERE chunk_id = {rotation}");
        Db.Execute(Database, $"UPDATE chunk_vectors SET dimensions = 3072 WHERE chunk_id = {restore}");

        var run = ps.Run($"Search-SemanticIndex '{RotationPhrase} restore drill' -Mode Semantic -Top 100 -Database index.db -Verbose").AssertNoErrors();

        var ids = run.Output.Select(h => h.Long("ChunkId")).ToList();
        Assert.DoesNotContain(rotation, ids);
        Assert.DoesNotContain(restore, ids);
        var chunks = Db.Scalar<long>(Database, "SELECT COUNT(*) FROM chunks");
        Assert.Equal(chunks - 2, ids.Count);
        Assert.Contains(run.Verbose, v => v.Contains($"{chunks - 2} vectors of local-feature-hash-v2/768 scored") && v.Contains($"2 of {chunks} chunks not Ready (skipped)"));
    }

    [Fact]
    public void Results_are_identical_with_and_without_the_cache_and_the_cache_is_used()
    {
        using var ps = SeedReady();
        var queries = new[] { "certificate expiry owner", "nightly dump retention", "restore row counts", "café", "orders" };

        foreach (var mode in new[] { "Hybrid", "Semantic", "Keyword" })
        {
            foreach (var query in queries)
            {
                var variables = new Dictionary<string, object?> { ["q"] = query };
                var cached = ps.Run($"Search-SemanticIndex $q -Mode {mode} -Database index.db", variables).AssertNoErrors().Output;
                var uncached = ps.Run($"Search-SemanticIndex $q -Mode {mode} -Database index.db -NoCache", variables).AssertNoErrors().Output;
                Assert.Equal(Summary(uncached), Summary(cached));
            }
        }

        var first = ps.Run("Search-SemanticIndex 'orders' -Database index.db -Verbose").AssertNoErrors();
        var second = ps.Run("Search-SemanticIndex 'orders' -Database index.db -Verbose").AssertNoErrors();
        var noCache = ps.Run("Search-SemanticIndex 'orders' -Database index.db -Verbose -NoCache").AssertNoErrors();
        Assert.Contains(second.Verbose, v => v.Contains("from the session cache"));
        Assert.Contains(noCache.Verbose, v => v.Contains("scored from the file"));
        _ = first;

        static List<string> Summary(IEnumerable<PSObject> hits) =>
            hits.Select(h => $"{h.Long("Rank")}:{h.Long("ChunkId")}:{Convert.ToDouble(h.Prop("Score")):R}:{h.Text("MatchedBy")}").ToList();
    }

    [Fact]
    public void A_warm_cache_sees_what_another_process_imported()
    {
        using var ps = SeedReady();
        ps.Run("Search-SemanticIndex 'orders' -Database index.db").AssertNoErrors();
        var warm = ps.Run("Search-SemanticIndex 'orders' -Database index.db -Verbose").AssertNoErrors();
        Assert.Contains(warm.Verbose, v => v.Contains("from the session cache"));
        dir.Write("later/pager.md", "# Paging\n\n## Escalation\n\nPage the secondary on-call engineer when the primary does not acknowledge within fifteen minutes.\n");

        var (exitCode, _, stderr) = HostProcess.Run(dir.Path, "-Command", "Import-SemanticDocument later/pager.md -Database index.db -Mode Sync");
        Assert.True(exitCode == 0, stderr);

        var after = ps.Run("Search-SemanticIndex 'secondary on-call engineer acknowledge' -Mode Semantic -Database index.db -Verbose").AssertNoErrors();
        Assert.Equal(ChunkIdContaining("secondary on-call"), after.Output[0].Long("ChunkId"));
        Assert.Contains(after.Verbose, v => v.Contains("scored from the file"));
    }

    [Fact]
    public void An_index_of_schema_version_1_is_backfilled_and_rows_written_by_plain_SQL_are_found()
    {
        using (var seed = SeedReady()) { }
        // Back to exactly what module 0.1.0 made: version 1, no keyword index, no data version.
        Db.Execute(Database, """
            DROP TABLE chunks_fts;
            DROP TABLE data_versions;
            DROP TRIGGER tr_chunks_fts_insert; DROP TRIGGER tr_chunks_fts_delete; DROP TRIGGER tr_chunks_fts_update; DROP TRIGGER tr_documents_fts_title;
            DROP TRIGGER tr_vectors_version_insert; DROP TRIGGER tr_vectors_version_update; DROP TRIGGER tr_vectors_version_delete; DROP TRIGGER tr_chunks_version_update;
            DELETE FROM schema_history WHERE version = 2;
            PRAGMA user_version = 1;
            """);
        using var ps = module.NewSession(dir.Path);

        var upgraded = ps.Run("Search-SemanticIndex 'scratch server' -Mode Keyword -Database index.db -Verbose").AssertNoErrors();

        Assert.Equal(5L, Db.Scalar<long>(Database, "PRAGMA user_version"));
        Assert.Contains(upgraded.Verbose, v => v.Contains("Index the text of every existing chunk"));
        Assert.Equal(ChunkIdContaining("scratch server"), upgraded.Output[0].Long("ChunkId"));
        Assert.Equal("Backups > Restore drill", upgraded.Output[0].Text("Section"));

        // Module 0.1.0 after a rollback: its plain inserts, updates and deletes keep the keyword index right.
        var document = Db.Scalar<long>(Database, "SELECT id FROM documents WHERE source_path LIKE '%backups.md'");
        Db.Execute(Database, $"""
            INSERT INTO chunks (document_id, ordinal, content, chunk_type, metadata, content_hash, embedding_status, retry_count, created_at, updated_at)
            VALUES ({document}, 9, 'Snapshots of the volume are replicated to the standby region hourly.', 'text',
                    '{JsonSerializer.Serialize(new Dictionary<string, object> { ["_vector_source"] = "x", ["breadcrumbs"] = new[] { "Backups", "Replication" } })}',
                    'hash-9', 'Pending', 0, '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z');
            UPDATE chunks SET content = 'Dumps are encrypted with the vault key before upload.' WHERE content LIKE '%dumped nightly%';
            DELETE FROM chunks WHERE content LIKE '%scratch server%';
            """);

        var inserted = ps.Run("Search-SemanticIndex 'replicated standby region' -Mode Keyword -Database index.db").AssertNoErrors().Output;
        var updated = ps.Run("Search-SemanticIndex 'encrypted vault' -Mode Keyword -Database index.db").AssertNoErrors().Output;
        var oldWords = ps.Run("Search-SemanticIndex 'nightly thirty-five' -Mode Keyword -Database index.db").AssertNoErrors().Output;
        var deleted = ps.Run("Search-SemanticIndex 'scratch' -Mode Keyword -Database index.db").AssertNoErrors().Output;

        Assert.Equal("Backups > Replication", Assert.Single(inserted).Text("Section"));
        Assert.Contains("vault key", Assert.Single(updated).Text("Content"));
        Assert.Empty(oldWords);
        Assert.Empty(deleted);
    }

    [Fact]
    public void A_legacy_layout_index_is_searchable_by_keyword_after_its_upgrade()
    {
        Db.Execute(Database, """
            CREATE TABLE chunks(id INTEGER PRIMARY KEY, content TEXT NOT NULL, chunk_type TEXT, language TEXT);
            INSERT INTO chunks VALUES (1, 'The legacy firewall allows port 8443 from the bastion only.', 'text', NULL);
            INSERT INTO chunks VALUES (2, 'netsh advfirewall show allprofiles', 'code', 'cmd');
            """);
        using var ps = module.NewSession(dir.Path);

        var hits = ps.Run("Search-SemanticIndex 'bastion port' -Database index.db").AssertNoErrors().Output;

        var hit = Assert.Single(hits);
        Assert.Equal(1L, hit.Long("ChunkId"));
        Assert.Null(hit.PropOrNull("DocumentPath"));
        Assert.Equal("Ready", hit.Text("Status"));
    }

    [Fact]
    public void Keeping_a_chunk_does_not_touch_the_keyword_index_and_a_title_change_reindexes_it()
    {
        using var ps = SeedReady();
        var kept = ChunkIdContaining("scratch server");
        var before = KeywordIndexState();

        // What a re-import does to a kept chunk, and what a sync does: ordinal, status, timestamps.
        Db.Execute(Database, $"UPDATE chunks SET ordinal = ordinal + 10, embedding_status = 'Pending', batch_job_id = NULL, updated_at = 'now' WHERE id = {kept}");
        Assert.Equal(before, KeywordIndexState());

        // A title changed by any writer (module 0.1.0 after a rollback, plain SQL) re-indexes the document's chunks.
        Db.Execute(Database, "UPDATE documents SET title = 'Disaster recovery' WHERE source_path LIKE '%backups.md'");
        var byNewTitle = ps.Run("Search-SemanticIndex 'disaster recovery' -Mode Keyword -Database index.db").AssertNoErrors().Output;
        Db.Execute(Database, "UPDATE documents SET title = 'Business continuity' WHERE source_path LIKE '%backups.md'");
        var byOldTitle = ps.Run("Search-SemanticIndex 'disaster' -Mode Keyword -Database index.db").AssertNoErrors().Output;
        Assert.Contains(byNewTitle, h => h.Long("ChunkId") == kept);
        Assert.All(byNewTitle, h => Assert.Equal("Disaster recovery", h.Text("Title")));
        Assert.Empty(byOldTitle);
    }

    private string KeywordIndexState() =>
        Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("|",
            Db.Rows(Database, "SELECT id, hex(block) FROM chunks_fts_data ORDER BY id").Select(r => $"{r[0]}:{r[1]}")))));

    [Fact]
    public async Task A_Gemini_index_embeds_the_query_as_RETRIEVAL_QUERY_with_the_default_key_only()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", GeminiFake.BatchKey), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteKnowledgeBase();
        using var ps = module.NewSession(dir.Path);
        var keys = GeminiFake.KeyVariables();
        ps.Run("Import-SemanticDocument kb/* -Database index.db -Mode Sync -ApiKey $ApiKey", keys).AssertNoErrors();
        var before = gemini.Server.Requests.Count;

        var hits = ps.Run("Search-SemanticIndex 'gateway certificate rotation' -Database index.db -ApiKey $ApiKey", keys).AssertNoErrors().Output;

        var request = Assert.Single(gemini.Server.Requests.Skip(before));
        Assert.Equal("/v1beta/models/gemini-embedding-001:batchEmbedContents", request.Path);
        Assert.Equal(GeminiFake.DefaultKey, request.Header("x-goog-api-key"));
        using var body = JsonDocument.Parse(request.Body!);
        var item = Assert.Single(body.RootElement.GetProperty("requests").EnumerateArray());
        Assert.Equal("RETRIEVAL_QUERY", item.GetProperty("taskType").GetString());
        Assert.Equal(768, item.GetProperty("outputDimensionality").GetInt32());
        Assert.Equal("gateway certificate rotation", item.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.NotEmpty(hits);
        Assert.Contains(hits, h => h.Text("MatchedBy") == "Keyword, Semantic");
        Assert.DoesNotContain(gemini.Server.Requests, r => r.Header("x-goog-api-key") == GeminiFake.BatchKey);
    }

    [Fact]
    public async Task Without_a_default_key_Hybrid_answers_from_keywords_with_a_warning_and_Semantic_fails()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_BATCH_API_KEY", GeminiFake.BatchKey), ("GEMINI_API_KEY", null), ("GOOGLE_API_KEY", null));
        WriteKnowledgeBase();
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/* -Database index.db -Mode Sync -ApiKey $ApiKey", GeminiFake.KeyVariables()).AssertNoErrors();
        var before = gemini.Server.Requests.Count;

        var hybrid = ps.Run("'scratch server row counts', 'gateway certificate' | Search-SemanticIndex -Database index.db").AssertNoErrors();
        var semantic = ps.Run("Search-SemanticIndex 'restore drill' -Mode Semantic -Database index.db");

        Assert.Equal(ChunkIdContaining("scratch server"), hybrid.Output[0].Long("ChunkId"));
        Assert.All(hybrid.Output, h => Assert.Equal("Keyword", h.Text("MatchedBy")));
        var warning = Assert.Single(hybrid.Warnings); // once per command, not once per query
        Assert.Contains("keywords only", warning);
        Assert.Contains("API key", warning);
        BatchTestKit.AssertTerminating(semantic, "ApiKeyMissing", ErrorCategory.AuthenticationError);
        Assert.Equal(before, gemini.Server.Requests.Count); // the batch key is never used for a query
    }

    [Fact]
    public async Task When_the_service_refuses_the_query_Hybrid_falls_back_and_Semantic_reports_the_APIs_error()
    {
        await using var gemini = await GeminiFake.StartAsync();
        using var env = BatchTestKit.Environment(("GEMINI_API_KEY", GeminiFake.DefaultKey), ("GOOGLE_API_KEY", null));
        WriteKnowledgeBase();
        using var ps = module.NewSession(dir.Path);
        ps.Run("Import-SemanticDocument kb/* -Database index.db -Mode Sync").AssertNoErrors();

        gemini.Server.FailNextRequests(":batchEmbedContents", 1, 400);
        var hybrid = ps.Run("Search-SemanticIndex 'scratch server row counts' -Database index.db").AssertNoErrors();
        gemini.Server.FailNextRequests(":batchEmbedContents", 1, 400);
        var semantic = ps.Run("'restore drill', 'gateway' | Search-SemanticIndex -Mode Semantic -Database index.db");

        Assert.Equal(ChunkIdContaining("scratch server"), hybrid.Output[0].Long("ChunkId"));
        Assert.Contains("keywords only", Assert.Single(hybrid.Warnings));
        // The first query fails on its own; the second one is answered.
        BatchTestKit.AssertErrors(semantic, "GeminiBadRequest", ErrorCategory.InvalidArgument, 1);
        Assert.NotEmpty(semantic.Output);
        Assert.All(semantic.Output, h => Assert.Equal("gateway", h.Text("Query")));
    }

    public void Dispose() => dir.Dispose();
}
