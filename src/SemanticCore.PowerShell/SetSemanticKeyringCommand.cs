using System.Management.Automation;
using System.Security;
using SemanticCore.Embedding;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Sets (or clears) this session's Gemini keys: the default key for interactive embedding and the dedicated batch key.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "SemanticKeyring", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = SetSet)]
[OutputType(typeof(void))]
public sealed class SetSemanticKeyringCommand : PSCmdlet
{
    private const string SetSet = "Set";
    private const string ClearSet = "Clear";

    /// <summary>The default key: interactive embedding (-Mode Sync) and search.</summary>
    /// <remarks>
    /// Positional (0, and the batch key 1) so that a key passed without its name is bound here and refused unquoted
    /// when it is plain text: with no positional parameter, PowerShell's error would quote it as the stray argument.
    /// </remarks>
    [Parameter(Position = 0, ParameterSetName = SetSet)]
    [SecureKey]
    public SecureString? ApiKey { get; set; }

    /// <summary>The dedicated batch key: Invoke-BatchFlush and Sync-BatchJob.</summary>
    [Parameter(Position = 1, ParameterSetName = SetSet)]
    [SecureKey]
    public SecureString? BatchApiKey { get; set; }

    /// <summary>Forgets both keys of this session (environment variables still apply).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter Clear { get; set; }

    protected override void EndProcessing()
    {
        if (Clear)
        {
            if (ShouldProcess("session keyring", "Clear the Gemini keys")) SessionKeyring.Clear();
            return;
        }

        if (ApiKey is null && BatchApiKey is null)
        {
            ThrowTerminatingError(Errors.Create("KeyringNoKeyGiven", ErrorCategory.InvalidArgument,
                "Give -ApiKey, -BatchApiKey or both (as SecureString, e.g. from Read-Host -AsSecureString), or -Clear.", null));
        }

        foreach (var (kind, key) in new[] { (KeyKind.Default, ApiKey), (KeyKind.Batch, BatchApiKey) })
        {
            if (key is null) continue;
            if (key.Length == 0)
            {
                WriteError(Errors.Create("KeyringEmptyKey", ErrorCategory.InvalidArgument, $"The {Name(kind)} given is empty; it was not set.", null));
                continue;
            }

            // The key itself is never written anywhere: only which one was set.
            if (ShouldProcess("session keyring", $"Set the {Name(kind)}")) SessionKeyring.Set(kind, key);
        }
    }

    private static string Name(KeyKind kind) => kind == KeyKind.Batch ? "batch API key" : "default API key";
}
