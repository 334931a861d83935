using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Merges the newest checkpoint of one branch into the newest of another, makes the result the live graph and
    /// index (like a restore, so ConfirmImpact High) and checkpoints it on the target branch. Never repeated once the
    /// request may have reached the server.
    /// </summary>
    [Cmdlet(VerbsData.Merge, "AgentContextBranch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(ContextCheckpoint))]
    public sealed class MergeAgentContextBranchCommand : AgentContextCheckpointCmdlet
    {
        #region Parameters

        /// <summary>The branch merged from ("theirs").</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointBranchCompleter))]
        public string From { get; set; } = "";

        /// <summary>The branch merged into ("ours"); the merge checkpoint is made on it.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointBranchCompleter))]
        public string To { get; set; } = "";

        /// <summary>
        /// Union (the server's default) keeps the nodes, edges and entries of both, Ours keeps the target branch's
        /// checkpoint, Theirs the source branch's.
        /// </summary>
        [Parameter]
        [ValidateSet("Union", "Ours", "Theirs")]
        public string? Strategy { get; set; }

        /// <summary>The merge checkpoint's message; the server's default is "Merge 'from' into 'to' (strategy)".</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Message { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            string? strategy = Strategy?.ToLowerInvariant();
            if (!ShouldProcess($"graph and index of {connection.AgentId}",
                    $"Merge branch '{From}' into '{To}' ({strategy ?? "union"}): replace the live graph and index with the result and checkpoint it on '{To}'"))
            {
                return;
            }
            try
            {
                WriteObject(Await(ct => connection.Client.MergeBranchAsync(connection.AgentId, From, To, strategy, Message, ct)));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                string? branch = BranchNamedBy(ex);
                if (branch is null)
                {
                    WriteCheckpointFailure(ex, ErrorIds.MergeBranchFailed, From);
                    return;
                }
                var record = new ErrorRecord(ex, ErrorIds.ContextBranchNotFound, ErrorCategory.ObjectNotFound, branch);
                string action = $"Make a checkpoint on it first: Checkpoint-AgentContext <message> -Branch '{branch}'.";
                record.ErrorDetails = new ErrorDetails(
                    $"Branch '{branch}' of {connection.AgentId} has no checkpoints, so there is nothing to merge. {action}") { RecommendedAction = action };
                WriteError(record);
            }
        }

        #endregion
    }
}
