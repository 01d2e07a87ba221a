using System.Runtime.InteropServices;
using SemanticCore.Gemini;

namespace SemanticCore.Batches;

/// <summary>
/// Puts a job's output lines in chunk id order with bounded memory, so that results are stored in the
/// order of the file's rows and pages however the service ordered its output (storing shuffled lines
/// touches pages all over the file in every transaction). Lines are gathered in runs of
/// <see cref="RunLines"/>; each run is sorted and, when there is more than one, spilled to a temporary
/// file; the runs are then merged. Equal keys are ordered by line number, so of two lines with one key
/// the first in the file still comes first, in whatever order the lines were added (parsing threads).
/// </summary>
internal sealed class KeyOrderedLines : IDisposable
{
    /// <summary>Lines held in memory at most (about 30 MB of vectors at 768 dimensions).</summary>
    public const int RunLines = 10_000;

    private readonly List<BatchOutputLine> run = new(RunLines);
    private readonly List<(long Offset, long Length)> spilled = [];
    private FileStream? spill;

    /// <summary>Chunk id, then line number. Malformed lines and keys that are not chunk ids sort first: they touch no row.</summary>
    public static (long Key, long LineNumber) SortKey(BatchOutputLine line) => (long.TryParse(line.Key, out var id) ? id : long.MinValue, line.LineNumber);

    public void Add(BatchOutputLine line)
    {
        run.Add(line);
        if (run.Count == RunLines) Spill();
    }

    /// <summary>Every line added, in key order.</summary>
    public IEnumerable<BatchOutputLine> Ordered()
    {
        if (spill is null) return run.OrderBy(SortKey);
        if (run.Count > 0) Spill();
        spill.Flush(); // the runs are read back through their own handles
        return Merge();
    }

    public void Dispose() => spill?.Dispose();

    private void Spill()
    {
        // DeleteOnClose: the runs hold the documents' vectors only as long as the sync runs, whatever ends it.
        spill ??= new FileStream(Path.Combine(Path.GetTempPath(), $"semanticcore-sync-{Guid.NewGuid():N}.runs"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.DeleteOnClose);
        var start = spill.Position;
        using (var writer = new BinaryWriter(spill, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            foreach (var line in run.OrderBy(SortKey)) Write(writer, line);
        }

        spilled.Add((start, spill.Position - start));
        run.Clear();
    }

    private IEnumerable<BatchOutputLine> Merge()
    {
        var readers = spilled.Select(s => new RunReader(spill!.Name, s.Offset, s.Length)).ToList();
        try
        {
            var next = new PriorityQueue<int, (long Key, long LineNumber)>();
            for (var i = 0; i < readers.Count; i++)
            {
                if (readers[i].TryRead() is { } first) next.Enqueue(i, SortKey(first));
            }

            while (next.TryDequeue(out var i, out _))
            {
                var line = readers[i].Current!;
                if (readers[i].TryRead() is { } following) next.Enqueue(i, SortKey(following));
                yield return line;
            }
        }
        finally
        {
            foreach (var reader in readers) reader.Dispose();
        }
    }

    private static void Write(BinaryWriter writer, BatchOutputLine line)
    {
        writer.Write(line.LineNumber);
        writer.Write(line.IsMalformed);
        WriteString(writer, line.Key);
        WriteString(writer, line.ErrorStatus);
        WriteString(writer, line.ErrorMessage);
        writer.Write(line.ErrorCode ?? int.MinValue);
        writer.Write(line.TokenCount ?? long.MinValue);
        writer.Write(line.Values?.Length ?? -1);
        if (line.Values is { } values) writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static void WriteString(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null) writer.Write(value);
    }

    /// <summary>Reads one spilled run back, line by line, through its own handle on the file.</summary>
    private sealed class RunReader : IDisposable
    {
        private readonly FileStream stream;
        private readonly BinaryReader reader;
        private readonly long end;

        public RunReader(string path, long offset, long length)
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
            stream.Position = offset;
            end = offset + length;
            reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        }

        public BatchOutputLine? Current { get; private set; }

        public BatchOutputLine? TryRead()
        {
            if (stream.Position >= end) return Current = null;
            var lineNumber = reader.ReadInt64();
            var malformed = reader.ReadBoolean();
            var key = ReadString();
            var status = ReadString();
            var message = ReadString();
            var code = reader.ReadInt32();
            var tokens = reader.ReadInt64();
            var count = reader.ReadInt32();
            float[]? values = null;
            if (count >= 0)
            {
                values = new float[count];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            }

            return Current = new BatchOutputLine
            {
                LineNumber = lineNumber,
                IsMalformed = malformed,
                Key = key,
                ErrorStatus = status,
                ErrorMessage = message,
                ErrorCode = code == int.MinValue ? null : code,
                TokenCount = tokens == long.MinValue ? null : tokens,
                Values = values,
            };
        }

        private string? ReadString() => reader.ReadBoolean() ? reader.ReadString() : null;

        public void Dispose()
        {
            reader.Dispose();
            stream.Dispose();
        }
    }
}
