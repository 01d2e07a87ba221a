using System.Management.Automation;
using System.Security;

namespace SemanticCore.PowerShell;

/// <summary>
/// On every key parameter: a key is a SecureString, and anything else is refused with a message that names its type
/// only. PowerShell's own conversion error quotes the value it could not convert, and with it the key, when the key
/// sits inside an object: a key file read with ConvertFrom-Json or Import-Csv and passed whole
/// ("Cannot convert value "@{key=AIza...}" to type SecureString").
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecureKeyAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        if (inputData is null || ReferenceEquals(inputData, System.Management.Automation.Internal.AutomationNull.Value)) return inputData;
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        return value as SecureString ?? throw new ArgumentTransformationMetadataException(
            $"A key is given as a SecureString (Read-Host -AsSecureString, ConvertTo-SecureString, or a secret vault's Get-Secret); " +
            $"a {value!.GetType().Name} is not one. Its value is not shown.");
    }
}
