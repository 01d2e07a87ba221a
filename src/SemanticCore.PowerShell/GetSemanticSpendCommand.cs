using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Shows what an index's embedding calls cost, per UTC day and kind (Batch, Interactive, Query), and what batch saved.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SemanticSpend")]
[OutputType(typeof(SpendDay))]
public sealed class GetSemanticSpendCommand : SemanticCmdlet
{
    /// <summary>Only calls made at or after this time (a local time is taken as local, as Get-Date gives it).</summary>
    [Parameter]
    public DateTime Since { get; set; }

    /// <summary>Only calls made at or before this time.</summary>
    [Parameter]
    public DateTime Until { get; set; }

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var since = MyInvocation.BoundParameters.ContainsKey(nameof(Since)) ? Since : (DateTime?)null;
        var until = MyInvocation.BoundParameters.ContainsKey(nameof(Until)) ? Until : (DateTime?)null;
        WriteObject(index.Spend.Days(since, until), enumerateCollection: true);
    }
}
