using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Removes entries from the agent's codebase index. The server answers a delete of a missing key with success
    /// (quirk 11), so each key is read first: an unknown key is a non-terminating ObjectNotFound error, like
    /// Remove-Item's for a missing path.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "AgentIndexEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveAgentIndexEntryCommand : AgentMailboxRequestCmdlet
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
                if (!ShouldProcess($"index entry '{key}'", $"Remove from the index of {connection.AgentId}"))
                {
                    continue;
                }
                try
                {
                    Await(async ct =>
                    {
                        await connection.Client.GetIndexEntryAsync(connection.AgentId, key, ct).ConfigureAwait(false);
                        await connection.Client.RemoveIndexEntryAsync(connection.AgentId, key, ct).ConfigureAwait(false);
                        return true;
                    });
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.RemoveIndexEntryFailed, key, ErrorIds.IndexEntryNotFound);
                }
            }
        }

        #endregion
    }
}
