using System.Management.Automation;

namespace SemanticCore.PowerShell;

/// <summary>
/// Refuses NaN and the infinities at binding: every comparison with NaN is false, so a NaN threshold would
/// silently drop every result instead of failing.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ValidateFiniteAttribute : ValidateArgumentsAttribute
{
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        var value = arguments is PSObject wrapped ? wrapped.BaseObject : arguments;
        if (value is double number && !double.IsFinite(number))
        {
            throw new ValidationMetadataException("NaN and infinities can't be compared with a score; give a finite number such as 0.5.");
        }
    }
}
