using SemanticCore.Storage;

namespace SemanticCore.Tests.Postgres;

public class PostgresBatchFileSpoolTests
{
    [PostgresFact]
    public void A_file_is_stored_in_parts_seen_only_when_whole_and_read_back_byte_for_byte()
    {
        var database = PostgresFactAttribute.NewIndex();
        using var index = SemanticIndex.Open(database, createIfMissing: true, new IndexSettingsRequest(EmbeddingProviderKind.Local));
        using var other = SemanticIndex.Open(database, createIfMissing: false);
        var content = new byte[(8 << 20) * 2 + 12_345]; // three parts
        new Random(7).NextBytes(content);

        using (var writer = index.Spool.OpenWrite("local-files/job.output.jsonl"))
        {
            writer.Write(content, 0, 5_000_000);
            // Another host sees nothing of a file being written.
            Assert.False(other.Spool.Exists("local-files/job.output.jsonl"));
            writer.Write(content, 5_000_000, content.Length - 5_000_000);
        }

        Assert.True(other.Spool.Exists("local-files/job.output.jsonl"));
        using (var reader = other.Spool.OpenRead("local-files/job.output.jsonl"))
        using (var copy = new MemoryStream())
        {
            reader.CopyTo(copy);
            Assert.Equal(content, copy.ToArray());
        }

        other.Spool.Delete("local-files/job.output.jsonl");
        Assert.False(index.Spool.Exists("local-files/job.output.jsonl"));
        Assert.Throws<FileNotFoundException>(() => index.Spool.OpenRead("local-files/job.output.jsonl"));
    }
}
