using SemanticCore.Model;

namespace SemanticCore.Storage;

/// <summary>
/// The index's spend ledger: one entry per billed embedding call, read back per UTC day and kind. A batch job is
/// recorded by the job store, in the transaction that ends it (<see cref="IBatchJobStore.Finish"/>,
/// <see cref="IBatchJobStore.EndWithoutResults"/>), so it is billed once however many processes end it.
/// </summary>
internal interface ISpendLedger
{
    /// <summary>Records one interactive call (an import's embedding call, or a query) of <paramref name="tokens"/> at the interactive price.</summary>
    void RecordCall(SpendKind kind, IndexSettings settings, long tokens);

    /// <summary>The calls made from <paramref name="since"/> up to <paramref name="until"/> (UTC, either open), one entry per UTC day and kind, by day then kind.</summary>
    IEnumerable<SpendDay> Days(DateTime? since, DateTime? until);
}
