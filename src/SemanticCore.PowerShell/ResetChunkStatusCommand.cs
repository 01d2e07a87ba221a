using System.Management.Automation;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Puts chunks back in the queue (Pending, RetryCount 0, error cleared) for the next batch flush.</para>
/// </summary>
[Cmdlet(VerbsCommon.Reset, "ChunkStatus", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = FilterSet)]
[OutputType(typeof(Chunk))]
public sealed class ResetChunkStatusCommand : SemanticCmdlet
{
    private const string InputSet = "InputObject";
    private const string IdSet = "Id";
    private const string FilterSet = "Filter";

    private readonly Dictionary<EmbeddingStatus, long> skipped = [];

    /// <summary>Chunks (Get-ChunkStatus) or search hits (their chunk), from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    public PSObject? InputObject { get; set; }

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
    [Alias("ChunkId")]
    public long[] Id { get; set; } = [];

    /// <summary>The statuses to requeue; Failed by default (others need -Force).</summary>
    [Parameter(ParameterSetName = FilterSet)]
    public EmbeddingStatus[] Status { get; set; } = [EmbeddingStatus.Failed];

    [Parameter(ParameterSetName = FilterSet)]
    [Alias("JobId")]
    [ValidateNotNullOrEmpty]
    public string? BatchJobId { get; set; }

    /// <summary>Also requeue Ready chunks (their vectors are deleted) and Pending ones (retry count reset). Submitted chunks never.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the requeued chunks.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        var filter = ParameterSetName switch
        {
            InputSet => InputObject!.BaseObject switch
            {
                Chunk chunk => new ChunkFilter { Ids = [chunk.Id] },
                SearchHit hit => new ChunkFilter { Ids = [hit.ChunkId] },
                _ => null,
            },
            IdSet => new ChunkFilter { Ids = Id },
            _ => new ChunkFilter { Statuses = Status, BatchJobId = BatchJobId },
        };
        if (filter is null)
        {
            WriteInputNotSupported(InputObject!, "chunk", "chunks (Get-ChunkStatus) or search hits, or use -Id");
            return;
        }

        var found = index.Chunks.Find(filter).ToList();
        if (filter.Ids is { } named)
        {
            // A chunk named by id (or piped) that is not in the index: requeueing nothing must not look like success.
            foreach (var id in named.Distinct().Except(found.Select(c => c.Id)))
            {
                WriteError(Errors.Create("ChunkNotFound", ErrorCategory.ObjectNotFound, $"There is no chunk {id} in the index '{index.DatabasePath}'.", id));
            }
        }

        var chosen = new List<long>();
        foreach (var chunk in found)
        {
            if (!Resettable(chunk.State))
            {
                skipped[chunk.State] = skipped.GetValueOrDefault(chunk.State) + 1;
                continue;
            }

            var what = chunk.State == EmbeddingStatus.Ready ? ", its vector deleted" : "";
            if (ShouldProcess($"chunk {chunk.Id} ({chunk.Status}, {System.IO.Path.GetFileName(chunk.DocumentPath)} #{chunk.Ordinal}) in '{index.DatabasePath}'", $"Requeue as Pending{what}")) chosen.Add(chunk.Id);
        }

        if (chosen.Count == 0) return;
        try
        {
            var requeued = index.Chunks.Requeue(chosen, Force);
            WriteVerbose($"Requeued {requeued.Count} chunk(s) in '{index.DatabasePath}'.");
            if (PassThru) WriteObject(index.Chunks.Find(new ChunkFilter { Ids = requeued }), enumerateCollection: true);
        }
        catch (SemanticCoreException ex)
        {
            WriteError(Errors.From(ex, chosen));
        }
    }

    protected override void OnEndProcessing()
    {
        if (skipped.Count == 0) return;
        var parts = skipped.Select(s => $"{s.Value} {s.Key}{(s.Key == EmbeddingStatus.Submitted ? " (a batch job holds them: sync or stop it first)" : " (requeue them with -Force)")}");
        WriteWarning($"Not requeued: {string.Join(", ", parts)}.");
    }

    private bool Resettable(EmbeddingStatus status) => status switch
    {
        EmbeddingStatus.Failed => true,
        EmbeddingStatus.Submitted => false,
        _ => Force,
    };
}
