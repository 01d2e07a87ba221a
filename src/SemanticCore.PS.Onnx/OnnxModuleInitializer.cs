using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using SemanticCore.Embedding;
using SemanticCore.PowerShell.Loader;

namespace SemanticCore.Onnx;

/// <summary>
/// On Import-Module SemanticCore.PS.Onnx: answers this assembly's references to ONNX Runtime and the tokenizer from the
/// module's <c>dependencies/</c> (in a load context of its own, as the base module does), then adds the Onnx provider to the
/// base module, which pwsh has imported first (RequiredModules).
/// </summary>
public sealed class OnnxModuleInitializer : IModuleAssemblyInitializer
{
    private static readonly string ModuleDirectory = Path.GetDirectoryName(typeof(OnnxModuleInitializer).Assembly.Location)!;
    private static readonly string DependencyDirectory = Path.Combine(ModuleDirectory, "dependencies");
    private static readonly DependencyLoadContext Context = new("SemanticCore.PS.Onnx", DependencyDirectory);
    private static int registered;

    public void OnImport()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0) AssemblyLoadContext.Default.Resolving += ResolveDependency;
        Install();
    }

    /// <summary>Apart from <see cref="OnImport"/>, so that nothing of ONNX Runtime is bound before the resolver is in place.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Install() => EmbeddingProviders.Install(new OnnxProvider(Path.Combine(ModuleDirectory, "models")));

    private static Assembly? ResolveDependency(AssemblyLoadContext defaultContext, AssemblyName name) =>
        File.Exists(Path.Combine(DependencyDirectory, name.Name + ".dll")) ? Context.LoadFromAssemblyName(name) : null;
}
