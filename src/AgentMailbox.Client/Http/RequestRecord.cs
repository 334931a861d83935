using System;
using System.Threading;

namespace AgentMailbox
{
    /// <summary>One HTTP exchange, as reported to an observer for verbose logs.</summary>
    internal sealed class RequestRecord
    {
        internal RequestRecord(string method, string path, int? status, TimeSpan elapsed, string requestId, int attempt, string? note)
        {
            Method = method;
            Path = path;
            Status = status;
            Elapsed = elapsed;
            RequestId = requestId;
            Attempt = attempt;
            Note = note;
        }

        public string Method { get; }
        public string Path { get; }
        public int? Status { get; }
        public TimeSpan Elapsed { get; }
        public string RequestId { get; }
        public int Attempt { get; }
        public string? Note { get; }

        public override string ToString()
            => $"{Method} {Path} -> {(Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer")} in {Elapsed.TotalMilliseconds:0} ms"
               + $" (request id {RequestId}{(Attempt > 1 ? $", attempt {Attempt}" : "")}{(Note is null ? "" : ", " + Note)})";
    }

    /// <summary>Reports every request made by client calls in the current async flow, e.g. for -Verbose.</summary>
    internal static class RequestObserver
    {
        private static readonly AsyncLocal<Action<RequestRecord>?> Current = new AsyncLocal<Action<RequestRecord>?>();

        /// <summary>Calls <paramref name="observer"/> (on any thread) for each request until the scope is disposed.</summary>
        public static IDisposable Observe(Action<RequestRecord> observer)
        {
            var previous = Current.Value;
            Current.Value = observer;
            return new Scope(previous);
        }

        internal static void Report(RequestRecord record) => Current.Value?.Invoke(record);

        private sealed class Scope : IDisposable
        {
            private readonly Action<RequestRecord>? _previous;
            public Scope(Action<RequestRecord>? previous) => _previous = previous;
            public void Dispose() => Current.Value = _previous;
        }
    }
}
