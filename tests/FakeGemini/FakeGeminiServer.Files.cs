using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FakeGemini;

public sealed partial class FakeGeminiServer
{
    /// <summary>Non-final chunks must be multiples of this (X-Goog-Upload-Chunk-Granularity).</summary>
    public const int UploadGranularity = 256 * 1024;

    private IReadOnlyList<string>? _acceptedUploadMimeTypes;
    private MimeTypeRefusal _refuseUploadMimeTypeAt = MimeTypeRefusal.AtFinalize;
    private readonly List<string> _refusedUploadMimeTypes = [];

    /// <summary>
    /// The upload types (X-Goog-Upload-Header-Content-Type) the Files API takes; null (the default) takes any. Another type
    /// gets the real 400 INVALID_ARGUMENT "Unsupported MIME type: {type}", and no file is made.
    /// </summary>
    public IReadOnlyList<string>? AcceptedUploadMimeTypes
    {
        get { lock (_gate) return _acceptedUploadMimeTypes; }
        set { lock (_gate) _acceptedUploadMimeTypes = value?.ToArray(); }
    }

    /// <summary>
    /// Where a type not in <see cref="AcceptedUploadMimeTypes"/> is refused: at the finalize (the default, where users
    /// reported it: the session is then gone) or at the upload's start.
    /// </summary>
    public MimeTypeRefusal RefuseUploadMimeTypeAt { get => Read(ref _refuseUploadMimeTypeAt); set => Write(ref _refuseUploadMimeTypeAt, value); }

    /// <summary>The upload types refused so far, in order.</summary>
    public IReadOnlyList<string> RefusedUploadMimeTypes { get { lock (_gate) return _refusedUploadMimeTypes.ToArray(); } }

    /// <summary>Refuses <paramref name="mimeType"/> (and records it) when it is not accepted and this is where refusals happen.</summary>
    private void CheckUploadMimeType(string mimeType, MimeTypeRefusal where)
    {
        lock (_gate)
        {
            if (_refuseUploadMimeTypeAt != where || _acceptedUploadMimeTypes is null || _acceptedUploadMimeTypes.Contains(mimeType, StringComparer.OrdinalIgnoreCase)) return;
            _refusedUploadMimeTypes.Add(mimeType);
        }

        throw FakeApiError.BadRequest($"Unsupported MIME type: {mimeType}");
    }

    // POST /upload/v1beta/files, X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start.
    private async Task StartUploadAsync(HttpContext context, byte[] body)
    {
        var headers = context.Request.Headers;
        if (!string.Equals(headers["X-Goog-Upload-Protocol"], "resumable", StringComparison.OrdinalIgnoreCase))
            throw FakeApiError.BadRequest("The fake only speaks the resumable upload protocol (X-Goog-Upload-Protocol: resumable).");
        if (!string.Equals(headers["X-Goog-Upload-Command"], "start", StringComparison.OrdinalIgnoreCase))
            throw FakeApiError.BadRequest("Upload command must be 'start' for a new upload.");

        long? declared = null;
        var lengthHeader = headers["X-Goog-Upload-Header-Content-Length"].ToString();
        if (lengthHeader.Length > 0)
        {
            if (!long.TryParse(lengthHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
                throw FakeApiError.BadRequest("Invalid X-Goog-Upload-Header-Content-Length.");
            declared = length;
        }

        var file = body.Length == 0 ? null : Field(ParseObject(body), "file") as JsonObject;
        var session = new UploadSession
        {
            Id = NewId() + NewId(),
            DisplayName = StringField(file, "displayName", "display_name"),
            MimeType = headers["X-Goog-Upload-Header-Content-Type"].ToString() is { Length: > 0 } type ? type : "application/octet-stream",
            DeclaredLength = declared,
        };
        CheckUploadMimeType(session.MimeType, MimeTypeRefusal.AtStart);
        lock (_gate) _uploads[session.Id] = session;

        var response = context.Response;
        response.Headers["X-Goog-Upload-URL"] = $"{Endpoint.GetLeftPart(UriPartial.Authority)}/upload/v1beta/files?upload_id={session.Id}&upload_protocol=resumable";
        response.Headers["X-Goog-Upload-Status"] = "active";
        response.Headers["X-Goog-Upload-Chunk-Granularity"] = UploadGranularity.ToString(CultureInfo.InvariantCulture);
        await response.Body.FlushAsync();
    }

    // POST <session url>, X-Goog-Upload-Command: upload | upload, finalize | finalize | query.
    private async Task UploadChunkAsync(HttpContext context, byte[] body)
    {
        var request = context.Request;
        var commands = request.Headers["X-Goog-Upload-Command"].ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => c.ToLowerInvariant()).ToHashSet();
        var id = request.Query["upload_id"].ToString();
        StoredFile? finalized = null;
        long received;
        lock (_gate)
        {
            if (!_uploads.TryGetValue(id, out var session)) throw FakeApiError.NotFound("Upload session not found.");
            if (commands.Contains("query"))
            {
                received = session.Data.Length;
                finalized = session.FileName is null ? null : _files.GetValueOrDefault(session.FileName);
            }
            else
            {
                if (!commands.Contains("upload") && !commands.Contains("finalize"))
                    throw FakeApiError.BadRequest("X-Goog-Upload-Command must be upload, finalize or query.");
                if (session.FileName is not null) throw FakeApiError.BadRequest("The upload is already finalized.");
                if (!long.TryParse(request.Headers["X-Goog-Upload-Offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
                    throw FakeApiError.BadRequest("Missing or invalid X-Goog-Upload-Offset.");
                if (offset != session.Data.Length)
                    throw FakeApiError.BadRequest($"Invalid X-Goog-Upload-Offset {offset}: {session.Data.Length} bytes were received so far.");
                var finalize = commands.Contains("finalize");
                if (!commands.Contains("upload") && body.Length > 0) throw FakeApiError.BadRequest("A finalize without upload cannot carry data.");
                if (!finalize && body.Length % UploadGranularity != 0)
                    throw FakeApiError.BadRequest($"A non-final chunk must be a multiple of {UploadGranularity} bytes; got {body.Length}.");
                if (finalize)
                {
                    try
                    {
                        CheckUploadMimeType(session.MimeType, MimeTypeRefusal.AtFinalize);
                    }
                    catch (FakeApiError)
                    {
                        _uploads.Remove(id); // no file is made, and the session is over
                        throw;
                    }
                }

                session.Data.Write(body);
                received = session.Data.Length;
                if (finalize)
                {
                    if (session.DeclaredLength is { } declared && declared != received)
                        throw FakeApiError.BadRequest($"Upload finalized with {received} bytes but {declared} were declared.");
                    finalized = new StoredFile
                    {
                        Name = "files/" + NewId(),
                        DisplayName = session.DisplayName,
                        MimeType = session.MimeType,
                        Data = session.Data.ToArray(),
                        Source = "UPLOADED",
                        CreateTime = DateTimeOffset.UtcNow,
                    };
                    session.FileName = finalized.Name;
                    _files[finalized.Name] = finalized;
                    _uploadedFiles[finalized.Name] = finalized.Data;
                }
            }
        }

        if (!commands.Contains("query") && TakeLostUploadReply())
        {
            // The chunk is stored, but its reply never reaches the client.
            context.Abort();
            return;
        }

        var response = context.Response;
        response.Headers["X-Goog-Upload-Status"] = finalized is null ? "active" : "final";
        response.Headers["X-Goog-Upload-Size-Received"] = received.ToString(CultureInfo.InvariantCulture);
        if (finalized is not null) await WriteJsonAsync(context, new JsonObject { ["file"] = FileJson(finalized) });
    }

    private Task GetFileAsync(HttpContext context, string id)
    {
        StoredFile file;
        lock (_gate) file = _files.GetValueOrDefault("files/" + id) ?? throw FileNotFound(id);
        return WriteJsonAsync(context, FileJson(file));
    }

    private Task ListFilesAsync(HttpContext context)
    {
        var size = PageSize(context.Request, 10);
        var start = PageStart(context.Request);
        StoredFile[] page;
        bool more;
        lock (_gate)
        {
            var all = _files.Values.OrderBy(f => f.Sequence).ToArray();
            page = all.Skip(start).Take(size).ToArray();
            more = start + size < all.Length;
        }

        // Empty repeated fields are omitted in proto-JSON: no files means "{}".
        var body = new JsonObject();
        if (page.Length > 0) body["files"] = new JsonArray(page.Select(f => (JsonNode)FileJson(f)).ToArray());
        if (more) body["nextPageToken"] = PageToken(start + size);
        return WriteJsonAsync(context, body);
    }

    private Task DeleteFileAsync(HttpContext context, string id)
    {
        lock (_gate)
        {
            if (!_files.Remove("files/" + id)) throw FileNotFound(id);
            _deletedFiles.Add("files/" + id);
        }

        return WriteJsonAsync(context, new JsonObject());
    }

    // GET /download/v1beta/files/{id}:download?alt=media (and the /v1beta/ spelling the SDKs use).
    private async Task DownloadFileAsync(HttpContext context, string id)
    {
        if (context.Request.Query["alt"] != "media") throw FakeApiError.BadRequest("Downloads need alt=media.");
        StoredFile file;
        lock (_gate) file = _files.GetValueOrDefault("files/" + id) ?? throw FileNotFound(id);
        context.Response.ContentType = file.MimeType;
        context.Response.ContentLength = file.Data.LongLength;
        if (StallDownloads)
        {
            // Half the body, then nothing more: a connection that stays open and silent.
            await context.Response.Body.WriteAsync(file.Data.AsMemory(0, file.Data.Length / 2));
            await context.Response.Body.FlushAsync();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { });
            return;
        }

        await context.Response.Body.WriteAsync(file.Data);
    }

    /// <summary>
    /// The real Files API answers a missing (or foreign) file with 403 PERMISSION_DENIED, not 404:
    /// "You do not have permission to access the File {id} or it may not exist."
    /// </summary>
    private static FakeApiError FileNotFound(string id) =>
        new(403, $"You do not have permission to access the File {id} or it may not exist.");

    private JsonObject FileJson(StoredFile file) => new()
    {
        ["name"] = file.Name,
        ["displayName"] = file.DisplayName,
        ["mimeType"] = file.MimeType,
        ["sizeBytes"] = file.Data.LongLength.ToString(CultureInfo.InvariantCulture), // int64 as a string
        ["createTime"] = Time(file.CreateTime),
        ["updateTime"] = Time(file.CreateTime),
        ["expirationTime"] = Time(file.CreateTime.AddHours(48)),
        ["sha256Hash"] = Convert.ToBase64String(SHA256.HashData(file.Data)),
        ["uri"] = $"{Endpoint.GetLeftPart(UriPartial.Authority)}/v1beta/{file.Name}",
        ["state"] = "ACTIVE",
        ["source"] = file.Source,
    };
}

/// <summary>Where the fake's Files API refuses an upload type it does not take.</summary>
public enum MimeTypeRefusal
{
    AtStart,
    AtFinalize,
}
