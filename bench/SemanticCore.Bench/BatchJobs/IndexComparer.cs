using System.Globalization;
using System.Runtime.InteropServices;
using SemanticCore.Bench.Infrastructure;

namespace SemanticCore.Bench.BatchJobs;

/// <summary>How two indexes' chunk_vectors compare, row by row in chunk id order.</summary>
internal sealed record VectorComparison(long Identical, long WithinTolerance, long Different, long OnlyInFirst, long OnlyInSecond, double MaxDifference)
{
    public bool SameSet => OnlyInFirst == 0 && OnlyInSecond == 0;
}

/// <summary>
/// Compares two index files by streaming the same ordered query on both side by side (nothing is held in memory
/// but the current rows), so two 100,000-chunk indexes compare in seconds.
/// </summary>
internal static class IndexComparer
{
    /// <summary>The rows of <paramref name="sql"/> (an ORDER BY query) must be identical; returns the first few differences.</summary>
    public static List<string> SameRows(string first, string second, string sql, string what, int limit = 5)
    {
        var differences = new List<string>();
        using var a = IndexFile.Connect(first, readOnly: true);
        using var b = IndexFile.Connect(second, readOnly: true);
        using var queryA = a.CreateCommand();
        using var queryB = b.CreateCommand();
        queryA.CommandText = queryB.CommandText = sql;
        using var rowsA = queryA.ExecuteReader();
        using var rowsB = queryB.ExecuteReader();
        long row = 0;
        while (true)
        {
            var hasA = rowsA.Read();
            var hasB = rowsB.Read();
            if (!hasA && !hasB) break;
            row++;
            if (hasA != hasB)
            {
                differences.Add($"{what}: {(hasA ? "the first" : "the second")} has more rows (from row {row}).");
                break;
            }

            for (var i = 0; i < rowsA.FieldCount && differences.Count < limit; i++)
            {
                var x = rowsA.GetValue(i);
                var y = rowsB.GetValue(i);
                if (!SameValue(x, y)) differences.Add($"{what}, row {row} ({rowsA.GetName(0)} {rowsA.GetValue(0)}): {rowsA.GetName(i)} is {Show(x)} vs {Show(y)}.");
            }

            if (differences.Count >= limit) break;
        }

        return differences;
    }

    /// <summary>
    /// chunk_vectors of two indexes: the same chunk ids, and per vector either byte-identical BLOBs or every float
    /// within <paramref name="tolerance"/>.
    /// </summary>
    public static VectorComparison Vectors(string first, string second, double tolerance)
    {
        const string sql = "SELECT chunk_id, vector FROM chunk_vectors ORDER BY chunk_id";
        using var a = IndexFile.Connect(first, readOnly: true);
        using var b = IndexFile.Connect(second, readOnly: true);
        using var queryA = a.CreateCommand();
        using var queryB = b.CreateCommand();
        queryA.CommandText = queryB.CommandText = sql;
        using var rowsA = queryA.ExecuteReader();
        using var rowsB = queryB.ExecuteReader();
        long identical = 0, within = 0, different = 0, onlyA = 0, onlyB = 0;
        double maxDifference = 0;
        var hasA = rowsA.Read();
        var hasB = rowsB.Read();
        while (hasA || hasB)
        {
            var idA = hasA ? rowsA.GetInt64(0) : long.MaxValue;
            var idB = hasB ? rowsB.GetInt64(0) : long.MaxValue;
            if (idA < idB)
            {
                onlyA++;
                hasA = rowsA.Read();
                continue;
            }

            if (idB < idA)
            {
                onlyB++;
                hasB = rowsB.Read();
                continue;
            }

            var blobA = (byte[])rowsA.GetValue(1);
            var blobB = (byte[])rowsB.GetValue(1);
            if (blobA.AsSpan().SequenceEqual(blobB))
            {
                identical++;
            }
            else
            {
                var difference = MaxAbsDifference(blobA, blobB);
                maxDifference = Math.Max(maxDifference, difference);
                if (difference <= tolerance) within++;
                else different++;
            }

            hasA = rowsA.Read();
            hasB = rowsB.Read();
        }

        return new VectorComparison(identical, within, different, onlyA, onlyB, maxDifference);
    }

    private static double MaxAbsDifference(byte[] a, byte[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        var x = MemoryMarshal.Cast<byte, float>(a);
        var y = MemoryMarshal.Cast<byte, float>(b);
        double max = 0;
        for (var i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs((double)x[i] - y[i]));
        return max;
    }

    private static bool SameValue(object x, object y) =>
        x is byte[] bx && y is byte[] by ? bx.AsSpan().SequenceEqual(by) : Equals(x, y);

    private static string Show(object value) => value switch
    {
        DBNull => "NULL",
        byte[] bytes => $"a {bytes.Length}-byte BLOB",
        string text => $"'{text}'",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?",
    };
}
