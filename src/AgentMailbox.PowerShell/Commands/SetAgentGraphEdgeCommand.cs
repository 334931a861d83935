using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Creates or replaces a typed, weighted edge between two graph nodes (keyed by source, target and type). Every
    /// parameter binds by property name, so <c>GraphEdge</c> objects and CSV rows pipe in. The server keeps edges
    /// globally, not per agent.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "AgentGraphEdge", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(GraphEdge))]
    public sealed class SetAgentGraphEdgeCommand : AgentMailboxRequestCmdlet
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

        /// <summary>The edge's type: free text, such as imports, calls or decided-by.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Type { get; set; } = "";

        /// <summary>A positive finite weight; 1 when omitted.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidatePositiveFinite]
        public double Weight { get; set; } = 1.0;

        /// <summary>Outputs the edge once it is stored.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var edge = new GraphEdge(SourceId, TargetId, Type, Weight);
            if (!ShouldProcess($"edge {edge} (weight {Weight}) from {connection.AgentId}", "Set graph edge"))
            {
                return;
            }
            try
            {
                Await(ct => connection.Client.SetGraphEdgeAsync(connection.AgentId, edge, ct));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.SetGraphEdgeFailed, edge);
                return;
            }
            if (PassThru)
            {
                WriteObject(edge);
            }
        }

        #endregion
    }
}
