namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// What must hold in an index after any command ends, whatever happened during it: the lifecycle's states,
/// vectors, jobs and keyword index agree with each other, and an SQLite file is intact. Tests call it after
/// races, recoveries, stops and removals, on either backend.
/// </summary>
public static class Invariants
{
    public static void AssertHold(string database)
    {
        var problems = new List<string>();
        void Expect(string what, string sql)
        {
            var count = Db.Scalar<long>(database, sql);
            if (count != 0) problems.Add($"{what}: {count}");
        }

        var postgres = Db.IsPostgres(database);
        if (!postgres) Assert.Equal("ok", Db.Scalar<string>(database, "PRAGMA integrity_check"));
        Expect("chunks in no known state", "SELECT COUNT(*) FROM chunks WHERE embedding_status NOT IN ('Pending', 'Submitted', 'Ready', 'Failed')");
        Expect("Submitted chunks outside an active job",
            "SELECT COUNT(*) FROM chunks c LEFT JOIN batch_jobs j ON j.id = c.batch_job_id WHERE c.embedding_status = 'Submitted' AND (j.id IS NULL OR j.status NOT IN ('Created', 'Submitted', 'Running'))");
        Expect("Ready chunks without a vector of the index's model and dimension", $$"""
            SELECT COUNT(*) FROM chunks c WHERE c.embedding_status = 'Ready' AND NOT EXISTS (
                SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id
                  AND v.model = (SELECT value FROM settings WHERE key = 'model')
                  AND v.dimensions = CAST((SELECT value FROM settings WHERE key = 'dimensions') AS INTEGER)
                  AND {{(postgres ? "cardinality(v.embedding::real[]) = v.dimensions" : "length(v.vector) = 4 * v.dimensions")}})
            """);
        Expect("vectors of no chunk", "SELECT COUNT(*) FROM chunk_vectors WHERE chunk_id NOT IN (SELECT id FROM chunks)");
        Expect("chunks of no document", "SELECT COUNT(*) FROM chunks WHERE document_id IS NOT NULL AND document_id NOT IN (SELECT id FROM documents)");
        if (postgres)
        {
            // The keyword document lives on the chunk's row (kept by a trigger), so it can only be missing.
            Expect("chunks missing from the keyword index", "SELECT COUNT(*) FROM chunks WHERE search IS NULL");
        }
        else
        {
            Expect("chunks missing from the keyword index", "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT id FROM chunks_fts_docsize)");
            Expect("keyword entries of no chunk", "SELECT COUNT(*) FROM chunks_fts_docsize WHERE id NOT IN (SELECT id FROM chunks)");
        }

        Expect("finished jobs whose outcomes exceed their requests",
            "SELECT COUNT(*) FROM batch_jobs WHERE succeeded_count + failed_count + retried_count > request_count");
        Assert.True(problems.Count == 0, "Invariants broken:\n" + string.Join("\n", problems));
    }
}
