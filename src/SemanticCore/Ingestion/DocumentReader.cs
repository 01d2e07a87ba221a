using System.Security.Cryptography;
using System.Text;
using SemanticCore.Chunking;
using SemanticCore.Storage;

namespace SemanticCore.Ingestion;

/// <summary>A document file's text and the hash of its bytes.</summary>
public sealed record DocumentText(string Path, string Text, string ContentHash);

/// <summary>
/// Reads a document file as text, refusing with a clear, stable error what cannot be indexed:
/// unsupported extensions, empty, binary, undecodable or unreadable files.
/// </summary>
public static class DocumentReader
{
    /// <summary>Larger files are refused: a document this big is almost surely data, not prose.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static DocumentText Read(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!DocumentChunker.SupportedExtensions.Contains(extension))
        {
            throw new SemanticCoreException("UnsupportedFileType", FailureKind.InvalidArgument,
                $"'{path}' is not a supported document type ({string.Join(", ", DocumentChunker.SupportedExtensions.Order())}).");
        }

        byte[] bytes;
        try
        {
            // Before anything is opened: a named pipe would block the read, a device never end it.
            if (File.Exists(path) && !FileKind.IsRegular(path))
            {
                throw new SemanticCoreException("NotARegularFile", FailureKind.InvalidArgument,
                    $"'{path}' is not a regular file (a device, a named pipe or a socket): only files are imported.");
            }

            bytes = ReadCapped(path);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new SemanticCoreException("FileUnreadable", FailureKind.ReadError, $"Cannot read '{path}': {ex.Message}", ex);
        }

        var text = Decode(path, bytes);
        // Control characters (escape sequences, form feeds) are dropped by the chunkers: alone, they are nothing to index either.
        if (text.All(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new SemanticCoreException("EmptyFile", FailureKind.InvalidData,
                string.IsNullOrWhiteSpace(text)
                    ? $"'{path}' is empty: there is nothing to index."
                    : $"'{path}' holds only whitespace and control characters: there is nothing to index.");
        }

        return new DocumentText(path, text, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
    }

    /// <summary>
    /// The file's bytes, refused past <see cref="MaxFileBytes"/> whatever its length said: it may grow while read, and
    /// some regular files (those under /proc) report a length of 0 and are only measured by reading them.
    /// </summary>
    private static byte[] ReadCapped(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var length = stream.Length;
        if (length > MaxFileBytes) throw TooLarge(path);
        using var bytes = new MemoryStream((int)length);
        var buffer = new byte[1 << 16];
        while (stream.Read(buffer) is var read and > 0)
        {
            if (bytes.Length + read > MaxFileBytes) throw TooLarge(path);
            bytes.Write(buffer, 0, read);
        }

        // The usual file is exactly its stated length: its buffer is returned without a copy.
        return bytes.Length == bytes.Capacity ? bytes.GetBuffer() : bytes.ToArray();
    }

    private static SemanticCoreException TooLarge(string path) => new("FileTooLarge", FailureKind.InvalidData,
        $"'{path}' is over {MaxFileBytes / (1024 * 1024)} MiB; documents over {MaxFileBytes / (1024 * 1024)} MiB are not indexed.");

    private static string Decode(string path, byte[] bytes)
    {
        // A BOM says what the file is; without one, UTF-8 is the only encoding we accept.
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return DecodeStrict(path, bytes.AsSpan(3), StrictUtf8);
        // UTF-32 before UTF-16: its little-endian BOM begins with UTF-16's.
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00])) return DecodeStrict(path, bytes.AsSpan(4), new UTF32Encoding(false, false, true));
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF])) return DecodeStrict(path, bytes.AsSpan(4), new UTF32Encoding(true, false, true));
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return DecodeStrict(path, bytes.AsSpan(2), new UnicodeEncoding(false, false, true));
        if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return DecodeStrict(path, bytes.AsSpan(2), new UnicodeEncoding(true, false, true));

        // NUL never appears in text; it is the cheap, reliable sign of a binary file.
        if (bytes.AsSpan(0, Math.Min(bytes.Length, 8192)).Contains((byte)0))
        {
            throw new SemanticCoreException("BinaryFile", FailureKind.InvalidData, $"'{path}' is a binary file, not a text document.");
        }

        return DecodeStrict(path, bytes, StrictUtf8);
    }

    private static string DecodeStrict(string path, ReadOnlySpan<byte> bytes, Encoding encoding)
    {
        try
        {
            return encoding.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new SemanticCoreException("InvalidUtf8", FailureKind.InvalidData,
                $"'{path}' is not valid {encoding switch { UTF8Encoding => "UTF-8", UTF32Encoding => "UTF-32", _ => "UTF-16" }} text (bad byte at offset {ex.Index}); save it as UTF-8 and import it again.", ex);
        }
    }
}
