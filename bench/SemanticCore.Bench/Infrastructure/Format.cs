using System.Globalization;

namespace SemanticCore.Bench.Infrastructure;

/// <summary>Every number in the report, formatted with the invariant culture.</summary>
internal static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Milliseconds: three decimals below 10 ms, two below 1,000 ms, one above.</summary>
    public static string Ms(double ms) => ms.ToString(ms < 10 ? "0.000" : ms < 1000 ? "0.00" : "0.0", Invariant);

    public static string Ratio(double ratio) => ratio.ToString(ratio < 10 ? "0.00" : "0.0", Invariant) + "x";

    public static string Mb(double mb) => mb.ToString("0.0", Invariant);

    public static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0", Invariant) + " s";

    public static string Count(long n) => n.ToString("N0", Invariant);

    public static string Fixed(double value, int decimals) => value.ToString("F" + decimals.ToString(Invariant), Invariant);

    public static string Bytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", Invariant) + " MB";
}
