using System.Text.Json;

namespace SemanticCore.Gemini;

/// <summary>
/// A batch job as the API reports it: the operation envelope of create/get/list
/// (<c>{name, metadata:{...batch...}, done, error, response}</c>). Parsing is tolerant: a bare batch
/// object (fields at the top level) works too, omitted counts are 0, unknown states are Unknown.
/// </summary>
public sealed record BatchOperation
{
    public required string Name { get; init; }
    public string? DisplayName { get; init; }
    public string? Model { get; init; }
    public BatchState State { get; init; }
    public string? InputFileName { get; init; }
    public string? ResponsesFileName { get; init; }
    public long RequestCount { get; init; }
    public long SuccessfulCount { get; init; }
    public long FailedCount { get; init; }
    public DateTimeOffset? CreateTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public bool Done { get; init; }

    /// <summary>The operation-level error of a failed job (not per-line errors: those are in the output file).</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>The job will not change any more.</summary>
    public bool IsTerminal => State is BatchState.Succeeded or BatchState.Failed or BatchState.Cancelled or BatchState.Expired;

    internal static BatchOperation Parse(JsonElement operation)
    {
        // Fields live under "metadata" in the envelope; a bare batch resource has them at the top.
        var batch = Json.GetObject(operation, "metadata");
        if (batch.ValueKind != JsonValueKind.Object) batch = operation;
        var error = Json.GetObject(operation, "error");
        var response = Json.GetObject(operation, "response");
        var stats = Json.GetObject(batch, "batchStats");
        var done = Json.GetBoolean(operation, "done");

        var state = BatchStates.Parse(Json.GetString(batch, "state"));
        if (state == BatchState.Unknown && done)
        {
            state = error.ValueKind == JsonValueKind.Object ? BatchState.Failed : BatchState.Succeeded;
        }

        var name = Json.GetString(operation, "name") ?? Json.GetString(batch, "name")
            ?? throw new JsonException("The batch operation has no name.");

        return new BatchOperation
        {
            Name = name,
            DisplayName = Json.GetString(batch, "displayName"),
            Model = Json.GetString(batch, "model"),
            State = state,
            InputFileName = Json.GetString(Json.GetObject(batch, "inputConfig"), "fileName"),
            ResponsesFileName = Json.GetString(Json.GetObject(batch, "output"), "responsesFile")
                ?? Json.GetString(response, "responsesFile")
                ?? Json.GetString(Json.GetObject(response, "output"), "responsesFile"),
            RequestCount = Json.GetInt64(stats, "requestCount") ?? 0,
            SuccessfulCount = Json.GetInt64(stats, "successfulRequestCount") ?? 0,
            FailedCount = Json.GetInt64(stats, "failedRequestCount") ?? 0,
            CreateTime = Json.GetTime(batch, "createTime"),
            UpdateTime = Json.GetTime(batch, "updateTime"),
            EndTime = Json.GetTime(batch, "endTime"),
            Done = done || state is BatchState.Succeeded or BatchState.Failed or BatchState.Cancelled or BatchState.Expired,
            ErrorMessage = error.ValueKind == JsonValueKind.Object ? Json.GetString(error, "message") ?? "The batch job failed." : null,
        };
    }
}
