namespace SemanticCore.Host;

/// <summary>
/// pwsh 7.6 (the SDK's own console entry point) with the module built in this repository, and the Pester
/// laid out next to this program, on PSModulePath: scripts, tests and the quick start run here exactly as
/// under an installed pwsh with those modules installed.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        // Listed here, the user's module folder stays after ours: an installed copy never shadows this repository's build.
        ModuleLocator.PrependToPSModulePath(ModuleLocator.UserModulesFolder());
        ModuleLocator.PrependToPSModulePath(Path.Combine(AppContext.BaseDirectory, "Modules"));
        if (ModuleLocator.FindBuiltModule() is { } module) ModuleLocator.PrependToPSModulePath(Path.GetDirectoryName(module)!);
        return Microsoft.PowerShell.UnmanagedPSEntry.Start(args, args.Length);
    }
}
