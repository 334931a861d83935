using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Gets entries of the agent's codebase index by key, in input order; an unknown key is a non-terminating ObjectNotFound error.</summary>
    [Cmdlet(VerbsCommon.Get, "AgentIndexEntry")]
    [OutputType(typeof(IndexEntry))]
    public sealed class GetAgentIndexEntryCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The keys; plain strings pipe in by value, index entries by their Key property.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Key { get; set; } = Array.Empty<string>();

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            foreach (string key in Key)
            {
                try
                {
                    WriteObject(IndexMetadata.Strip(Await(ct => connection.Client.GetIndexEntryAsync(connection.AgentId, key, ct))));
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.GetIndexEntryFailed, key, ErrorIds.IndexEntryNotFound);
                }
            }
        }

        #endregion
    }
}
