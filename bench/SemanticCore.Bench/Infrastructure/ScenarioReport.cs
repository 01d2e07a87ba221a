namespace SemanticCore.Bench.Infrastructure;

/// <summary>A plain table: a header row and rows of already formatted cells.</summary>
internal sealed class ReportTable(params string[] headers)
{
    public IReadOnlyList<string> Headers { get; } = headers;
    public List<string[]> Rows { get; } = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != Headers.Count) throw new ArgumentException($"{cells.Length} cells for {Headers.Count} columns.", nameof(cells));
        Rows.Add(cells);
    }
}

/// <summary>One row of the standard timing table.</summary>
/// <param name="Ratio">Baseline median / this row's median; null where no baseline applies.</param>
/// <param name="Memory">Null where the row's memory was not measured in this process.</param>
internal sealed record TimingRow(string Scenario, Timings Timings, double? Ratio, MemoryUse? Memory)
{
    public static readonly string[] Columns = ["scenario", "median ms", "min ms", "ratio vs baseline", "peak working set MB", "managed growth MB"];

    public string[] Cells() =>
    [
        Scenario,
        Format.Ms(Timings.Median),
        Format.Ms(Timings.Min),
        Ratio is { } r ? Format.Ratio(r) : "—",
        Memory is { } m ? Format.Mb(m.PeakWorkingSetMb) : "—",
        Memory is { } g ? Format.Mb(g.ManagedGrowthMb) : "—",
    ];
}

/// <summary>What a scenario hands to the report: setup lines, one table, notes, and failures (exit code 1).</summary>
internal sealed class ScenarioReport(string title, ReportTable table)
{
    public string Title { get; } = title;
    public ReportTable Table { get; } = table;
    /// <summary>Lines printed above the table: what was set up (sizes, data, setup times that are not results).</summary>
    public List<string> Setup { get; } = [];
    /// <summary>Lines printed below the table.</summary>
    public List<string> Notes { get; } = [];
    /// <summary>Each a reason the run fails; printed as "FAIL ..." lines.</summary>
    public List<string> Failures { get; } = [];
    /// <summary>Printed as "WARN ..." lines; do not fail the run.</summary>
    public List<string> Warnings { get; } = [];

    public static ScenarioReport ForTimings(string title, IEnumerable<TimingRow> rows)
    {
        var table = new ReportTable(TimingRow.Columns);
        foreach (var row in rows) table.Add(row.Cells());
        return new ScenarioReport(title, table);
    }
}
