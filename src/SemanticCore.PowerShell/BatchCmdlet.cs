using System.Management.Automation;
using System.Security;
using SemanticCore.Batches;
using SemanticCore.Embedding;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>What the cmdlets that run batch jobs share: the dedicated batch key and the index's batch service.</summary>
public abstract class BatchCmdlet : SemanticCmdlet
{
    /// <summary>The dedicated batch key. Default: the session keyring, then $env:GEMINI_BATCH_API_KEY.</summary>
    [Parameter]
    [SecureKey]
    public SecureString? BatchApiKey { get; set; }

    /// <summary>Where the index's batch jobs run; a Gemini index without a batch key ends the command.</summary>
    protected IBatchService BatchServiceFor(SemanticIndex index)
    {
        try
        {
            return EmbeddingProviders.CreateBatchService(index, index.Settings.RunsOnThisMachine ? null : ResolveKey(KeyKind.Batch, BatchApiKey), Progress);
        }
        catch (SemanticCoreException ex)
        {
            ThrowTerminatingError(Errors.From(ex, index.DatabasePath));
            throw; // unreachable: ThrowTerminatingError always throws
        }
    }
}
