using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text;

namespace SemanticCore.Host;

/// <summary>
/// Stand-ins for the Write-* cmdlets. pwsh ships them in Microsoft.PowerShell.Commands.Utility,
/// which the NuGet engine does not include, yet nearly every script uses them. Each one only hands
/// its arguments to the matching Cmdlet.Write* method, so preference variables, -Verbose,
/// -WarningAction, 2>&amp;1 and the host all behave as with the real ones.
/// </summary>
internal static class WriteCmdlets
{
    private static readonly Type[] All =
    [
        typeof(WriteHostCommand), typeof(WriteOutputCommand), typeof(WriteErrorCommand),
        typeof(WriteWarningCommand), typeof(WriteVerboseCommand), typeof(WriteDebugCommand),
        typeof(WriteInformationCommand), typeof(WriteProgressCommand),
    ];

    /// <summary>Adds those the session state lacks (all of them, unless the real module is present).</summary>
    public static void AddMissing(InitialSessionState state)
    {
        foreach (var type in All)
        {
            var attribute = (CmdletAttribute)Attribute.GetCustomAttribute(type, typeof(CmdletAttribute))!;
            var name = $"{attribute.VerbName}-{attribute.NounName}";
            if (state.Commands[name].Count == 0)
            {
                state.Commands.Add(new SessionStateCmdletEntry(name, type, helpFileName: null));
            }
        }
    }
}

[Cmdlet(VerbsCommunications.Write, "Host")]
internal sealed class WriteHostCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromRemainingArguments = true)]
    [Alias("Msg", "Message")]
    public object? Object { get; set; }

    [Parameter]
    public SwitchParameter NoNewline { get; set; }

    [Parameter]
    public object Separator { get; set; } = " ";

    [Parameter]
    public ConsoleColor ForegroundColor { get; set; }

    [Parameter]
    public ConsoleColor BackgroundColor { get; set; }

    protected override void ProcessRecord()
    {
        // The PSHOST tag is what makes the engine show it even when $InformationPreference is SilentlyContinue.
        var message = new HostInformationMessage
        {
            Message = Render(Object) ?? string.Empty,
            NoNewLine = NoNewline.IsPresent,
            ForegroundColor = MyInvocation.BoundParameters.ContainsKey(nameof(ForegroundColor)) ? ForegroundColor : null,
            BackgroundColor = MyInvocation.BoundParameters.ContainsKey(nameof(BackgroundColor)) ? BackgroundColor : null,
        };
        WriteInformation(message, ["PSHOST"]);
    }

    // Collections are flattened and joined with the separator, as the real Write-Host does.
    private string? Render(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case string s:
                return s.Length > 0 ? s : null;
            case PSObject { BaseObject: not IEnumerable or string } or not IEnumerable:
                var text = value.ToString();
                return string.IsNullOrEmpty(text) ? null : text;
            default:
                var enumerable = value is PSObject wrapped ? (IEnumerable)wrapped.BaseObject : (IEnumerable)value;
                var result = new StringBuilder();
                var first = true;
                foreach (var element in enumerable)
                {
                    if (Render(element) is { } part)
                    {
                        result.Append(first ? string.Empty : Separator?.ToString()).Append(part);
                        first = false;
                    }
                }

                return result.ToString();
        }
    }
}

[Cmdlet(VerbsCommunications.Write, "Output")]
internal sealed class WriteOutputCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true, ValueFromRemainingArguments = true)]
    [AllowNull]
    [AllowEmptyCollection]
    public PSObject[]? InputObject { get; set; }

    [Parameter]
    public SwitchParameter NoEnumerate { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is null)
        {
            WriteObject(null);
        }
        else if (InputObject.Length == 1)
        {
            WriteObject(InputObject[0], !NoEnumerate);
        }
        else
        {
            WriteObject(InputObject, !NoEnumerate);
        }
    }
}

[Cmdlet(VerbsCommunications.Write, "Error", DefaultParameterSetName = NoException)]
internal sealed class WriteErrorCommand : PSCmdlet
{
    private const string NoException = "NoException";
    private const string WithException = "WithException";
    private const string ErrorRecordSet = "ErrorRecord";

    [Parameter(ParameterSetName = WithException, Mandatory = true)]
    public Exception? Exception { get; set; }

    [Parameter(ParameterSetName = NoException, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = WithException)]
    [AllowNull]
    [AllowEmptyString]
    [Alias("Msg")]
    public string? Message { get; set; }

    [Parameter(ParameterSetName = ErrorRecordSet, Mandatory = true)]
    public ErrorRecord? ErrorRecord { get; set; }

    [Parameter(ParameterSetName = NoException)]
    [Parameter(ParameterSetName = WithException)]
    public ErrorCategory Category { get; set; } = ErrorCategory.NotSpecified;

    [Parameter(ParameterSetName = NoException)]
    [Parameter(ParameterSetName = WithException)]
    public string? ErrorId { get; set; }

    [Parameter(ParameterSetName = NoException)]
    [Parameter(ParameterSetName = WithException)]
    public object? TargetObject { get; set; }

    [Parameter]
    public string? RecommendedAction { get; set; }

    protected override void ProcessRecord()
    {
        var record = ErrorRecord is not null
            ? new ErrorRecord(ErrorRecord, ErrorRecord.Exception)
            : new ErrorRecord(
                Exception ?? new WriteErrorException(Message ?? string.Empty),
                ErrorId ?? "Microsoft.PowerShell.Commands.WriteErrorException",
                Category,
                TargetObject);
        if (Exception is not null && !string.IsNullOrEmpty(Message))
        {
            record.ErrorDetails = new ErrorDetails(Message);
        }

        if (!string.IsNullOrEmpty(RecommendedAction))
        {
            record.ErrorDetails ??= new ErrorDetails(record.Exception.Message);
            record.ErrorDetails.RecommendedAction = RecommendedAction;
        }

        WriteError(record);
    }

    private sealed class WriteErrorException(string message) : SystemException(message);
}

[Cmdlet(VerbsCommunications.Write, "Warning")]
internal sealed class WriteWarningCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    [Alias("Msg")]
    public string Message { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteWarning(Message);
}

[Cmdlet(VerbsCommunications.Write, "Verbose")]
internal sealed class WriteVerboseCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    [Alias("Msg")]
    public string Message { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteVerbose(Message);
}

[Cmdlet(VerbsCommunications.Write, "Debug")]
internal sealed class WriteDebugCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    [Alias("Msg")]
    public string Message { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteDebug(Message);
}

[Cmdlet(VerbsCommunications.Write, "Information")]
internal sealed class WriteInformationCommand : PSCmdlet
{
    [Parameter(Position = 0, Mandatory = true)]
    [Alias("Msg", "Message")]
    [AllowNull]
    public object? MessageData { get; set; }

    [Parameter(Position = 1)]
    public string[]? Tags { get; set; }

    protected override void ProcessRecord() => WriteInformation(MessageData, Tags);
}

[Cmdlet(VerbsCommunications.Write, "Progress")]
internal sealed class WriteProgressCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    public string? Activity { get; set; }

    [Parameter(Position = 1)]
    public string? Status { get; set; }

    [Parameter(Position = 2)]
    [ValidateRange(0, int.MaxValue)]
    public int Id { get; set; }

    [Parameter]
    [ValidateRange(-1, 100)]
    public int PercentComplete { get; set; } = -1;

    [Parameter]
    public int SecondsRemaining { get; set; } = -1;

    [Parameter]
    public string? CurrentOperation { get; set; }

    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int ParentId { get; set; } = -1;

    [Parameter]
    public SwitchParameter Completed { get; set; }

    // One source for every Write-Progress call (0 unless given), so a later call can update,
    // nest under or complete an activity an earlier call started.
    [Parameter]
    public int SourceId { get; set; }

    protected override void ProcessRecord()
    {
        // ProgressRecord refuses empty text; pwsh fills in the same defaults.
        var record = new ProgressRecord(
            Id,
            string.IsNullOrEmpty(Activity) ? "Processing" : Activity,
            string.IsNullOrEmpty(Status) ? "Processing" : Status)
        {
            PercentComplete = PercentComplete,
            SecondsRemaining = SecondsRemaining,
            CurrentOperation = CurrentOperation,
            ParentActivityId = ParentId,
            RecordType = Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        CommandRuntime.WriteProgress(SourceId, record);
    }
}
