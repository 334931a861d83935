using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Without -Id, the agent's checkpoints newest first (the log; at most 100, the most the server returns), each
    /// written as soon as it is decoded. With -Id, those checkpoints with their snapshots, in input order.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AgentContextCheckpoint", DefaultParameterSetName = LogSet)]
    [OutputType(typeof(ContextCheckpoint))]
    public sealed class GetAgentContextCheckpointCommand : AgentContextCheckpointCmdlet
    {
        private const string LogSet = "Log";
        private const string IdSet = "Id";

        /// <summary>The most checkpoints the server's log returns.</summary>
        private const int MaxLog = 100;

        #region Parameters

        /// <summary>The checkpoints to read, with their snapshots; binds from strings and from the Id property of piped objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointIdCompleter))]
        public string[] Id { get; set; } = Array.Empty<string>();

        /// <summary>Only the checkpoints of this branch.</summary>
        [Parameter(ParameterSetName = LogSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointBranchCompleter))]
        public string? Branch { get; set; }

        /// <summary>Only the newest n checkpoints, 1 to 100.</summary>
        [Parameter(ParameterSetName = LogSet)]
        [ValidateRange(1, MaxLog)]
        public int First { get; set; } = MaxLog;

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            if (ParameterSetName == LogSet)
            {
                try
                {
                    foreach (var checkpoint in AwaitEach(ct => connection.Client.GetCheckpointsAsync(connection.AgentId, Branch, First, ct)))
                    {
                        WriteObject(checkpoint);
                    }
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteCheckpointFailure(ex, ErrorIds.GetCheckpointFailed, (object?)Branch ?? connection.AgentId);
                }
                return;
            }
            foreach (string id in Id)
            {
                try
                {
                    var checkpoint = Await(ct => connection.Client.GetCheckpointAsync(connection.AgentId, id, ct));
                    // The snapshot's index entries show their metadata as it was given, like Get-AgentIndexEntry.
                    foreach (var entry in checkpoint.Snapshot?.IndexEntries ?? Array.Empty<IndexEntry>())
                    {
                        IndexMetadata.Strip(entry);
                    }
                    WriteObject(checkpoint);
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteCheckpointFailure(ex, ErrorIds.GetCheckpointFailed, id);
                }
            }
        }

        #endregion
    }
}
