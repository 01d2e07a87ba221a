using System.Management.Automation;
using SemanticCore.Model;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Shows which Gemini keys are set, and where from (session or environment), with a fingerprint only: never the keys.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SemanticKeyring")]
[OutputType(typeof(KeyringEntry))]
public sealed class GetSemanticKeyringCommand : PSCmdlet
{
    protected override void EndProcessing()
    {
        foreach (var entry in KeyringEntries.Current()) WriteObject(entry);
    }
}
