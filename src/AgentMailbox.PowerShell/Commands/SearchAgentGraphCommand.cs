using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Queries the agent's context graph: the nodes whose name or description contains the text, the nodes within
    /// -Depth hops of them (edges walked in both directions, at most -First nodes in all) and the edges among them,
    /// as one GraphQueryResult per query.
    /// </summary>
    [Cmdlet(VerbsCommon.Search, "AgentGraph")]
    [OutputType(typeof(GraphQueryResult))]
    public sealed class SearchAgentGraphCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The text to find in node names and descriptions (case-insensitive for ASCII letters).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Query { get; set; } = "";

        /// <summary>How many hops to walk from the matching nodes, 1 to 5 (the server's default is 2).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 5)]
        public int Depth { get; set; }

        /// <summary>The most nodes the answer holds, 1 to 200 (the server's default is 30).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 200)]
        public int First { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            // 0 is "not given": the range checks refuse it as a value, and the server's defaults then apply.
            int? depth = Depth > 0 ? Depth : (int?)null;
            int? first = First > 0 ? First : (int?)null;
            try
            {
                WriteObject(Await(ct => connection.Client.SearchGraphAsync(connection.AgentId, Query, depth, first, ct)));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.SearchGraphFailed, Query);
            }
        }

        #endregion
    }
}
