using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Reads public agent cards (A2A discovery): a registered agent's card, or without -AgentId the server's own.
    /// The routes need no key and no registration, so -Server alone is enough; without it the cmdlet reads from the
    /// server of -Connection or of the default connection.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AgentCard", DefaultParameterSetName = ByServer)]
    [OutputType(typeof(AgentCard))]
    public sealed class GetAgentCardCommand : AgentMailboxCmdlet, IDisposable
    {
        private const string ByServer = "Server";
        private const string ByConnection = "Connection";

        private readonly Dictionary<string, AgentMailboxClient> _owned = new Dictionary<string, AgentMailboxClient>(StringComparer.Ordinal);

        /// <summary>-AgentId was given as an argument (not bound from the pipeline).</summary>
        private bool _agentIdGiven;

        #region Parameters

        /// <summary>The agents whose cards to read; the server's own card when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string[]? AgentId { get; set; }

        /// <summary>The server to read from, without connecting; binds from the Server property of piped objects.</summary>
        [Parameter(ParameterSetName = ByServer, ValueFromPipelineByPropertyName = true)]
        [ValidateServerUri]
        public Uri? Server { get; set; }

        /// <summary>Read from the server of this connection.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByConnection)]
        [ValidateNotNull]
        public Connection? Connection { get; set; }

        /// <summary>Seconds each request may wait for an answer; 0 waits forever.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; }

        /// <summary>The piped object, to tell an agent id piped as text from an object that has none.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        [AllowNull]
        public PSObject? InputObject { get; set; }

        #endregion

        #region Overrides

        /// <inheritdoc />
        protected override TimeSpan? CallTimeout
            => !MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? null
               : TimeoutSec == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(TimeoutSec);

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            _agentIdGiven = MyInvocation.BoundParameters.ContainsKey(nameof(AgentId));
        }

        protected override void ProcessRecord()
        {
            var client = ClientFor(Server ?? Connection?.Server ?? DefaultConnection.Current?.Server);
            string[]? agentIds = AgentId;
            if (!_agentIdGiven && agentIds is not null && InputObject is not null && !(InputObject.BaseObject is string)
                && InputObject.Properties["AgentId"] is null)
            {
                // Pipeline binding's last resort converted the piped object itself to text for -AgentId: an object
                // without an AgentId property (a row with only a Server column) names no agent, so the card read is
                // the server's own.
                agentIds = null;
            }
            if (agentIds is null)
            {
                try
                {
                    WriteObject(Await(ct => client.GetServerCardAsync(ct)));
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.GetAgentCardFailed, client.Server);
                }
                return;
            }
            foreach (string id in agentIds)
            {
                try
                {
                    WriteObject(Await(ct => client.GetAgentCardAsync(id, ct)));
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    var record = CreateErrorRecord(ex, ErrorIds.GetAgentCardFailed, id, ErrorIds.AgentNotFound);
                    if (ex is AgentMailboxNotFoundException)
                    {
                        record.ErrorDetails = new ErrorDetails($"No agent '{id}' is registered on {client.Server.AbsoluteUri}.")
                        {
                            RecommendedAction = "Check the agent id; an agent is registered when it first connects (Connect-AgentMailbox).",
                        };
                    }
                    WriteError(record);
                }
            }
        }

        protected override void EndProcessing() => DisposeOwned();

        void IDisposable.Dispose()
        {
            DisposeOwned();
            Dispose();
        }

        #endregion

        #region Private methods

        /// <summary>
        /// The client to read <paramref name="server"/> with: the connection's own when the server is its server (so
        /// its key, certificate and proxy settings apply), else one made for this command and disposed at its end.
        /// </summary>
        private AgentMailboxClient ClientFor(Uri? server)
        {
            var connection = Connection ?? DefaultConnection.Current;
            if (server is null)
            {
                var record = new ErrorRecord(
                    new InvalidOperationException("No server to read agent cards from: give -Server, or connect first (Connect-AgentMailbox)."),
                    ErrorIds.MissingServer, ErrorCategory.ConnectionError, null);
                record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = "Get-AgentCard -Server <uri>" };
                ThrowTerminatingError(record);
            }
            if (connection is not null && !connection.IsClosed && Uri.Compare(connection.Server, server, UriComponents.HttpRequestUrl,
                    UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                return connection.Client;
            }
            string key = server!.AbsoluteUri;
            if (!_owned.TryGetValue(key, out var client))
            {
                client = new AgentMailboxClient(new AgentMailboxClientOptions
                {
                    Server = server,
                    ValueConverter = PSJsonValueConverter.Instance,
                    BlockingIO = true,
                    UserAgent = UserAgent(),
                });
                _owned.Add(key, client);
            }
            return client;
        }

        private void DisposeOwned()
        {
            foreach (var client in _owned.Values)
            {
                client.Dispose();
            }
            _owned.Clear();
        }

        private string UserAgent()
        {
            string module = typeof(GetAgentCardCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
            object? psVersion = (SessionState.PSVariable.GetValue("PSVersionTable") as Hashtable)?["PSVersion"];
            return $"AgentMailbox/{module} PowerShell/{psVersion ?? "unknown"}";
        }

        #endregion
    }
}
