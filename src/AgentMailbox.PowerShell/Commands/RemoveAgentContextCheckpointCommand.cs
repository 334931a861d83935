using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Removes checkpoints. The server refuses to remove a checkpoint that is another's parent (it answers 500
    /// "FOREIGN KEY constraint failed"), so checkpoints go newest first along a branch. The order of the ids given
    /// does not matter: a checkpoint refused as a parent is tried again at the end, once the others of this call
    /// are removed, so <c>Get-AgentContextCheckpoint -Branch x | Remove-AgentContextCheckpoint</c> and the same ids
    /// oldest first both remove the whole branch. A checkpoint whose child stays is a CheckpointHasChildren error
    /// that names the child.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "AgentContextCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveAgentContextCheckpointCommand : AgentContextCheckpointCmdlet
    {
        /// <summary>A checkpoint the server refused as a parent, with the number of removals done when it was refused.</summary>
        private sealed class Refused
        {
            public Refused(string id, Exception error, int removedBefore)
            {
                Id = id;
                Error = error;
                RemovedBefore = removedBefore;
            }

            public string Id { get; }
            public Exception Error { get; set; }
            public int RemovedBefore { get; set; }
        }

        private readonly List<Refused> _refused = new List<Refused>();
        private int _removed;
        private Connection? _connection;

        #region Parameters

        /// <summary>The checkpoints to remove; binds from strings and from the Id property of piped checkpoints.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(CheckpointIdCompleter))]
        public string[] Id { get; set; } = Array.Empty<string>();

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = _connection = CurrentConnection;
            foreach (string id in Id)
            {
                if (!ShouldProcess($"checkpoint {id} of {connection.AgentId}", "Remove checkpoint"))
                {
                    continue;
                }
                var error = TryRemove(connection, id);
                if (error is null)
                {
                    continue;
                }
                if (IsParentRefusal(error))
                {
                    _refused.Add(new Refused(id, error, _removed));
                }
                else
                {
                    WriteCheckpointFailure(error, ErrorIds.RemoveCheckpointFailed, id);
                }
            }
        }

        protected override void EndProcessing()
        {
            if (_refused.Count == 0 || _connection is null)
            {
                return;
            }
            // Try again, newest input first, each refused checkpoint whose children may have gone since it was refused.
            bool progress = true;
            while (progress)
            {
                progress = false;
                for (int i = _refused.Count - 1; i >= 0; i--)
                {
                    var refused = _refused[i];
                    if (refused.RemovedBefore == _removed)
                    {
                        continue;
                    }
                    refused.RemovedBefore = _removed;
                    var error = TryRemove(_connection, refused.Id);
                    if (error is null)
                    {
                        _refused.RemoveAt(i);
                        progress = true;
                    }
                    else if (IsParentRefusal(error))
                    {
                        refused.Error = error;
                    }
                    else
                    {
                        _refused.RemoveAt(i);
                        WriteCheckpointFailure(error, ErrorIds.RemoveCheckpointFailed, refused.Id);
                    }
                }
            }
            if (_refused.Count == 0)
            {
                return;
            }
            var children = ChildrenOf(_connection, _refused.Select(r => r.Id));
            foreach (var refused in _refused)
            {
                WriteError(ParentError(refused, children.TryGetValue(refused.Id, out var list) ? list : null));
            }
        }

        #endregion

        #region Private methods

        /// <summary>Removes one checkpoint; the failure, or null when it is removed.</summary>
        private Exception? TryRemove(Connection connection, string id)
        {
            try
            {
                Await(async ct =>
                {
                    await connection.Client.RemoveCheckpointAsync(connection.AgentId, id, ct).ConfigureAwait(false);
                    return true;
                });
                _removed++;
                return null;
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                return ex;
            }
        }

        /// <summary>The server's answer to removing a parent (protocol.md §8 quirk 18).</summary>
        private static bool IsParentRefusal(Exception error)
            => error is AgentMailboxServerException server && (int?)server.StatusCode == 500
               && (server.ServerMessage ?? "").IndexOf("FOREIGN KEY", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>The children of the given checkpoints among the newest 100 of the log; empty when the log cannot be read.</summary>
        private Dictionary<string, List<ContextCheckpoint>> ChildrenOf(Connection connection, IEnumerable<string> ids)
        {
            var wanted = new HashSet<string>(ids, StringComparer.Ordinal);
            var children = new Dictionary<string, List<ContextCheckpoint>>(StringComparer.Ordinal);
            try
            {
                foreach (var checkpoint in AwaitEach(ct => connection.Client.GetCheckpointsAsync(connection.AgentId, null, 100, ct)))
                {
                    if (checkpoint.ParentId is not null && wanted.Contains(checkpoint.ParentId))
                    {
                        if (!children.TryGetValue(checkpoint.ParentId, out var list))
                        {
                            children[checkpoint.ParentId] = list = new List<ContextCheckpoint>();
                        }
                        list.Add(checkpoint);
                    }
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                // Naming the children is a courtesy; the error says what to do without them.
            }
            return children;
        }

        private static ErrorRecord ParentError(Refused refused, List<ContextCheckpoint>? children)
        {
            string which = children is null || children.Count == 0
                ? "a newer checkpoint has it as its parent"
                : (children.Count == 1 ? "checkpoint " : "checkpoints ")
                  + string.Join(", ", children.Select(c => $"{c.Id} ('{c.Message}' on {c.Branch})"))
                  + (children.Count == 1 ? " has" : " have") + " it as parent";
            string remove = children is null || children.Count == 0
                ? "Remove the checkpoints made after it on its branch first (Get-AgentContextCheckpoint -Branch <branch> lists them, newest first), or remove them together in one call."
                : $"Remove {string.Join(", ", children.Select(c => c.Id))} first, or together with it in one call: Remove-AgentContextCheckpoint {string.Join(", ", children.Select(c => c.Id))}, {refused.Id}.";
            var exception = new InvalidOperationException(
                $"Checkpoint {refused.Id} cannot be removed: {which}, and the server removes checkpoints only newest first along a branch. {remove}",
                refused.Error);
            var record = new ErrorRecord(exception, ErrorIds.CheckpointHasChildren, ErrorCategory.InvalidOperation, refused.Id);
            record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = remove };
            return record;
        }

        #endregion
    }
}
