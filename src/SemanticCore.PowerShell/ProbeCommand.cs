using System.Management.Automation;
namespace SemanticCore.PowerShell;
[Cmdlet(VerbsDiagnostic.Test, "SemanticProbe")]
public sealed class ProbeCommand : PSCmdlet { protected override void EndProcessing() => WriteObject(SemanticCore.Probe.Run("/tmp/probe/x.db")); }
