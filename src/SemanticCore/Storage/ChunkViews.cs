using System.Text;
using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>How stored chunk data is shown, whichever store read it: the one-line preview and the status summary rows.</summary>
internal static class ChunkViews
{
    /// <summary>The preview's length in characters; a store reads twice as many, since whitespace runs collapse.</summary>
    public const int PreviewLength = 80;

    /// <summary>The start of <paramref name="content"/> on one line (whitespace runs as one space), with '…' when cut.</summary>
    public static string Preview(string content)
    {
        var builder = new StringBuilder(PreviewLength + 1);
        var lastWasSpace = true;
        foreach (var c in content)
        {
            if (builder.Length >= PreviewLength) return builder.Append('…').ToString();
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                if (!lastWasSpace) builder.Append(' ');
                lastWasSpace = true;
            }
            else
            {
                builder.Append(c);
                lastWasSpace = false;
            }
        }

        return builder.ToString().TrimEnd();
    }

    /// <summary>One row per status (all four, zeros included, in lifecycle order) and a Total row, from the counts a store read.</summary>
    /// <param name="counts">Chunks and distinct documents per status; a status not given counts zero.</param>
    /// <param name="totalDocuments">Distinct documents over all the statuses.</param>
    public static IReadOnlyList<ChunkStatusSummary> Summary(IReadOnlyDictionary<EmbeddingStatus, (long Chunks, long Documents)> counts, long totalDocuments, string database)
    {
        var total = counts.Values.Sum(c => c.Chunks);
        var rows = Enum.GetValues<EmbeddingStatus>().Select(status =>
        {
            var (chunks, documents) = counts.GetValueOrDefault(status);
            return new ChunkStatusSummary { Status = status.ToString(), Chunks = chunks, Documents = documents, Percent = Percent(chunks, total), Database = database };
        }).ToList();
        rows.Add(new ChunkStatusSummary { Status = ChunkStatusSummary.TotalStatus, Chunks = total, Documents = totalDocuments, Percent = total == 0 ? 0 : 100, Database = database });
        return rows;
    }

    /// <summary>To one decimal, but never 0.0 or 100.0 when some, but not all, chunks are in the status.</summary>
    private static double Percent(long part, long total) =>
        total == 0 || part == 0 ? 0 : part == total ? 100 : Math.Clamp(Math.Round(100.0 * part / total, 1), 0.1, 99.9);
}
