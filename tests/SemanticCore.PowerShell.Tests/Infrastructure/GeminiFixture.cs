using System.Security;
using FakeGemini;

namespace SemanticCore.PowerShell.Tests.Infrastructure;

/// <summary>
/// A loopback fake of the Gemini API for one test, with the module pointed at it
/// ($env:SEMANTICCORE_GEMINI_ENDPOINT; the hosted tests run one at a time, so a process-wide variable is safe).
/// </summary>
public sealed class GeminiFake : IAsyncDisposable
{
    public const string BatchKey = "batch-key-7f3a9c2e5d1b";
    public const string DefaultKey = "default-key-4e8b2a6c0f9d";

    private GeminiFake(FakeGeminiServer server)
    {
        Server = server;
        Server.ValidKeys = new HashSet<string> { BatchKey, DefaultKey };
        Environment.SetEnvironmentVariable("SEMANTICCORE_GEMINI_ENDPOINT", server.Endpoint.ToString());
    }

    public FakeGeminiServer Server { get; }

    public static async Task<GeminiFake> StartAsync() => new(await FakeGeminiServer.StartAsync());

    /// <summary>Variables for a script: $BatchKey and $ApiKey as SecureStrings, as a user would hold them.</summary>
    public static Dictionary<string, object?> KeyVariables() => new()
    {
        ["BatchKey"] = Secure(BatchKey),
        ["ApiKey"] = Secure(DefaultKey),
    };

    public static SecureString Secure(string value)
    {
        var secure = new SecureString();
        foreach (var c in value) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    public async ValueTask DisposeAsync()
    {
        Environment.SetEnvironmentVariable("SEMANTICCORE_GEMINI_ENDPOINT", null);
        await Server.DisposeAsync();
    }
}
