using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// Looks for secrets in texts and in files' bytes, in every form a key could leak in: as written, any 16
/// characters of it (a truncated message), base64 (standard, URL-safe, unpadded, at any byte alignment inside a
/// larger blob), URL-encoded, hex and JSON-escaped; in bytes as UTF-8, UTF-16LE and UTF-16BE. Findings are
/// collected, not thrown, so that one run reports every leak with where it was.
/// </summary>
public sealed class SecretScanner
{
    /// <summary>Long enough that random bytes (float vectors) or other hex (hashes, job ids) never match by chance.</summary>
    public const int FragmentLength = 16;

    private readonly List<(string Label, string Secret)> secrets = [];
    private readonly List<string> findings = [];
    private readonly object gate = new();
    private Dictionary<string, (string Label, string Form)> textNeedles = new(StringComparer.Ordinal);
    private Dictionary<string, (string Label, string Form)> byteNeedles = new(StringComparer.Ordinal);
    private SearchValues<string>? textSearch;
    private SearchValues<string>? byteSearch;

    /// <summary>Registers a secret under a label that names it in findings (the label, never the secret, is printed).</summary>
    public SecretScanner Add(string label, string secret)
    {
        lock (gate)
        {
            secrets.Add((label, secret));
            textSearch = byteSearch = null;
        }

        return this;
    }

    public IReadOnlyList<string> Findings { get { lock (gate) return findings.ToList(); } }

    /// <summary>How many texts and bytes were scanned: a scan that saw nothing proves nothing.</summary>
    public long TextsScanned { get; private set; }

    public long BytesScanned { get; private set; }

    public TimeSpan ByteScanTime { get; private set; }

    public void Clear()
    {
        lock (gate) findings.Clear();
    }

    /// <summary>Scans a text (a message, a serialized object); records a finding per secret form met.</summary>
    public void ScanText(string? text, string where)
    {
        if (string.IsNullOrEmpty(text)) return;
        var (search, needles) = TextSearch();
        lock (gate) TextsScanned++;
        Scan(text, search, needles, where);
    }

    /// <summary>Scans bytes (a file) for the secrets' forms in UTF-8, UTF-16LE and UTF-16BE.</summary>
    public void ScanBytes(byte[] bytes, string where)
    {
        if (bytes.Length == 0) return;
        var (search, needles) = ByteSearch();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Latin-1 maps each byte to the char of the same value: byte patterns become ordinal string searches.
        Scan(Encoding.Latin1.GetString(bytes), search, needles, where);
        lock (gate)
        {
            BytesScanned += bytes.Length;
            ByteScanTime += clock.Elapsed;
        }
    }

    /// <summary>Scans every file under a folder (as bytes, shared with any writer: SQLite keeps its files open).</summary>
    public int ScanFolder(string folder, string where, Func<string, bool>? include = null)
    {
        var count = 0;
        if (!Directory.Exists(folder)) return 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            if (include is not null && !include(file)) continue;
            if (TryRead(file) is not { } bytes) continue;
            ScanBytes(bytes, $"{where}: file {Path.GetRelativePath(folder, file)}");
            count++;
        }

        return count;
    }

    /// <summary>
    /// A file's bytes, or null when it vanished meanwhile (a temporary file deleted as it was listed) or holds nothing:
    /// empty, or a socket (the runtime's diagnostics socket and PowerShell's host pipe live in the temporary folder).
    /// </summary>
    public static byte[]? TryRead(string path)
    {
        try
        {
            return new FileInfo(path).Length == 0 ? null : BatchTestKit.ReadShared(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private void Scan(string haystack, SearchValues<string> search, Dictionary<string, (string Label, string Form)> needles, string where)
    {
        var span = haystack.AsSpan();
        var offset = 0;
        // One finding per secret and form here; the whole secret stands for its parts (each 16 characters would match too).
        var reported = new HashSet<(string Label, string Family)>();
        while (offset < span.Length)
        {
            var at = span[offset..].IndexOfAny(search);
            if (at < 0) break;
            at += offset;
            foreach (var (needle, (label, form)) in needles)
            {
                if (!span[at..].StartsWith(needle, StringComparison.Ordinal)) continue;
                var encoding = form.IndexOf(',', StringComparison.Ordinal) is var comma and >= 0 ? form[comma..] : "";
                var family = form.StartsWith("characters ", StringComparison.Ordinal) ? "part" + encoding : form;
                if (form.StartsWith("as is", StringComparison.Ordinal)) reported.Add((label, "part" + encoding));
                if (!reported.Add((label, family))) continue;
                lock (gate) findings.Add($"{label} ({form}) in {where}");
            }

            offset = at + 1;
        }
    }

    private (SearchValues<string>, Dictionary<string, (string Label, string Form)>) TextSearch()
    {
        lock (gate)
        {
            if (textSearch is null)
            {
                textNeedles = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
                foreach (var (label, secret) in secrets)
                {
                    foreach (var (form, text) in Forms(secret)) textNeedles.TryAdd(text, (label, form));
                }

                textSearch = SearchValues.Create(textNeedles.Keys.ToArray(), StringComparison.Ordinal);
            }

            return (textSearch, textNeedles);
        }
    }

    private (SearchValues<string>, Dictionary<string, (string Label, string Form)>) ByteSearch()
    {
        lock (gate)
        {
            if (byteSearch is null)
            {
                byteNeedles = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
                foreach (var (label, secret) in secrets)
                {
                    foreach (var (form, text) in Forms(secret))
                    {
                        foreach (var encoding in new[] { Encoding.UTF8, Encoding.Unicode, Encoding.BigEndianUnicode })
                        {
                            byteNeedles.TryAdd(Encoding.Latin1.GetString(encoding.GetBytes(text)), (label, $"{form}, {encoding.WebName}"));
                        }
                    }
                }

                byteSearch = SearchValues.Create(byteNeedles.Keys.ToArray(), StringComparison.Ordinal);
            }

            return (byteSearch, byteNeedles);
        }
    }

    /// <summary>Every form of <paramref name="secret"/> searched for, each with its name.</summary>
    public static IEnumerable<(string Form, string Text)> Forms(string secret)
    {
        yield return ("as is", secret);
        for (var start = 0; start + FragmentLength <= secret.Length; start++)
        {
            yield return ($"characters {start}..{start + FragmentLength - 1}", secret.Substring(start, FragmentLength));
        }

        var bytes = Encoding.UTF8.GetBytes(secret);
        foreach (var base64 in Base64Forms(bytes))
        {
            yield return ("base64", base64);
            yield return ("base64url", base64.Replace('+', '-').Replace('/', '_'));
        }

        var escaped = Uri.EscapeDataString(secret);
        yield return ("URL-encoded", escaped);
        yield return ("URL-encoded, lower-case hex", PercentLower(escaped));
        yield return ("form-encoded", WebUtility.UrlEncode(secret));
        yield return ("hex", Convert.ToHexString(bytes));
        yield return ("hex", Convert.ToHexStringLower(bytes));
        yield return ("JSON-escaped", JsonSerializer.Serialize(secret)[1..^1]);
    }

    /// <summary>
    /// The base64 characters that depend on the secret's bytes alone, at each of the three alignments it can have
    /// inside a larger encoded blob (so "user:key" in a Basic header is caught too).
    /// </summary>
    private static IEnumerable<string> Base64Forms(byte[] bytes)
    {
        for (var lead = 0; lead < 3; lead++)
        {
            var padded = new byte[lead + bytes.Length];
            bytes.CopyTo(padded, lead);
            var encoded = Convert.ToBase64String(padded);
            var first = lead switch { 0 => 0, 1 => 2, _ => 3 };
            var whole = padded.Length / 3 * 4;                         // characters of complete 3-byte groups
            if (whole - first >= 8) yield return encoded[first..whole];
        }

        yield return Convert.ToBase64String(bytes);                    // with its own end and padding
    }

    private static string PercentLower(string escaped)
    {
        var text = new StringBuilder(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '%' && i + 2 < escaped.Length)
            {
                text.Append('%').Append(char.ToLowerInvariant(escaped[i + 1])).Append(char.ToLowerInvariant(escaped[i + 2]));
                i += 2;
            }
            else
            {
                text.Append(escaped[i]);
            }
        }

        return text.ToString();
    }
}
