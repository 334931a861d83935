using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Checkpoints the agent's live graph and index on a branch (the server's git-style commit). Never repeated once
    /// the request may have reached the server: a repeat would make a second checkpoint.
    /// </summary>
    [Cmdlet(VerbsData.Checkpoint, "AgentContext", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ContextCheckpoint))]
    public sealed class CheckpointAgentContextCommand : AgentContextCheckpointCmdlet
    {
        #region Parameters

        /// <summary>What the checkpoint records, like a commit message.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Message { get; set; } = "";

        /// <summary>The branch to checkpoint on; the server's default is main.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointBranchCompleter))]
        public string? Branch { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            string branch = Branch ?? "main";
            if (!ShouldProcess($"graph and index of {connection.AgentId}", $"Checkpoint on branch '{branch}': {Message}"))
            {
                return;
            }
            try
            {
                WriteObject(Await(ct => connection.Client.CheckpointAsync(connection.AgentId, Message, Branch, ct)));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteCheckpointFailure(ex, ErrorIds.CheckpointFailed, Message);
            }
        }

        #endregion
    }
}
