using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Replaces the agent's live graph and index with a checkpoint's. The live state is lost unless it was
    /// checkpointed, hence ConfirmImpact High.
    /// </summary>
    [Cmdlet(VerbsData.Restore, "AgentContextCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(void))]
    public sealed class RestoreAgentContextCheckpointCommand : AgentContextCheckpointCmdlet
    {
        #region Parameters

        /// <summary>The checkpoint to restore; binds from a string and from the Id property of a piped checkpoint.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointIdCompleter))]
        public string Id { get; set; } = "";

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            if (!ShouldProcess($"graph and index of {connection.AgentId}", $"Replace with checkpoint {Id}"))
            {
                return;
            }
            try
            {
                Await(async ct =>
                {
                    await connection.Client.RestoreCheckpointAsync(connection.AgentId, Id, ct).ConfigureAwait(false);
                    return true;
                });
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteCheckpointFailure(ex, ErrorIds.RestoreCheckpointFailed, Id);
            }
        }

        #endregion
    }
}
