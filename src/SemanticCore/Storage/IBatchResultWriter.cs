using SemanticCore.Batches;

namespace SemanticCore.Storage;

/// <summary>
/// Stores one batch job's results, a page at a time. Every change is guarded by "this chunk is still Submitted in this
/// job", and the job's counters grow in the same transaction by exactly the chunks changed: storing the same page twice,
/// or from two processes at once, leaves the same state and the same counts. Disposing it ends the writing.
/// </summary>
internal interface IBatchResultWriter : IDisposable
{
    /// <summary>
    /// Stores a page in one transaction: its vectors make their chunks Ready, its failures make them Failed, its retries
    /// put them back to Pending with one more retry counted (Failed past the retry budget). Returns how many of the page's
    /// chunk ids the job never held (no chunk of it now, nor one removed from it or claimed away from it since).
    /// </summary>
    long Store(ResultPage page);

    /// <summary>Retries, in one transaction and as <see cref="Store"/> does, every chunk still Submitted in the job, with <paramref name="message"/>.</summary>
    void RetryRest(string message);
}
