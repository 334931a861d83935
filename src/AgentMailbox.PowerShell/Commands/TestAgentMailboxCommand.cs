using System;
using System.Diagnostics;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Probes a server's /health. An unreachable server is an answer (Reachable = $false), not an error.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "AgentMailbox", DefaultParameterSetName = ByServer)]
    [OutputType(typeof(HealthCheckResult), ParameterSetName = new[] { ByServer, ByConnection })]
    [OutputType(typeof(bool))]
    public sealed class TestAgentMailboxCommand : AgentMailboxCmdlet
    {
        private const string ByServer = "Server";
        private const string ByConnection = "Connection";
        private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

        #region Parameters

        /// <summary>The server to probe; defaults to the default connection's server, then the environment, then http://localhost:3000.</summary>
        [Parameter(Position = 0, ParameterSetName = ByServer)]
        [ValidateServerUri]
        public Uri? Server { get; set; }

        /// <summary>Probe the server of this connection.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByConnection, ValueFromPipeline = true)]
        [ValidateNotNull]
        public Connection? Connection { get; set; }

        /// <summary>Output only $true or $false.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Seconds the probe may wait for an answer (also with -Connection); a server slower than that is unreachable. Default 10.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int TimeoutSec { get; set; } = (int)ProbeTimeout.TotalSeconds;

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override TimeSpan? CallTimeout => TimeSpan.FromSeconds(TimeoutSec);

        private DateTime _startedUtc;

        /// <summary>A probe answers within its own timeout.</summary>
        protected override DateTime? CallDeadline => _startedUtc + TimeSpan.FromSeconds(TimeoutSec);

        protected override void ProcessRecord()
        {
            _startedUtc = DateTime.UtcNow;
            var connection = Connection ?? (Server is null ? DefaultConnection.Current : null);
            if (connection is not null && !TryLease(connection))
            {
                connection = Connection ?? DefaultConnection.Current;
                if (connection is not null && !TryLease(connection)) connection = null;
            }
            Uri? server = Server;
            if (connection is not null && connection.IsClosed)
            {
                // A closed connection's server can still be probed (health needs no key), with a client of its own.
                server = connection.Server;
                connection = null;
            }
            string? problem = null;
            server ??= EnvironmentDefaults.Server(out problem);
            if (problem is not null)
            {
                WriteWarning($"{problem} Probing {server.AbsoluteUri} instead.");
            }
            // A probe makes one attempt and answers within -TimeoutSec: a client of its own with retries off, which
            // for a connection reaches its server the way the connection does (no key: /health needs none).
            using var client = new AgentMailboxClient(connection is not null
                ? connection.Client.ProbeOptions(TimeSpan.FromSeconds(TimeoutSec))
                : new AgentMailboxClientOptions
                {
                    Server = server,
                    Timeout = TimeSpan.FromSeconds(TimeoutSec),
                    MaximumRetryCount = 0,
                    BlockingIO = true,
                });
            var watch = Stopwatch.StartNew();
            HealthCheckResult result;
            try
            {
                var health = Await(ct => client.GetHealthAsync(ct));
                watch.Stop();
                result = new HealthCheckResult(client.Server, health.Ok, Math.Round(watch.Elapsed.TotalMilliseconds, 2),
                    health.Ok ? null : "The server answered its health probe with ok = false.");
            }
            catch (Exception ex) when (ex is AgentMailboxException)
            {
                WriteVerbose(ex.Message);
                result = new HealthCheckResult(client.Server, false, null, ex.Message);
            }
            WriteObject(Quiet ? (object)result.Reachable : result);
        }

        #endregion
    }
}
