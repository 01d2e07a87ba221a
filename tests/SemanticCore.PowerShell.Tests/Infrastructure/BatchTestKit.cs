using System.Management.Automation;
using System.Text;
using System.Text.Json;
using FakeGemini;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>Shared pieces of the batch, key and keyring tests: corpora, environment scopes, secret scans.</summary>
public static class BatchTestKit
{
    /// <summary>
    /// Writes <paramref name="documents"/> Markdown files of <paramref name="sections"/> short sections each under
    /// <paramref name="folder"/>; every section becomes exactly one chunk with a text unique to <paramref name="tag"/>.
    /// Returns the number of chunks (documents × sections).
    /// </summary>
    public static int WriteCorpus(TestDirectory dir, string folder, int documents, int sections, string tag = "doc")
    {
        for (var doc = 0; doc < documents; doc++)
        {
            var text = new StringBuilder($"# {tag} runbook {doc}\n\n");
            for (var section = 0; section < sections; section++)
            {
                text.Append($"## Step {section}\n\nOn host {tag}-{doc}-{section}, restart the queue worker and check the log for error {doc * 1000 + section}.\n\n");
            }

            dir.Write($"{folder}/{tag}-{doc:D3}.md", text.ToString());
        }

        return documents * sections;
    }

    /// <summary>Sets (or removes, with null) process environment variables and restores the previous values on dispose.</summary>
    public static IDisposable Environment(params (string Name, string? Value)[] variables) => new EnvironmentScope(variables);

    /// <summary>The chunk ids of an index, in id order.</summary>
    public static List<long> ChunkIds(string database, string where = "1 = 1") =>
        Db.Rows(database, $"SELECT id FROM chunks WHERE {where} ORDER BY id").Select(r => (long)r[0]!).ToList();

    /// <summary>The keys of the lines of an uploaded JSONL input file.</summary>
    public static List<string> KeysOf(byte[] jsonl) =>
        Encoding.UTF8.GetString(jsonl).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line =>
            {
                using var json = JsonDocument.Parse(line);
                return json.RootElement.GetProperty("key").GetString()!;
            })
            .ToList();

    /// <summary>A terminating error with this ErrorId (FullyQualifiedErrorId is "Id,Command") and category.</summary>
    public static ErrorRecord AssertTerminating(PsResult result, string errorId, ErrorCategory category)
    {
        Assert.True(result.Terminating is not null,
            $"Expected the terminating error {errorId}; got none. Errors: " + string.Join("; ", result.Errors.Select(e => e.FullyQualifiedErrorId)));
        var error = result.Terminating!;
        Assert.Equal(errorId, error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(category, error.CategoryInfo.Category);
        return error;
    }

    /// <summary>The non-terminating errors of a run, each with this ErrorId and category.</summary>
    public static IReadOnlyList<ErrorRecord> AssertErrors(PsResult result, string errorId, ErrorCategory category, int count)
    {
        Assert.True(result.Terminating is null, "Unexpected terminating error: " + result.Terminating);
        Assert.True(result.Errors.Count == count,
            $"Expected {count} error(s) {errorId}; got: " + string.Join("; ", result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        Assert.All(result.Errors, e =>
        {
            Assert.Equal(errorId, e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(category, e.CategoryInfo.Category);
        });
        return result.Errors;
    }

    /// <summary>Every text an ErrorRecord can show: its ToString, message, inner exceptions, details, target.</summary>
    public static string ErrorTexts(ErrorRecord? error)
    {
        if (error is null) return "";
        var text = new StringBuilder();
        text.AppendLine(error.ToString());
        text.AppendLine(error.FullyQualifiedErrorId);
        text.AppendLine(error.CategoryInfo.ToString());
        text.AppendLine(error.ErrorDetails?.Message);
        text.AppendLine(error.ErrorDetails?.RecommendedAction);
        text.AppendLine(error.TargetObject?.ToString());
        for (var e = error.Exception; e is not null; e = e.InnerException)
        {
            text.AppendLine(e.Message);
            text.AppendLine(e.ToString());
        }

        return text.ToString();
    }

    /// <summary>Fails when <paramref name="secret"/> occurs in the bytes (as UTF-8, UTF-16LE or UTF-16BE).</summary>
    public static void AssertNotInBytes(string secret, byte[] bytes, string where)
    {
        foreach (var encoding in new Encoding[] { Encoding.UTF8, Encoding.Unicode, Encoding.BigEndianUnicode })
        {
            Assert.False(bytes.AsSpan().IndexOf(encoding.GetBytes(secret)) >= 0, $"A key was found in {where} ({encoding.WebName}).");
        }
    }

    /// <summary>Reads a file even while SQLite holds it open.</summary>
    public static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Requests the fake received whose path is an interactive embedding call.</summary>
    public static bool IsInteractiveEmbed(RecordedRequest request) =>
        request.Path.EndsWith(":batchEmbedContents", StringComparison.Ordinal) || request.Path.EndsWith(":embedContent", StringComparison.Ordinal);

    private sealed class EnvironmentScope : IDisposable
    {
        private readonly List<(string Name, string? Previous)> previous = [];

        public EnvironmentScope((string Name, string? Value)[] variables)
        {
            foreach (var (name, value) in variables)
            {
                previous.Add((name, System.Environment.GetEnvironmentVariable(name)));
                System.Environment.SetEnvironmentVariable(name, value);
            }
        }

        public void Dispose()
        {
            foreach (var (name, value) in Enumerable.Reverse(previous)) System.Environment.SetEnvironmentVariable(name, value);
        }
    }
}
