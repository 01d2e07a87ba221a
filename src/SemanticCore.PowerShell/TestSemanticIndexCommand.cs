using System.Management.Automation;
using SemanticCore.Embedding;
using SemanticCore.Model;
using SemanticCore.Storage;

namespace SemanticCore.PowerShell;

/// <summary>
/// <para type="synopsis">Checks an index's health: one result per rule (failed and stale chunks, long jobs, missing sources, keyword index, integrity, keys).</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "SemanticIndex")]
[OutputType(typeof(IndexCheck))]
public sealed class TestSemanticIndexCommand : SemanticCmdlet
{
    /// <summary>Pending chunks older than this many hours fail the StalePending rule.</summary>
    [Parameter]
    [ValidateRange(0.01, 8760)]
    public double PendingHours { get; set; } = 24;

    /// <summary>Batch jobs active longer than this many hours fail the LongRunningJobs rule.</summary>
    [Parameter]
    [ValidateRange(0.01, 8760)]
    public double JobHours { get; set; } = 24;

    /// <summary>The index to check: a path, or a file from Get-ChildItem (by FullName or PSPath).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath")]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }

    protected override void OnProcessRecord()
    {
        var index = OpenIndex(createIfMissing: false);
        WriteVerbose($"Checking '{index.DatabasePath}' ({index.Settings}).");
        foreach (var check in IndexHealth.Check(index, TimeSpan.FromHours(PendingHours), TimeSpan.FromHours(JobHours))) WriteObject(check);
        WriteObject(KeysCheck(index));
    }

    /// <summary>Whether the keys this index's provider needs are configured (session keyring or environment); never the keys.</summary>
    private static IndexCheck KeysCheck(SemanticIndex index)
    {
        if (index.Settings.RunsOnThisMachine)
        {
            return new IndexCheck { Name = "Keys", Passed = true, Message = $"The {index.Settings.Provider} provider needs no key.", Database = index.DatabasePath };
        }

        var missing = new List<object>();
        var found = new List<string>();
        foreach (var entry in KeyringEntries.Current())
        {
            if (entry.Source == "None") missing.Add(entry.Kind);
            else found.Add($"{entry.Kind} key from {entry.Source} ({entry.Fingerprint})");
        }

        var message = missing.Count == 0
            ? $"{string.Join("; ", found)}."
            : $"No {string.Join(" or ", missing.Select(k => k.ToString()!.ToLowerInvariant()))} key in this session or the environment" +
              (missing.Contains("Batch") ? ": flushes and syncs need the batch key (Set-SemanticKeyring -BatchApiKey, or $env:GEMINI_BATCH_API_KEY)" : "") +
              (missing.Contains("Default") ? ": Sync imports and semantic search need the default key (Set-SemanticKeyring -ApiKey, or $env:GEMINI_API_KEY)" : "") + ".";
        return new IndexCheck { Name = "Keys", Passed = missing.Count == 0, Count = missing.Count, Message = message, Items = [.. missing], Database = index.DatabasePath };
    }
}

/// <summary>Where each key comes from, as commands resolve it without a key parameter.</summary>
internal static class KeyringEntries
{
    public static IEnumerable<KeyringEntry> Current()
    {
        foreach (var kind in new[] { KeyKind.Default, KeyKind.Batch })
        {
            var session = SessionKeyring.Get(kind) is { Length: > 0 };
            var variable = kind == KeyKind.Batch
                ? Set(Keyring.BatchKeyVariable)
                : Set(Keyring.ApiKeyVariable) ?? Set(Keyring.AlternateApiKeyVariable);
            string? fingerprint;
            try
            {
                // The key a command given no key parameter would use, resolved as commands resolve it.
                fingerprint = SemanticCmdlet.ResolveKey(kind, null)?.Fingerprint;
            }
            catch (SemanticCoreException)
            {
                fingerprint = "(malformed)";
            }

            yield return new KeyringEntry
            {
                Kind = kind.ToString(),
                Source = session ? "Session" : variable is not null ? "Environment" : "None",
                Session = session,
                EnvironmentVariable = variable,
                Fingerprint = fingerprint,
            };
        }
    }

    private static string? Set(string variable) => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable)) ? null : variable;
}
