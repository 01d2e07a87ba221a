using Microsoft.Data.Sqlite;

namespace SemanticCore.Storage.Sqlite;

/// <summary>
/// The searchable vectors of each index this process searched, kept in memory (float32: about 300 MB
/// per 100,000 vectors of 768 dimensions) so that later queries read nothing but one data version
/// from the file. An entry is used only while the file's 'vectors' data version is the one it was read
/// at: any change by any process (import, sync, reset, delete) makes the next search read it again.
/// </summary>
public static class VectorCache
{
    private static readonly Dictionary<string, VectorSet> Sets = new(StringComparer.Ordinal);
    private static readonly object Gate = new();

    /// <summary>Memory the cache holds now, in bytes.</summary>
    public static long Bytes
    {
        get
        {
            lock (Gate) return Sets.Values.Sum(s => s.Bytes);
        }
    }

    /// <summary>Forgets the vectors of one index (-NoCache), or of every index.</summary>
    public static void Evict(string? databasePath = null)
    {
        lock (Gate)
        {
            if (databasePath is null) Sets.Clear();
            else Sets.Remove(databasePath);
        }
    }

    /// <summary>The current vectors of the index at <paramref name="databasePath"/>; <paramref name="fromCache"/> says whether they were already in memory.</summary>
    internal static VectorSet Get(SqliteConnection connection, string databasePath, IndexSettings settings, CancellationToken cancellationToken, out bool fromCache)
    {
        var version = DataVersion.Read(connection);
        lock (Gate)
        {
            if (Sets.TryGetValue(databasePath, out var set) && set.Version == version && set.Dimensions == settings.Dimensions)
            {
                fromCache = true;
                return set;
            }

            // Drop the stale set before reading the new one: never two copies in memory.
            Sets.Remove(databasePath);
            set = VectorSet.Load(connection, settings, cancellationToken);
            Sets[databasePath] = set;
            fromCache = false;
            return set;
        }
    }
}
