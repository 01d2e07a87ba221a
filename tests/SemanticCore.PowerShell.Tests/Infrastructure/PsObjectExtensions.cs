using System.Management.Automation;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>Reads our output objects by property, as a script would (their types live in the module's own load context).</summary>
public static class PsObjectExtensions
{
    public static object? Prop(this PSObject obj, string name) =>
        obj.Properties[name]?.Value ?? throw new KeyNotFoundException($"{obj.BaseObject.GetType().FullName} has no property {name} (or it is null).");

    public static object? PropOrNull(this PSObject obj, string name) => obj.Properties[name]?.Value;

    public static string Text(this PSObject obj, string name) => obj.PropOrNull(name)?.ToString() ?? "";

    public static long Long(this PSObject obj, string name) => Convert.ToInt64(obj.Prop(name));

    public static string TypeName(this PSObject obj) => obj.BaseObject.GetType().FullName!;
}
