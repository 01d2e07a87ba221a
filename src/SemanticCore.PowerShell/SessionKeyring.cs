using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using System.Security;
using SemanticCore.Embedding;

namespace SemanticCore.PowerShell;

/// <summary>
/// The keys set by Set-SemanticKeyring, held per runspace (a PowerShell session) as read-only
/// SecureStrings: they never reach the disk, the index or another session in the same process.
/// </summary>
internal static class SessionKeyring
{
    private static readonly ConditionalWeakTable<Runspace, Keys> BySession = new();

    public static SecureString? Get(KeyKind kind)
    {
        var keys = Current();
        return keys is null ? null : kind == KeyKind.Batch ? keys.Batch : keys.Default;
    }

    public static void Set(KeyKind kind, SecureString key)
    {
        var copy = key.Copy();
        copy.MakeReadOnly();
        var keys = BySession.GetOrCreateValue(Runspace.DefaultRunspace);
        var old = kind == KeyKind.Batch ? keys.Batch : keys.Default;
        if (kind == KeyKind.Batch) keys.Batch = copy;
        else keys.Default = copy;
        old?.Dispose();
    }

    public static void Clear()
    {
        if (Current() is not { } keys) return;
        keys.Default?.Dispose();
        keys.Batch?.Dispose();
        keys.Default = keys.Batch = null;
    }

    private static Keys? Current() =>
        Runspace.DefaultRunspace is { } runspace && BySession.TryGetValue(runspace, out var keys) ? keys : null;

    private sealed class Keys
    {
        public SecureString? Default { get; set; }
        public SecureString? Batch { get; set; }
    }
}
