using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Outputs the session's default connection, or nothing when not connected.</summary>
    [Cmdlet(VerbsCommon.Get, "AgentMailboxConnection")]
    [OutputType(typeof(Connection))]
    public sealed class GetAgentMailboxConnectionCommand : PSCmdlet
    {
        protected override void ProcessRecord()
        {
            var connection = DefaultConnection.Current;
            if (connection is not null && !connection.IsClosed)
            {
                connection.HandedOut = true;
                WriteObject(connection);
            }
        }
    }
}
