using System;
using System.Collections;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Threading;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Registers the agent and makes the connection the session's default.</summary>
    [Cmdlet(VerbsCommunications.Connect, "AgentMailbox")]
    [OutputType(typeof(Connection))]
    public sealed class ConnectAgentMailboxCommand : AgentMailboxCmdlet
    {
        #region Parameters

        /// <summary>The agent to act as; defaults to $env:AGENTSMCP_AGENT_ID.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateAgentId]
        public string? AgentId { get; set; }

        /// <summary>The server; defaults to $env:AGENTSMCP_SERVER, then $env:AGENTMAILBOX_SERVER, then http://localhost:3000.</summary>
        [Parameter]
        [ValidateServerUri]
        public Uri? Server { get; set; }

        /// <summary>The server's bearer key; defaults to $env:AGENTSMCP_API_KEY, then $env:AGENTMAILBOX_API_KEY.</summary>
        [Parameter]
        public SecureString? ApiKey { get; set; }

        /// <summary>Seconds to wait for an answer (and the longest a body may stall); 0 waits forever. Default 100.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; } = 100;

        /// <summary>How often a request is retried when that cannot duplicate anything. Default 3.</summary>
        [Parameter]
        [ValidateRange(0, 100)]
        public int MaximumRetryCount { get; set; } = 3;

        /// <summary>Seconds before the first retry; later ones back off exponentially with jitter. Default 1.</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public int RetryIntervalSec { get; set; } = 1;

        /// <summary>Allows sending the API key over plain http to a host other than loopback.</summary>
        [Parameter]
        public SwitchParameter AllowUnencryptedAuthentication { get; set; }

        /// <summary>Skips TLS certificate validation (self-signed test servers only); writes a warning.</summary>
        [Parameter]
        public SwitchParameter SkipCertificateCheck { get; set; }

        /// <summary>Outputs the connection, to pass to other cmdlets with -Connection.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            string agentId = ResolveAgentId();
            Uri server = ResolveServer();
            string? apiKey = ResolveApiKey();

            if (apiKey is not null && server.Scheme == Uri.UriSchemeHttp && !AgentMailboxClient.IsLoopback(server) && !AllowUnencryptedAuthentication)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException(
                        $"Refusing to send the API key over unencrypted http to {server.Host}. Use https, or give -AllowUnencryptedAuthentication."),
                    ErrorIds.UnencryptedAuthentication, ErrorCategory.SecurityError, server));
            }
            if (SkipCertificateCheck)
            {
                WriteWarning("-SkipCertificateCheck: the server's TLS certificate is not checked; anyone on the path can read and change the traffic.");
            }

            var client = new AgentMailboxClient(new AgentMailboxClientOptions
            {
                Server = server,
                ApiKey = apiKey,
                AllowUnencryptedAuthentication = AllowUnencryptedAuthentication,
                SkipCertificateCheck = SkipCertificateCheck,
                Timeout = TimeoutSec == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(TimeoutSec),
                MaximumRetryCount = MaximumRetryCount,
                RetryInterval = TimeSpan.FromSeconds(RetryIntervalSec),
                ValueConverter = PSJsonValueConverter.Instance,
                // Every call is awaited on the pipeline thread (AgentMailboxCmdlet.Await): do the I/O there.
                BlockingIO = true,
                UserAgent = UserAgent(),
            });

            RegisterResult registered;
            try
            {
                registered = Await(ct => client.RegisterAsync(agentId, ct));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                client.Dispose();
                ThrowTerminatingError(CreateErrorRecord(ex, ErrorIds.ConnectFailed, server));
                return;
            }
            catch
            {
                client.Dispose();
                throw;
            }

            var connection = new Connection(agentId, client, registered.Created, DateTimeOffset.UtcNow) { HandedOut = PassThru };
            // The connection replaced is closed once no call uses it, unless a script may hold it (it was output).
            var replaced = DefaultConnection.Exchange(connection);
            if (replaced is not null && !replaced.HandedOut)
            {
                replaced.Retire();
            }
            WriteVerbose($"Connected as {agentId} to {server.AbsoluteUri} ({(registered.Created ? "a new agent" : "an existing agent")}).");
            if (PassThru)
            {
                WriteObject(connection);
            }
        }

        #endregion

        #region Private methods

        private string ResolveAgentId()
        {
            string? agentId = AgentId ?? EnvironmentDefaults.AgentId();
            if (string.IsNullOrWhiteSpace(agentId))
            {
                var record = new ErrorRecord(
                    new ArgumentException("No agent id: give -AgentId, or set $env:AGENTSMCP_AGENT_ID.", nameof(AgentId)),
                    ErrorIds.MissingAgentId, ErrorCategory.InvalidArgument, null);
                ThrowTerminatingError(record);
            }
            return agentId!;
        }

        private Uri ResolveServer()
        {
            if (Server is not null)
            {
                return Server;
            }
            var server = EnvironmentDefaults.Server(out string? problem);
            if (problem is not null)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem, nameof(Server)),
                    ErrorIds.ConnectFailed, ErrorCategory.InvalidArgument, null));
            }
            return server;
        }

        private string? ResolveApiKey()
            => ApiKey is not null ? new NetworkCredential(string.Empty, ApiKey).Password : EnvironmentDefaults.ApiKey();

        private string UserAgent()
        {
            string module = typeof(ConnectAgentMailboxCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
            object? psVersion = (SessionState.PSVariable.GetValue("PSVersionTable") as Hashtable)?["PSVersion"];
            return $"AgentMailbox/{module} PowerShell/{psVersion ?? "unknown"}";
        }

        #endregion
    }
}
