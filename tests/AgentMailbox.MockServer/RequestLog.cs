namespace AgentMailbox.MockServer;

/// <summary>The requests received so far, in arrival order, keeping the most recent
/// <c>capacity</c> ones. Thread-safe.</summary>
internal sealed class RequestLog(int capacity)
{
    public const int MaxBodyChars = 64 * 1024;

    private readonly object _gate = new();
    private readonly Queue<RecordedRequest> _requests = new();

    public void Add(RecordedRequest request)
    {
        if (capacity <= 0)
        {
            return;
        }

        lock (_gate)
        {
            _requests.Enqueue(request);
            while (_requests.Count > capacity)
            {
                _requests.Dequeue();
            }
        }
    }

    public IReadOnlyList<RecordedRequest> Snapshot()
    {
        lock (_gate)
        {
            return _requests.ToArray();
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }
}
