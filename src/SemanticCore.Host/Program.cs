namespace SemanticCore.Host;

/// <summary>
/// pwsh 7.6 (the SDK's own console entry point) with the module built in this repository on PSModulePath,
/// so scripts, tests and the quick start run here exactly as under an installed pwsh with the module installed.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (ModuleLocator.FindBuiltModule() is { } module) ModuleLocator.PrependToPSModulePath(Path.GetDirectoryName(module)!);
        return Microsoft.PowerShell.UnmanagedPSEntry.Start(args, args.Length);
    }
}
