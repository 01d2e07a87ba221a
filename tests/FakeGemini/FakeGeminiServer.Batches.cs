using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FakeGemini;

public sealed partial class FakeGeminiServer
{
    private const string BatchType = "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatch";
    private const string BatchOutputType = "type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentBatchOutput";

    // POST /v1beta/models/{model}:asyncBatchEmbedContent {"batch":{"displayName":..,"inputConfig":{"fileName":..}}}
    private async Task CreateBatchAsync(HttpContext context, string model, byte[] body)
    {
        CheckModel(model);
        var batch = Field(ParseObject(body), "batch") as JsonObject ?? throw FakeApiError.BadRequest("* batch: field is required.");
        var input = Field(batch, "inputConfig", "input_config") as JsonObject ?? throw FakeApiError.BadRequest("* batch.inputConfig: field is required.");
        if (Field(input, "requests") is not null) throw FakeApiError.BadRequest("The fake supports file input only (inputConfig.fileName).");
        var fileName = StringField(input, "fileName", "file_name") ?? throw FakeApiError.BadRequest("* batch.inputConfig.fileName: field is required.");

        Job job;
        lock (_gate)
        {
            var file = _files.GetValueOrDefault(fileName) ?? throw FileNotFound(fileName.StartsWith("files/", StringComparison.Ordinal) ? fileName["files/".Length..] : fileName);
            var lines = ParseInput(fileName, file.Data);
            var tokens = lines.Sum(l => CountTokens(l.Text));
            AdmitToQueue(tokens);
            var now = DateTimeOffset.UtcNow;
            job = new Job
            {
                Name = "batches/" + NewId(),
                DisplayName = StringField(batch, "displayName", "display_name"),
                Model = "models/" + model,
                InputFileName = fileName,
                Lines = lines,
                Tokens = tokens,
                CreateTime = now,
                UpdateTime = now,
                State = JobState.Pending,
            };
            _jobs.Add(job);
            _batchCreateCount++;
        }

        if (CrashAfterCreate)
        {
            // The job exists, but the client never hears of it: it must find it by displayName.
            context.Abort();
            return;
        }

        if (AnswerAfterCreate is { } answer)
        {
            context.Response.StatusCode = answer.Status;
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync(answer.Body);
            return;
        }

        await WriteJsonAsync(context, Envelope(job));
    }

    /// <summary>Validates the JSONL like the service: every line an object with a key and a text.</summary>
    private static List<InputLine> ParseInput(string fileName, byte[] data)
    {
        var lines = new List<InputLine>();
        var number = 0;
        foreach (var raw in Encoding.UTF8.GetString(data).Split('\n'))
        {
            number++;
            var text = raw.TrimEnd('\r');
            if (text.Trim().Length == 0) continue;
            JsonObject line;
            try
            {
                line = JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
            }
            catch (JsonException e)
            {
                throw FakeApiError.BadRequest($"Invalid JSONL in {fileName} at line {number}: {e.Message}");
            }

            var key = StringField(line, "key");
            if (string.IsNullOrEmpty(key)) throw FakeApiError.BadRequest($"Invalid request in {fileName} at line {number}: \"key\" is required.");
            var request = Field(line, "request") as JsonObject
                ?? throw FakeApiError.BadRequest($"Invalid request in {fileName} at line {number}: \"request\" is required.");
            var content = RequestText(request);
            if (string.IsNullOrEmpty(content)) throw FakeApiError.BadRequest($"Invalid request in {fileName} at line {number}: content is not specified.");
            lines.Add(new InputLine(key, content, Dimensions(request)));
        }

        if (lines.Count == 0) throw FakeApiError.BadRequest($"The input file {fileName} has no requests.");
        return lines;
    }

    private async Task GetBatchAsync(HttpContext context, string id)
    {
        JsonObject envelope;
        lock (_gate)
        {
            var job = FindJob(id);
            job.Polls++;
            Advance(job);
            envelope = Envelope(job);
        }

        await WriteJsonAsync(context, envelope);
    }

    /// <summary>GET number n: RUNNING once n &gt; PollsUntilRunning, SUCCEEDED once n &gt; PollsUntilRunning + PollsUntilDone.</summary>
    private void Advance(Job job)
    {
        if (job.IsTerminal) return;
        if (job.State == JobState.Pending && job.Polls > _pollsUntilRunning)
        {
            job.State = JobState.Running;
            job.UpdateTime = DateTimeOffset.UtcNow;
        }

        if (_autoComplete && job.State == JobState.Running && job.Polls > _pollsUntilRunning + _pollsUntilDone) Finish(job);
    }

    private async Task ListBatchesAsync(HttpContext context)
    {
        var size = PageSize(context.Request, 50);
        var start = PageStart(context.Request);
        var body = new JsonObject();
        lock (_gate)
        {
            var page = _jobs.Skip(start).Take(size).Select(j => (JsonNode)Envelope(j)).ToArray();
            if (page.Length > 0) body["operations"] = new JsonArray(page); // the list key is "operations"
            if (start + size < _jobs.Count) body["nextPageToken"] = PageToken(start + size);
        }

        await WriteJsonAsync(context, body);
    }

    private Task CancelBatchAsync(HttpContext context, string id)
    {
        lock (_gate)
        {
            var job = FindJob(id);
            if (job.State is JobState.Succeeded or JobState.Failed or JobState.Expired)
                throw new FakeApiError(400, $"Batch {job.Name} is already in a terminal state ({job.StateName}).");
            if (job.State != JobState.Cancelled) End(job, JobState.Cancelled);
        }

        return WriteJsonAsync(context, new JsonObject());
    }

    private Task DeleteBatchAsync(HttpContext context, string id)
    {
        lock (_gate) _jobs.Remove(FindJob(id));
        return WriteJsonAsync(context, new JsonObject());
    }

    // ---------------------------------------------------------------- test controls

    /// <summary>Finishes a job now: SUCCEEDED with an output file shaped by the output knobs.</summary>
    public void Complete(string name)
    {
        lock (_gate)
        {
            var job = FindJobForTest(name);
            if (!job.IsTerminal) Finish(job);
        }
    }

    /// <summary>FAILED with an operation-level error; no output file.</summary>
    public void Fail(string name, string message)
    {
        lock (_gate)
        {
            var job = FindJobForTest(name);
            job.ErrorMessage = message;
            End(job, JobState.Failed);
        }
    }

    /// <summary>CANCELLED (as if by the user); no output file.</summary>
    public void Cancel(string name)
    {
        lock (_gate) End(FindJobForTest(name), JobState.Cancelled);
    }

    /// <summary>CANCELLED after the first <paramref name="completedLines"/> lines were embedded: their results are in an output file.</summary>
    public void CancelPartway(string name, int completedLines)
    {
        lock (_gate)
        {
            var job = FindJobForTest(name);
            StoreOutput(job, BuildOutput(job, completedLines));
            End(job, JobState.Cancelled);
        }
    }

    /// <summary>EXPIRED (48 h pending/running); no output file.</summary>
    public void Expire(string name)
    {
        lock (_gate) End(FindJobForTest(name), JobState.Expired);
    }

    /// <summary>The text of a job's output file, or null before it succeeded.</summary>
    public string? OutputOf(string name)
    {
        lock (_gate)
        {
            var job = FindJobForTest(name);
            return job.ResponsesFile is { } file && _files.TryGetValue(file, out var stored) ? Encoding.UTF8.GetString(stored.Data) : null;
        }
    }

    private Job FindJob(string id) =>
        _jobs.FirstOrDefault(j => j.Name == "batches/" + id) ?? throw FakeApiError.NotFound($"Batch batches/{id} not found.");

    private Job FindJobForTest(string name)
    {
        var full = name.StartsWith("batches/", StringComparison.Ordinal) ? name : "batches/" + name;
        return _jobs.FirstOrDefault(j => j.Name == full) ?? throw new InvalidOperationException($"The fake has no batch {full}.");
    }

    private static void End(Job job, JobState state)
    {
        job.State = state;
        job.UpdateTime = DateTimeOffset.UtcNow;
        job.EndTime = job.UpdateTime;
    }

    // ---------------------------------------------------------------- output

    private void Finish(Job job)
    {
        StoreOutput(job, BuildOutput(job));
        End(job, JobState.Succeeded);
    }

    private void StoreOutput(Job job, byte[] output)
    {
        var file = new StoredFile
        {
            Name = "files/batch-" + job.Name["batches/".Length..],
            DisplayName = null,
            MimeType = "application/jsonl",
            Data = output,
            Source = "GENERATED",
            CreateTime = DateTimeOffset.UtcNow,
        };
        _files[file.Name] = file;
        job.ResponsesFile = file.Name;
    }

    /// <param name="take">Only the first lines (a job ended part-way); all of them when null.</param>
    private byte[] BuildOutput(Job job, int? take = null)
    {
        var outcomeFor = _lineOutcomeFor;
        var lines = new List<string>();
        int succeeded = 0, failed = 0;
        foreach (var line in take is { } count ? job.Lines.Take(count) : job.Lines)
        {
            switch (outcomeFor?.Invoke(line.Key, line.Text) ?? LineOutcome.Success)
            {
                case LineOutcome.Success:
                    lines.Add(SuccessLine(line.Key, line.Text, line.Dimensions));
                    succeeded++;
                    break;
                case LineOutcome.Duplicate:
                    var success = SuccessLine(line.Key, line.Text, line.Dimensions);
                    lines.Add(success);
                    lines.Add(success);
                    succeeded++;
                    break;
                case LineOutcome.TooLong400:
                    lines.Add(ErrorLine(line.Key, 400, "INVALID_ARGUMENT",
                        $"The input token count ({FakeVectors.TokenCount(line.Text)}) exceeds the maximum number of tokens allowed (2048)."));
                    failed++;
                    break;
                case LineOutcome.RateLimited429:
                    lines.Add(ErrorLine(line.Key, 8, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")); // gRPC-style code
                    failed++;
                    break;
                case LineOutcome.Unavailable503:
                    lines.Add(ErrorLine(line.Key, 503, "UNAVAILABLE", "The service is currently unavailable."));
                    failed++;
                    break;
                case LineOutcome.Missing:
                    break;
            }
        }

        var dimensions = job.Lines[0].Dimensions;
        for (var i = 0; i < _extraUnknownKeys; i++) lines.Add(SuccessLine($"unknown-{i}", $"never sent {i}", dimensions));
        if (_shuffleOutput)
        {
            var random = new Random(20261124);
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(lines));
        }

        var goodLines = lines.Count;
        for (var i = 0; i < _malformedLines; i++)
        {
            var at = (int)((long)(i + 1) * goodLines / (_malformedLines + 1)) + i;
            lines.Insert(Math.Min(at, lines.Count), Garbage[i % Garbage.Length]);
        }

        job.SuccessfulCount = succeeded;
        job.FailedCount = failed;
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line).Append('\n');
        if (_truncateLastLine && lines.Count > 0)
        {
            // Cut the last line in half and drop its newline, like a download that stopped early.
            var last = lines[^1];
            text.Length -= last.Length + 1;
            text.Append(last, 0, last.Length / 2);
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static readonly string[] Garbage =
    [
        "this is not JSON {{{",
        "{\"unexpected\":\"a line with neither key, response nor error\"}",
        "{\"key\":\"garbage\",\"response\":{\"embedding\":{\"values\":[0.1,\"x\"]}}}",
    ];

    private static string SuccessLine(string key, string text, int dimensions)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("key", key);
            json.WriteStartObject("response");
            json.WriteStartObject("embedding");
            json.WriteStartArray("values");
            foreach (var value in FakeVectors.VectorFor(text, dimensions)) json.WriteNumberValue(value);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString("tokenCount", FakeVectors.TokenCount(text).ToString(CultureInfo.InvariantCulture)); // int64 as a string
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string ErrorLine(string key, int code, string status, string message) =>
        new JsonObject
        {
            ["key"] = key,
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status },
        }.ToJsonString();

    /// <summary>The operation envelope of create/get/list; zero counts are omitted like the service does.</summary>
    private static JsonObject Envelope(Job job)
    {
        var stats = new JsonObject();
        AddCount(stats, "requestCount", job.Lines.Count);
        AddCount(stats, "successfulRequestCount", job.SuccessfulCount);
        AddCount(stats, "failedRequestCount", job.FailedCount);
        if (!job.IsTerminal) AddCount(stats, "pendingRequestCount", job.Lines.Count);

        var metadata = new JsonObject
        {
            ["@type"] = BatchType,
            ["name"] = job.Name,
            ["displayName"] = job.DisplayName,
            ["model"] = job.Model,
            ["inputConfig"] = new JsonObject { ["fileName"] = job.InputFileName },
            ["createTime"] = Time(job.CreateTime),
            ["updateTime"] = Time(job.UpdateTime),
            ["batchStats"] = stats,
            ["state"] = job.StateName,
        };
        if (job.EndTime is { } end) metadata["endTime"] = Time(end);
        if (job.ResponsesFile is { } responses) metadata["output"] = new JsonObject { ["responsesFile"] = responses };

        var operation = new JsonObject { ["name"] = job.Name, ["metadata"] = metadata };
        if (job.IsTerminal) operation["done"] = true;
        if (job.State == JobState.Failed) operation["error"] = new JsonObject { ["code"] = 13, ["message"] = job.ErrorMessage ?? "The batch failed." };
        if (job.ResponsesFile is { } file) operation["response"] = new JsonObject { ["@type"] = BatchOutputType, ["responsesFile"] = file };
        return operation;
    }

    private static void AddCount(JsonObject stats, string name, int count)
    {
        if (count != 0) stats[name] = count.ToString(CultureInfo.InvariantCulture);
    }
}
