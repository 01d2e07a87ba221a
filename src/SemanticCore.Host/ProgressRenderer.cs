using System.Management.Automation;
using System.Text;

namespace SemanticCore.Host;

/// <summary>
/// Write-Progress as one line on a terminal's stderr, redrawn in place and erased when done.
/// When stderr is redirected it prints nothing: progress is for watching, and a log full of
/// half-finished bars is harder to read than one without (use -Verbose for a trail).
/// </summary>
internal sealed class ProgressRenderer(TextWriter error, bool enabled)
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private readonly List<(long SourceId, ProgressRecord Record)> _active = [];
    private int _visibleLength;
    private DateTime _lastDraw;

    public void Update(long sourceId, ProgressRecord record)
    {
        if (!enabled)
        {
            return;
        }

        lock (_lock)
        {
            var index = _active.FindIndex(a => a.SourceId == sourceId && a.Record.ActivityId == record.ActivityId);
            if (index >= 0)
            {
                _active.RemoveAt(index);
            }

            if (record.RecordType == ProgressRecordType.Completed)
            {
                RemoveChildren(sourceId, record.ActivityId);
                Draw();
                return;
            }

            // Newest last: the line shows what moved most recently.
            _active.Add((sourceId, record));
            var now = DateTime.UtcNow;
            if (index < 0 || now - _lastDraw >= RedrawInterval)
            {
                _lastDraw = now;
                Draw();
            }
        }
    }

    /// <summary>Erases the bar so other output starts on a clean line; the next update redraws it.</summary>
    public void Hide()
    {
        if (!enabled)
        {
            return;
        }

        lock (_lock)
        {
            Erase();
        }
    }

    private void RemoveChildren(long sourceId, int parentId)
    {
        foreach (var child in _active.Where(a => a.SourceId == sourceId && a.Record.ParentActivityId == parentId).ToList())
        {
            _active.Remove(child);
            RemoveChildren(sourceId, child.Record.ActivityId);
        }
    }

    private void Draw()
    {
        Erase();
        if (_active.Count == 0)
        {
            return;
        }

        var width = Math.Max(20, ConsoleRawUserInterface.ConsoleWindowSize.Width - 1);
        var line = Format(CurrentChain(), width);
        error.Write(line);
        error.Flush();
        _visibleLength = line.Length;
    }

    private void Erase()
    {
        if (_visibleLength == 0)
        {
            return;
        }

        error.Write('\r' + new string(' ', _visibleLength) + '\r');
        error.Flush();
        _visibleLength = 0;
    }

    // The most recently updated activity without children, with its parents: "Outer > Inner".
    private List<ProgressRecord> CurrentChain()
    {
        var (sourceId, leaf) = _active.Last(a => !_active.Any(c => c.SourceId == a.SourceId && c.Record.ParentActivityId == a.Record.ActivityId));
        var chain = new List<ProgressRecord> { leaf };
        for (var parentId = leaf.ParentActivityId; parentId >= 0 && chain.Count < 10;)
        {
            var parent = _active.FirstOrDefault(a => a.SourceId == sourceId && a.Record.ActivityId == parentId).Record;
            if (parent is null)
            {
                break;
            }

            chain.Insert(0, parent);
            parentId = parent.ParentActivityId;
        }

        return chain;
    }

    private static string Format(List<ProgressRecord> chain, int width)
    {
        var head = string.Join(" > ", chain.Select(record =>
            string.IsNullOrWhiteSpace(record.StatusDescription) || record.StatusDescription == record.Activity
                ? record.Activity
                : $"{record.Activity}: {record.StatusDescription}")).ReplaceLineEndings(" ");

        // The bar is the innermost activity's that has a percentage.
        var suffix = new StringBuilder();
        var measured = chain.LastOrDefault(record => record.PercentComplete is >= 0 and <= 100);
        if (measured is not null)
        {
            const int barWidth = 20;
            var filled = measured.PercentComplete * barWidth / 100;
            suffix.Append(" [").Append('#', filled).Append(' ', barWidth - filled).Append("] ")
                .Append(measured.PercentComplete).Append('%');
        }

        if (chain[^1].SecondsRemaining > 0)
        {
            suffix.Append(" (").Append(TimeSpan.FromSeconds(chain[^1].SecondsRemaining).ToString("c")).Append(" left)");
        }

        // Keep the bar and percentage visible; shorten the description instead.
        var room = width - suffix.Length;
        if (head.Length > room)
        {
            head = room > 1 ? head[..(room - 1)] + "…" : string.Empty;
        }

        var line = head + suffix;
        return line.Length > width ? line[..width] : line;
    }
}
