using System.Management.Automation;
using SemanticCore.Batches;
using SemanticCore.Model;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Lists the batch jobs of an index.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "BatchJob", DefaultParameterSetName = StatusSet)]
[OutputType(typeof(BatchJob))]
public sealed class GetBatchJobCommand : SemanticCmdlet
{
    private const string StatusSet = "Status";
    private const string ActiveSet = "Active";
    private const string IdSet = "Id";
    private const string InputSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet)]
    [Alias("BatchJobId")]
    [ArgumentCompleter(typeof(BatchJobIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    [Parameter(ParameterSetName = StatusSet)]
    public BatchJobStatus[]? Status { get; set; }

    /// <summary>Only jobs not finished yet: Created, Submitted or Running.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ActiveSet)]
    public SwitchParameter Active { get; set; }

    /// <summary>
    /// Jobs (their Id), job ids as strings, or objects that name a job in BatchJobId (chunks): an object's own
    /// Id is a job id only when it is a job. A chunk in no job names nothing.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputSet)]
    public PSObject? InputObject { get; set; }

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        if (ParameterSetName is IdSet or InputSet)
        {
            var ids = ParameterSetName == IdSet ? Id : BatchJobInput.IdsOf(InputObject!);
            if (ids is null)
            {
                WriteInputNotSupported(InputObject!, "job", BatchJobInput.Accepted);
                return;
            }

            foreach (var id in ids)
            {
                if (index.Jobs.Find(id) is { } job) WriteObject(job);
                else WriteError(Errors.Create("BatchJobNotFound", ErrorCategory.ObjectNotFound, $"There is no batch job '{id}' in the index '{index.DatabasePath}'.", id));
            }

            return;
        }

        var statuses = Active ? [.. BatchJob.ActiveStatuses] : Status;
        foreach (var job in index.Jobs.List(statuses)) WriteObject(job);
    }
}
