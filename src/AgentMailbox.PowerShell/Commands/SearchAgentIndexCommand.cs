using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Searches the agent's codebase index: entries whose key or summary contains the query, most recently written
    /// first, each written as soon as it is decoded.
    /// </summary>
    [Cmdlet(VerbsCommon.Search, "AgentIndex")]
    [OutputType(typeof(IndexEntry))]
    public sealed class SearchAgentIndexCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>Text to find in keys and summaries (a substring, not a pattern).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string Query { get; set; } = "";

        /// <summary>Only entries of this category.</summary>
        [Parameter]
        [ValidateSet("file", "symbol", "api", "config", "architecture", "module", "overview")]
        public string? Category { get; set; }

        /// <summary>At most this many entries (1 to 200); the server's default is 20.</summary>
        [Parameter]
        [ValidateRange(1, 200)]
        public int First { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            int? limit = MyInvocation.BoundParameters.ContainsKey(nameof(First)) ? First : (int?)null;
            try
            {
                foreach (var entry in AwaitEach(ct => connection.Client.SearchIndexAsync(connection.AgentId, Query, Category, limit, ct)))
                {
                    WriteObject(IndexMetadata.Strip(entry));
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.SearchIndexFailed, Query);
            }
        }

        #endregion
    }
}
