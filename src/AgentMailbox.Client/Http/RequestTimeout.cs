using System;
using System.Threading;

namespace AgentMailbox
{
    /// <summary>
    /// A timeout for the client calls made in the current async flow, in place of the connection's
    /// <see cref="AgentMailboxClientOptions.Timeout"/> (a cmdlet's -TimeoutSec). It bounds the wait for an answer's
    /// headers and the longest stall between two body reads of each request, as the connection's timeout does.
    /// </summary>
    internal static class RequestTimeout
    {
        private static readonly AsyncLocal<TimeSpan?> Current = new AsyncLocal<TimeSpan?>();

        /// <summary>Uses <paramref name="timeout"/> (positive, or <see cref="Timeout.InfiniteTimeSpan"/>) until the scope is disposed.</summary>
        public static IDisposable Override(TimeSpan timeout)
        {
            if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be positive, or infinite.");
            }
            var previous = Current.Value;
            Current.Value = timeout;
            return new Scope(previous);
        }

        /// <summary>The timeout of the current flow, or the connection's when none is set.</summary>
        internal static TimeSpan Resolve(TimeSpan connectionTimeout) => Current.Value ?? connectionTimeout;

        private sealed class Scope : IDisposable
        {
            private readonly TimeSpan? _previous;
            private int _disposed;

            public Scope(TimeSpan? previous) => _previous = previous;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Current.Value = _previous;
                }
            }
        }
    }
}
