using System;
using System.Threading;

namespace AgentMailbox
{
    /// <summary>
    /// An agent's connection to an AgentMailbox server: the agent id every cmdlet acts as, and the HTTP client it
    /// uses. <c>Connect-AgentMailbox</c> makes one (and makes it the session's default); pass it to any cmdlet with
    /// <c>-Connection</c> to act as several agents in one script. Its API key is never shown.
    /// </summary>
    public sealed class Connection
    {
        internal Connection(string agentId, AgentMailboxClient client, bool created, DateTimeOffset connectedAt)
        {
            AgentId = agentId;
            Client = client;
            Created = created;
            ConnectedAt = connectedAt;
        }

        /// <summary>The agent this connection acts as.</summary>
        public string AgentId { get; }

        /// <summary>The server's base URI.</summary>
        public Uri Server => Client.Server;

        /// <summary>True when connecting registered a new agent; false when it already existed.</summary>
        public bool Created { get; }

        /// <summary>When the connection was made (UTC).</summary>
        public DateTimeOffset ConnectedAt { get; }

        internal AgentMailboxClient Client { get; }

        internal bool IsClosed => Client.IsDisposed;

        /// <summary>Closes the client now: calls in progress end with the module's ConnectionClosed error.</summary>
        internal void Close() => Client.Dispose();

        private int _leases;
        private int _retired;

        /// <summary>True once this connection has been output (Connect -PassThru, Get-AgentMailboxConnection): a
        /// script may hold it and use it with -Connection, so replacing the default must not close it.</summary>
        internal bool HandedOut { get; set; }

        /// <summary>Marks one call using this connection (<see cref="Release"/> ends it); false when it is retired.</summary>
        internal bool TryLease()
        {
            Interlocked.Increment(ref _leases);
            if (Volatile.Read(ref _retired) == 1)
            {
                Release();
                return false;
            }
            return true;
        }

        /// <summary>Ends a call; the last call on a retired connection closes it.</summary>
        internal void Release()
        {
            if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) == 1)
            {
                Close();
            }
        }

        /// <summary>Closes the connection once no call is using it (at once when none is). Calls already in progress
        /// finish normally.</summary>
        internal void Retire()
        {
            if (Interlocked.Exchange(ref _retired, 1) == 0 && Volatile.Read(ref _leases) == 0)
            {
                Close();
            }
        }

        /// <summary>The calls using this connection now (for tests).</summary>
        internal int LeaseCount => Volatile.Read(ref _leases);

        public override string ToString() => $"{AgentId} on {Server.AbsoluteUri}";
    }

    /// <summary>The result of <c>Test-AgentMailbox</c>: whether the server answered its health probe, and how fast.</summary>
    public sealed class HealthCheckResult
    {
        internal HealthCheckResult(Uri server, bool reachable, double? latencyMs, string? error)
        {
            Server = server;
            Reachable = reachable;
            LatencyMs = latencyMs;
            Error = error;
        }

        public Uri Server { get; }
        public bool Reachable { get; }

        /// <summary>The round trip of the health probe in milliseconds, or null when the server did not answer.</summary>
        public double? LatencyMs { get; }

        /// <summary>Why the server is not reachable, or null.</summary>
        public string? Error { get; }

        public override string ToString() => $"{Server.AbsoluteUri} {(Reachable ? "reachable" : "unreachable")}";
    }
}

namespace AgentMailbox.PowerShell
{
    /// <summary>The session's default connection, shared by every runspace of the process.</summary>
    internal static class DefaultConnection
    {
        private static Connection? _current;

        internal static Connection? Current => Volatile.Read(ref _current);

        /// <summary>Makes <paramref name="connection"/> the default and returns the one it replaced.</summary>
        internal static Connection? Exchange(Connection? connection) => Interlocked.Exchange(ref _current, connection);

        /// <summary>Clears the default only if it is still <paramref name="connection"/>.</summary>
        internal static bool Clear(Connection connection) => ReferenceEquals(Interlocked.CompareExchange(ref _current, null, connection), connection);
    }
}
