using System.Text.Json;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.Batches;

/// <summary>Reads batch jobs (<c>Get-BatchJob</c>, completion of job ids).</summary>
public static class BatchJobQueries
{
    public static BatchJob? Find(SemanticIndex index, string jobId) => BatchStore.Find(index, jobId);

    /// <summary>Jobs in creation order, of the given statuses (all when none are given).</summary>
    public static IEnumerable<BatchJob> List(SemanticIndex index, IReadOnlyCollection<BatchJobStatus>? statuses) =>
        statuses is { Count: > 0 }
            ? BatchStore.Query(index, "WHERE status IN (SELECT value FROM json_each($statuses))", ("$statuses", JsonSerializer.Serialize(statuses.Select(s => s.ToString()))))
            : BatchStore.Query(index, "");
}
