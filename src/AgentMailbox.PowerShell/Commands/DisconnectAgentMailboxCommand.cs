using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Closes a connection (the default one unless -Connection is given) and releases its resources.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "AgentMailbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(void))]
    public sealed class DisconnectAgentMailboxCommand : AgentMailboxCmdlet
    {
        #region Parameters

        /// <summary>The connection to close; the session's default when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public Connection? Connection { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = Connection ?? DefaultConnection.Current;
            if (connection is null)
            {
                WriteVerbose("Not connected; nothing to disconnect.");
                return;
            }
            if (!ShouldProcess(connection.ToString(), "Disconnect"))
            {
                return;
            }
            DefaultConnection.Clear(connection);
            connection.Close();
            WriteVerbose($"Disconnected {connection}.");
        }

        #endregion
    }
}
