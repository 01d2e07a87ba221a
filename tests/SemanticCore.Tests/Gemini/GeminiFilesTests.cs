using System.Globalization;
using System.Text;
using System.Text.Json;
using SemanticCore.Gemini;

namespace SemanticCore.Tests.Gemini;

public sealed class GeminiFilesTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task Upload_20MB_InThreeChunksOf8MiB_ExactOffsets_FinalizeLast_BytesIdentical()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var data = new byte[20_000_000];
        new Random(7).NextBytes(data);
        var progress = new ProgressRecorder();
        var source = new TrickleStream(data, 1 * MiB); // not seekable, short reads

        var file = await t.Client.UploadFileAsync(source, data.Length, "job-42", "application/jsonl", progress);

        var start = Assert.Single(t.RequestsTo("/upload/v1beta/files"), r => !r.QueryString.Contains("upload_id", StringComparison.Ordinal));
        Assert.Equal("POST", start.Method);
        Assert.Equal("resumable", start.Header("X-Goog-Upload-Protocol"));
        Assert.Equal("start", start.Header("X-Goog-Upload-Command"));
        Assert.Equal("20000000", start.Header("X-Goog-Upload-Header-Content-Length"));
        Assert.Equal("application/jsonl", start.Header("X-Goog-Upload-Header-Content-Type"));
        Assert.StartsWith("application/json", start.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal("job-42", JsonDocument.Parse(start.Body!).RootElement.GetProperty("file").GetProperty("displayName").GetString());

        var chunks = t.RequestsTo("upload_id=");
        Assert.Equal(3, chunks.Length);
        Assert.Equal(["0", "8388608", "16777216"], chunks.Select(c => c.Header("X-Goog-Upload-Offset")));
        Assert.Equal(["upload", "upload", "upload, finalize"], chunks.Select(c => c.Header("X-Goog-Upload-Command")));
        Assert.Equal([8L * MiB, 8L * MiB, 20_000_000L - 16 * MiB], chunks.Select(c => c.BodyLength));
        Assert.Equal([8L * MiB, 16L * MiB, 20_000_000L], progress.Values);

        Assert.Equal(data, t.Fake.UploadedFiles[file.Name]);
        Assert.StartsWith("files/", file.Name, StringComparison.Ordinal);
        Assert.Equal("job-42", file.DisplayName);
        Assert.Equal(20_000_000, file.SizeBytes);
        Assert.Equal("application/jsonl", file.MimeType);
        Assert.Equal("ACTIVE", file.State);
        Assert.NotNull(file.ExpirationTime);
    }

    [Theory]
    [InlineData(20_000_000)] // the first of three chunks loses its reply
    [InlineData(1_000)]      // the only chunk, the finalize, loses its reply
    public async Task Upload_WhoseChunkReplyIsLost_AsksTheSessionHowMuchItHolds_AndGoesOn(int bytes)
    {
        await using var t = await GeminiTestContext.StartAsync();
        var data = new byte[bytes];
        new Random(11).NextBytes(data);
        t.Fake.LoseUploadReplies = 1;

        var file = await t.Client.UploadFileAsync(new MemoryStream(data), data.Length, "job-7");

        Assert.Equal(data, t.Fake.UploadedFiles[file.Name]);
        Assert.Single(t.Fake.UploadedFiles);
        Assert.Contains(t.RequestsTo("upload_id="), r => r.Header("X-Goog-Upload-Command") == "query");
    }

    [Fact]
    public async Task Upload_WhoseChunkGetsNoAnswer_TimesOutWithinTheRequestTimeout_AndGoesOn()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var client = t.CreateClient(t.Options with { UploadChunkBytes = 256 * 1024, RequestTimeout = TimeSpan.FromSeconds(1) });
        var data = new byte[600_000];
        new Random(5).NextBytes(data);
        // The second chunk reaches a service that never answers it (a stalled proxy): the attempt must not wait forever.
        var stalled = t.Fake.Hold((method, target) => method == "POST" && target.Contains("upload_id=", StringComparison.Ordinal), skip: 1);

        var file = await client.UploadFileAsync(new MemoryStream(data), data.Length, "job-9").WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(stalled.Arrived.IsCompleted);
        Assert.Equal(data, t.Fake.UploadedFiles[file.Name]);
        // The unanswered chunk was sent again, at the same offset, after its attempt timed out.
        Assert.Equal(2, t.RequestsTo("upload_id=").Count(r => r.Header("X-Goog-Upload-Offset") == (256 * 1024).ToString(CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Upload_SmallFile_IsOneFinalizeAtOffsetZero()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var data = Encoding.UTF8.GetBytes("{\"key\":\"1\"}\n");

        var file = await t.Client.UploadFileAsync(new MemoryStream(data), data.Length, "small");

        var chunk = Assert.Single(t.RequestsTo("upload_id="));
        Assert.Equal("upload, finalize", chunk.Header("X-Goog-Upload-Command"));
        Assert.Equal("0", chunk.Header("X-Goog-Upload-Offset"));
        Assert.Equal(data, t.Fake.UploadedFiles[file.Name]);
    }

    [Fact]
    public async Task Upload_ChunkFailingWith503_IsResentAtTheSameOffset()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var client = t.CreateClient(t.Options with { UploadChunkBytes = 256 * 1024 });
        var data = new byte[600_000];
        new Random(3).NextBytes(data);
        t.Fake.FailNextRequests("upload_id=", 1, 503);

        var file = await client.UploadFileAsync(new MemoryStream(data), data.Length, "retry");

        Assert.Equal(["0", "0", "262144", "524288"], t.RequestsTo("upload_id=").Select(c => c.Header("X-Goog-Upload-Offset")));
        Assert.Equal(data, t.Fake.UploadedFiles[file.Name]);
    }

    [Fact]
    public async Task Upload_StreamShorterThanDeclared_IsAnArgumentError()
    {
        await using var t = await GeminiTestContext.StartAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => t.Client.UploadFileAsync(new MemoryStream(new byte[10]), 20, "short"));
    }

    [Fact]
    public void Options_RejectAChunkSizeOffTheProtocolGranularity()
    {
        using var http = new HttpClient();
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeminiClient(http, new ApiKey("k"), new GeminiOptions { UploadChunkBytes = 1000 }));
    }

    [Fact]
    public async Task GetListDownloadDelete_Files()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var names = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var data = Encoding.UTF8.GetBytes($"file {i}\n");
            names.Add((await t.Client.UploadFileAsync(new MemoryStream(data), data.Length, $"f{i}")).Name);
        }

        var got = await t.Client.GetFileAsync(names[1]);
        var listed = new List<GeminiFile>();
        await foreach (var f in t.Client.ListFilesAsync(pageSize: 2)) listed.Add(f);
        string downloaded;
        await using (var stream = await t.Client.DownloadFileAsync(names[2]))
        {
            downloaded = await new StreamReader(stream).ReadToEndAsync();
        }

        await t.Client.DeleteFileAsync(names[0]);
        await t.Client.DeleteFileAsync(names[0]); // already gone: the service says 403 "may not exist", still success

        Assert.Equal("f1", got.DisplayName);
        Assert.Equal(7, got.SizeBytes);
        Assert.Equal(names, listed.Select(f => f.Name));
        Assert.Equal(2, t.Fake.Requests.Count(r => r.Path == "/v1beta/files")); // two pages
        Assert.Equal("file 2\n", downloaded);
        Assert.Single(t.RequestsTo($"/download/v1beta/{names[2]}:download?alt=media"));
        Assert.Equal([names[0]], t.Fake.DeletedFiles);
        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.GetFileAsync(names[0]));
        Assert.Equal(403, e.StatusCode);
        Assert.Single(t.RequestsTo($"/v1beta/{names[0]}"), r => r.Method == "GET"); // 403 is not retried
    }

    [Fact]
    public async Task DeleteFile_404_CountsAsDeleted_ButOther403sFail()
    {
        await using var t = await GeminiTestContext.StartAsync();
        t.Fake.FailNextRequests("/v1beta/files/abc", 1, 404);
        await t.Client.DeleteFileAsync("files/abc");

        t.Fake.FailNextRequests("/v1beta/files/abc", 1, 403);
        var e = await Assert.ThrowsAsync<GeminiApiException>(() => t.Client.DeleteFileAsync("files/abc"));
        Assert.Equal("GeminiPermissionDenied", e.ToSemanticCoreException().ErrorId);
    }

    [Theory]
    [InlineData("files/../batches/x")]
    [InlineData("files/abc?key=x")]
    [InlineData("files/")]
    public async Task Names_ThatCouldEscapeTheirPath_AreRefusedBeforeAnyRequest(string name)
    {
        await using var t = await GeminiTestContext.StartAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => t.Client.GetFileAsync(name));
        Assert.Empty(t.Fake.Requests);
    }

    [Fact]
    public async Task Fake_ServesDownloadsOnBothPaths_AndChecksUploadOffsets()
    {
        await using var t = await GeminiTestContext.StartAsync();
        var file = await t.Client.UploadFileAsync(new MemoryStream("abc"u8.ToArray()), 3, "x");
        using var sdkPath = new HttpRequestMessage(HttpMethod.Get, new Uri(t.Fake.Endpoint, $"/v1beta/{file.Name}:download?alt=media"));
        sdkPath.Headers.Add("x-goog-api-key", FakeGemini.FakeGeminiServer.DefaultKey);
        var response = await t.Http.SendAsync(sdkPath);
        Assert.Equal("abc", await response.Content.ReadAsStringAsync());

        using var start = new HttpRequestMessage(HttpMethod.Post, new Uri(t.Fake.Endpoint, "/upload/v1beta/files"))
        {
            Content = new StringContent("{\"file\":{\"displayName\":\"y\"}}", Encoding.UTF8, "application/json"),
        };
        start.Headers.Add("x-goog-api-key", FakeGemini.FakeGeminiServer.DefaultKey);
        start.Headers.Add("X-Goog-Upload-Protocol", "resumable");
        start.Headers.Add("X-Goog-Upload-Command", "start");
        var session = (await t.Http.SendAsync(start)).Headers.GetValues("x-goog-upload-url").Single();
        using var wrongOffset = new HttpRequestMessage(HttpMethod.Post, session) { Content = new ByteArrayContent([1, 2]) };
        wrongOffset.Headers.Add("x-goog-api-key", FakeGemini.FakeGeminiServer.DefaultKey);
        wrongOffset.Headers.Add("X-Goog-Upload-Command", "upload, finalize");
        wrongOffset.Headers.Add("X-Goog-Upload-Offset", "5");
        Assert.Equal(400, (int)(await t.Http.SendAsync(wrongOffset)).StatusCode);
    }
}
