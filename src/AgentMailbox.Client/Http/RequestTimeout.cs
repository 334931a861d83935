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

        private static readonly AsyncLocal<DateTime?> Deadline = new AsyncLocal<DateTime?>();

        /// <summary>
        /// Bounds everything the client calls of the current async flow do until the scope is disposed, retry waits
        /// included, by <paramref name="deadlineUtc"/> (a whole command's timeout): a retry whose wait would end
        /// after it is not made, the call fails with the failure that asked for it, and each attempt waits for its
        /// answer no longer than what is left.
        /// </summary>
        public static IDisposable Until(DateTime deadlineUtc)
        {
            var previous = Deadline.Value;
            Deadline.Value = previous is DateTime earlier && earlier < deadlineUtc ? earlier : deadlineUtc;
            return new DeadlineScope(previous);
        }

        /// <summary>The time left before the current flow's deadline, or null when it has none.</summary>
        internal static TimeSpan? Left()
        {
            if (Deadline.Value is not DateTime deadline)
            {
                return null;
            }
            var left = deadline - DateTime.UtcNow;
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }

        /// <summary>The timeout of one attempt: <paramref name="timeout"/>, cut to what is left before the deadline.</summary>
        internal static TimeSpan ForAttempt(TimeSpan timeout)
        {
            if (Left() is not TimeSpan left)
            {
                return timeout;
            }
            if (left < TimeSpan.FromMilliseconds(1))
            {
                left = TimeSpan.FromMilliseconds(1);
            }
            return timeout == Timeout.InfiniteTimeSpan || left < timeout ? left : timeout;
        }

        private sealed class DeadlineScope : IDisposable
        {
            private readonly DateTime? _previous;
            private int _disposed;

            public DeadlineScope(DateTime? previous) => _previous = previous;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Deadline.Value = _previous;
                }
            }
        }

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
