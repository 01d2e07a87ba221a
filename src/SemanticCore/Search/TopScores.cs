namespace SemanticCore.Search;

/// <summary>The k best (id, score) pairs offered, in a bounded min-heap: no allocation per offer.</summary>
internal sealed class TopScores(int k)
{
    private readonly PriorityQueue<long, float> heap = new(k + 1);

    public void Offer(long id, float score)
    {
        if (heap.Count < k)
        {
            heap.Enqueue(id, score);
        }
        else if (heap.TryPeek(out _, out var lowest) && score > lowest)
        {
            // Ties keep the earlier offer: offers come in chunk id order, so every path ranks ties the same way.
            heap.EnqueueDequeue(id, score);
        }
    }

    /// <summary>Best first; equal scores by chunk id.</summary>
    public List<(long Id, double Score)> Ranked() =>
        heap.UnorderedItems.OrderByDescending(e => e.Priority).ThenBy(e => e.Element).Select(e => (e.Element, (double)e.Priority)).ToList();
}
