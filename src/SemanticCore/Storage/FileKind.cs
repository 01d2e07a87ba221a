using System.Runtime.InteropServices;

namespace SemanticCore.Storage;

/// <summary>
/// Whether a path (symbolic links followed) is a regular file. .NET does not say, and opening a named pipe
/// blocks until a writer comes, while a device such as /dev/zero never ends: both must be refused before any read.
/// </summary>
internal static class FileKind
{
    private const int TypeMask = 0xF000;   // S_IFMT, as System.Native reports st_mode on every Unix
    private const int RegularFile = 0x8000; // S_IFREG

    public static bool IsRegular(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            // No pipes or devices at file paths there; \\.\ device paths are not files.
            return !path.StartsWith(@"\\.\", StringComparison.Ordinal) && File.Exists(path) &&
                   (File.GetAttributes(path) & (FileAttributes.Directory | FileAttributes.Device)) == 0;
        }

        // The runtime's own stat (System.Native ships with every .NET): the struct begins with Flags, then Mode.
        // A generous buffer, since only those two fields are read.
        var status = new byte[512];
        if (Stat(path, status) != 0) return File.Exists(path);
        var mode = BitConverter.ToInt32(status, 4);
        return (mode & TypeMask) == RegularFile;
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] status);
}
