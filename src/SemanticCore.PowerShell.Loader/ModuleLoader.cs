using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace SemanticCore.PowerShell.Loader;

/// <summary>
/// Keeps the module's dependencies (the core library, SQLite, Markdig, Polly...) in a load context of
/// their own, so the module works next to pwsh's own copies and other modules' versions of them
/// ("Resolving PowerShell module assembly dependency conflicts"). pwsh loads this assembly and the
/// cmdlet assembly into its default context; their references to the core are answered from
/// <c>dependencies/</c>, into the module's own context.
/// </summary>
public sealed class ModuleLoader : IModuleAssemblyInitializer
{
    private const string CoreAssemblyName = "SemanticCore";

    private static readonly string DependencyDirectory = Path.Combine(
        Path.GetDirectoryName(typeof(ModuleLoader).Assembly.Location)!, "dependencies");

    private static readonly DependencyLoadContext Context = new("SemanticCore.PS", DependencyDirectory);
    private static int registered;

    public void OnImport()
    {
        // Importing the module twice (or with -Force) must not stack handlers.
        if (Interlocked.Exchange(ref registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveCore;
        }
    }

    private static Assembly? ResolveCore(AssemblyLoadContext defaultContext, AssemblyName name) =>
        string.Equals(name.Name, CoreAssemblyName, StringComparison.Ordinal)
            ? Context.LoadFromAssemblyName(name)
            : null;
}

/// <summary>
/// Loads a module's managed dependencies and native libraries (e_sqlite3; ONNX Runtime for SemanticCore.PS.Onnx) from its
/// own <c>dependencies/</c> folder.
/// </summary>
public sealed class DependencyLoadContext(string name, string directory) : AssemblyLoadContext(name, isCollectible: false)
{
    protected override Assembly? Load(AssemblyName name)
    {
        var path = Path.Combine(directory, name.Name + ".dll");
        // Anything we do not ship (the framework, System.Management.Automation) comes from the default context.
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(directory, "runtimes", PortableRid(), "native", NativeFileName(unmanagedDllName));
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }

    private static string NativeFileName(string name)
    {
        if (Path.HasExtension(name)) return name;
        if (OperatingSystem.IsWindows()) return name + ".dll";
        var libName = name.StartsWith("lib", StringComparison.Ordinal) ? name : "lib" + name;
        return libName + (OperatingSystem.IsMacOS() ? ".dylib" : ".so");
    }

    /// <summary>The portable RID (linux-x64, osx-arm64, win-x64...): the runtime's own can be distro-specific.</summary>
    internal static string PortableRid()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        return $"{os}-{arch}";
    }
}
