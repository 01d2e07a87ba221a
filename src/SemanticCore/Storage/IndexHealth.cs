using System.Data.Common;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>The health rules of an index that need nothing but the index (Test-SemanticIndex adds the keys). Read-only.</summary>
public static class IndexHealth
{
    public static IEnumerable<IndexCheck> Check(SemanticIndex index, TimeSpan pendingAge, TimeSpan jobAge)
    {
        var store = index.Maintenance;
        var now = DateTimeOffset.UtcNow;
        var rules = new (string Name, Func<IndexCheck> Run)[]
        {
            ("FailedChunks", () =>
            {
                var failed = store.FailedChunkIds();
                return Result(index, "FailedChunks", [.. failed],
                    failed.Count == 0 ? "No chunk is Failed." : $"{failed.Count} chunk(s) failed for good: see Get-ChunkStatus -Status Failed, fix the cause, then Reset-ChunkStatus.");
            }),
            ("StalePending", () =>
            {
                var stale = store.PendingChunkIdsBefore(now - pendingAge);
                return Result(index, "StalePending", [.. stale],
                    stale.Count == 0 ? $"No chunk has waited in Pending longer than {pendingAge.TotalHours:0.#} h." : $"{stale.Count} chunk(s) have waited in Pending longer than {pendingAge.TotalHours:0.#} h: is Invoke-BatchFlush scheduled, with a batch key?");
            }),
            ("LongRunningJobs", () =>
            {
                var jobs = store.ActiveJobIdsBefore(now - jobAge);
                return Result(index, "LongRunningJobs", [.. jobs],
                    jobs.Count == 0 ? $"No batch job has been active longer than {jobAge.TotalHours:0.#} h." : $"{jobs.Count} batch job(s) active longer than {jobAge.TotalHours:0.#} h: run Sync-BatchJob (the service expires jobs after 48 h), or Stop-BatchJob.");
            }),
            ("MissingSources", () =>
            {
                var missing = index.Documents.Find(new DocumentFilter { Missing = true }).Select(d => (object)d.Path).ToList();
                return Result(index, "MissingSources", missing,
                    missing.Count == 0 ? "Every document's source file exists." : $"{missing.Count} document(s) whose source file is gone: Get-SemanticDocument -Missing | Remove-SemanticDocument, or Sync-SemanticFolder.");
            }),
            ("KeywordIndex", () =>
            {
                // Chunks missing from the keyword index can't be found by keyword.
                var (notIndexed, orphaned) = store.FindKeywordIndexDrift();
                return Result(index, "KeywordIndex", [.. notIndexed, .. orphaned],
                    notIndexed.Count + orphaned.Count == 0 ? "The keyword index holds exactly the index's chunks."
                        : $"The keyword index misses {notIndexed.Count} chunk(s) and holds {orphaned.Count} that no longer exist: a program wrote the file without its triggers. Restore a backup, or report it.");
            }),
            ("Integrity", () =>
            {
                var (name, problems) = store.CheckIntegrity();
                return Result(index, "Integrity", [.. problems],
                    problems.Count == 0 ? $"{name}: ok." : $"{name} found {problems.Count} problem(s): restore a backup (Backup-SemanticIndex makes them).");
            }),
        };

        foreach (var (name, run) in rules)
        {
            IndexCheck check;
            try
            {
                check = run();
            }
            catch (DbException ex)
            {
                // A damaged page met by this rule's query fails the rule; the others still run.
                check = Result(index, name, [ex.Message], $"The check could not read the index: {ex.Message}. Restore a backup (Backup-SemanticIndex makes them).");
            }

            yield return check;
        }
    }

    private static IndexCheck Result(SemanticIndex index, string name, List<object> items, string message) => new()
    {
        Name = name,
        Passed = items.Count == 0,
        Count = items.Count,
        Message = message,
        Items = [.. items],
        Database = index.DatabasePath,
    };
}
