using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Removes an edge (keyed by source, target and type). Every parameter binds by property name, so the edges of
    /// <c>Search-AgentGraph</c> pipe in. Removing an edge that does not exist succeeds, as the server does.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "AgentGraphEdge", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveAgentGraphEdgeCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The id of the node the edge leaves.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SourceId { get; set; } = "";

        /// <summary>The id of the node the edge reaches.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string TargetId { get; set; } = "";

        /// <summary>The edge's type.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Type { get; set; } = "";

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var edge = new GraphEdge(SourceId, TargetId, Type);
            if (!ShouldProcess($"edge {edge}", "Remove graph edge"))
            {
                return;
            }
            try
            {
                Await(async ct =>
                {
                    await connection.Client.RemoveGraphEdgeAsync(connection.AgentId, SourceId, TargetId, Type, ct).ConfigureAwait(false);
                    return true;
                });
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.RemoveGraphEdgeFailed, edge);
            }
        }

        #endregion
    }
}
