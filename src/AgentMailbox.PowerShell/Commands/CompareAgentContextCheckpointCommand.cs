using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// What changed from one checkpoint to another, or to the live graph and index: node ids and index keys added,
    /// removed and modified. A piped checkpoint is the reference, so
    /// <c>Get-AgentContextCheckpoint -First 1 | Compare-AgentContextCheckpoint</c> is what changed since the last checkpoint.
    /// </summary>
    [Cmdlet(VerbsData.Compare, "AgentContextCheckpoint")]
    [OutputType(typeof(ContextDiff))]
    public sealed class CompareAgentContextCheckpointCommand : AgentContextCheckpointCmdlet
    {
        #region Parameters

        /// <summary>The checkpoint to compare from; binds from strings and from the Id property of piped checkpoints.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Id")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointIdCompleter))]
        public string ReferenceId { get; set; } = "";

        /// <summary>The checkpoint to compare to; the live graph and index when omitted.</summary>
        [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointIdCompleter))]
        public string? DifferenceId { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            try
            {
                WriteObject(Await(ct => connection.Client.CompareCheckpointsAsync(connection.AgentId, ReferenceId, DifferenceId, ct)));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                // The server names the checkpoint it could not find; either may be the one.
                WriteCheckpointFailure(ex, ErrorIds.CompareCheckpointFailed, CommitNamedBy(ex) ?? ReferenceId);
            }
        }

        #endregion
    }
}
