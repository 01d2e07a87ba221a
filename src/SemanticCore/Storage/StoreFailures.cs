using System.Data.Common;
using SemanticCore.Storage.Postgres;
using SemanticCore.Storage.Sqlite;

namespace SemanticCore.Storage;

/// <summary>A store's failures, whichever engine raised them, as the module's documented ErrorIds.</summary>
public static class StoreFailures
{
    /// <param name="fallbackId">The ErrorId of any other failure (what the caller was doing: DatabaseWriteFailed, IndexReadFailed...).</param>
    public static SemanticCoreException Map(DbException exception, string database, string fallbackId, FailureKind fallbackKind = FailureKind.ResourceUnavailable) =>
        PostgresFailures.TryMap(exception, database, fallbackId, fallbackKind) ?? SqliteFailures.Map(exception, database, fallbackId, fallbackKind);

    /// <summary>
    /// A failure that the store caused (a lock held past the busy timeout, a full disk, a lost server...) as the documented
    /// ErrorId of that cause, as <see cref="Map"/> gives it; any other failure as it is.
    /// </summary>
    public static SemanticCoreException ByCause(SemanticCoreException exception, string database)
    {
        for (var cause = exception.InnerException; cause is not null; cause = cause.InnerException)
        {
            if (cause is not DbException store) continue;
            var mapped = Map(store, database, exception.ErrorId, exception.Kind);
            return mapped.ErrorId == exception.ErrorId ? exception : mapped;
        }

        return exception;
    }
}
