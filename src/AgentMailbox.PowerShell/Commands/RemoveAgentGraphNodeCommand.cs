using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Removes nodes of the agent's context graph, and with each node every edge to or from it. Ids come as
    /// arguments, as piped strings, or from the Id property of piped nodes. Removing a node that does not exist
    /// succeeds, as the server does.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "AgentGraphNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveAgentGraphNodeCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The nodes to remove.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Id { get; set; } = Array.Empty<string>();

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            foreach (string id in Id)
            {
                if (!ShouldProcess($"node {id} of {connection.AgentId} and its edges", "Remove graph node"))
                {
                    continue;
                }
                try
                {
                    Await(async ct =>
                    {
                        await connection.Client.RemoveGraphNodeAsync(connection.AgentId, id, ct).ConfigureAwait(false);
                        return true;
                    });
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.RemoveGraphNodeFailed, id);
                }
            }
        }

        #endregion
    }
}
