using Npgsql;

namespace SemanticCore.Storage.Postgres;

/// <summary>
/// The Local provider's batch files in the index's <c>local_batch_files</c> table, in parts of at most 8 MB (a job's output
/// can pass bytea's 1 GB), so any host can sync a job another host submitted.
/// </summary>
internal sealed class PostgresBatchFileSpool(NpgsqlConnection connection) : IBatchFileSpool
{
    private const int PartBytes = 8 << 20;

    public bool Exists(string name)
    {
        using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM local_batch_files WHERE name = @name)", connection);
        command.Parameters.AddWithValue("name", name);
        return command.ExecuteScalar() is true;
    }

    public Stream OpenRead(string name) =>
        Exists(name) ? new PartReader(connection, name) : throw new FileNotFoundException($"The local batch file '{name}' is not in the index.", name);

    public Stream OpenWrite(string name) => new PartWriter(connection, name);

    public void Delete(string name)
    {
        // With the parts a killed writer left under a temporary name.
        using var command = new NpgsqlCommand("DELETE FROM local_batch_files WHERE name = @name OR starts_with(name, @partial)", connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("partial", name + ".partial-");
        command.ExecuteNonQuery();
    }

    /// <summary>Reads a file part by part, one query each: no reader stays open on the index's connection between reads.</summary>
    private sealed class PartReader(NpgsqlConnection connection, string name) : Stream
    {
        private byte[] part = [];
        private int offset, next;
        private bool ended;

        public override int Read(byte[] buffer, int index, int count)
        {
            while (offset == part.Length)
            {
                if (ended) return 0;
                using var command = new NpgsqlCommand("SELECT content FROM local_batch_files WHERE name = @name AND part = @part", connection);
                command.Parameters.AddWithValue("name", name);
                command.Parameters.AddWithValue("part", next++);
                if (command.ExecuteScalar() is byte[] content) (part, offset) = (content, 0);
                else ended = true;
            }

            var read = Math.Min(count, part.Length - offset);
            Array.Copy(part, offset, buffer, index, read);
            offset += read;
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Writes parts under a temporary name and renames them in one transaction when disposed: a reader never sees half a file.</summary>
    private sealed class PartWriter(NpgsqlConnection connection, string name) : Stream
    {
        private readonly string temporary = $"{name}.partial-{Guid.NewGuid():N}";
        private readonly MemoryStream buffer = new();
        private int parts;
        private bool done;

        public override void Write(byte[] source, int index, int count)
        {
            while (count > 0)
            {
                var take = Math.Min(count, PartBytes - (int)buffer.Length);
                buffer.Write(source, index, take);
                (index, count) = (index + take, count - take);
                if (buffer.Length == PartBytes) WritePart();
            }
        }

        private void WritePart()
        {
            using var command = new NpgsqlCommand("INSERT INTO local_batch_files (name, part, content, created_at) VALUES (@name, @part, @content, now())", connection);
            command.Parameters.AddWithValue("name", temporary);
            command.Parameters.AddWithValue("part", parts++);
            command.Parameters.AddWithValue("content", buffer.ToArray());
            command.ExecuteNonQuery();
            buffer.SetLength(0);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !done)
            {
                done = true;
                if (buffer.Length > 0 || parts == 0) WritePart();
                using var transaction = connection.BeginTransaction();
                using var rename = new NpgsqlCommand("DELETE FROM local_batch_files WHERE name = @name; UPDATE local_batch_files SET name = @name WHERE name = @temporary", connection, transaction);
                rename.Parameters.AddWithValue("name", name);
                rename.Parameters.AddWithValue("temporary", temporary);
                rename.ExecuteNonQuery();
                transaction.Commit();
            }

            base.Dispose(disposing);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
