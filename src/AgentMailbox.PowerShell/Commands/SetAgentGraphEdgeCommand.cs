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
        private ThrottledRequests<GraphEdge>? _upserts;

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

        /// <summary>
        /// How many upserts may be in flight at once (1 to 64; default 1, one after another). Outputs still come out in
        /// input order, and inputs for the same edge (source, target, type) are sent one after another in input order.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        #endregion

        #region Overrides

        protected override void BeginProcessing()
            => _upserts = StartRequests<GraphEdge>(ThrottleLimit, new CommandProgress(this, "Set-AgentGraphEdge", "set"));

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var edge = new GraphEdge(SourceId, TargetId, Type, Weight);
            bool passThru = PassThru;
            if (!ShouldProcess($"edge {edge} (weight {Weight}) from {connection.AgentId}", "Set graph edge"))
            {
                return;
            }
            _upserts!.Submit("edge\n" + edge.SourceId + "\n" + edge.TargetId + "\n" + edge.Type,
                ct => connection.Client.SetGraphEdgeAsync(connection.AgentId, edge, ct),
                _ =>
                {
                    if (passThru)
                    {
                        WriteObject(edge);
                    }
                },
                ex => WriteFailure(ex, ErrorIds.SetGraphEdgeFailed, edge));
        }

        protected override void EndProcessing() => _upserts?.Complete();

        #endregion
    }
}
