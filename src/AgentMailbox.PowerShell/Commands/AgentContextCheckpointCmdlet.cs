using System;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// The base of the checkpoint cmdlets: the error wording they share. The client's exceptions speak of messages
    /// (a send that may have been stored, a thread that was not found); these cmdlets say the same about checkpoints.
    /// </summary>
    public abstract class AgentContextCheckpointCmdlet : AgentMailboxRequestCmdlet
    {
        private static readonly Regex ServerNamedCommit = new Regex("^commit (?<id>.+) not found$", RegexOptions.Singleline);
        private static readonly Regex ServerNamedBranch = new Regex("^branch '(?<branch>.*)' has no commits$", RegexOptions.Singleline);

        /// <summary>
        /// Writes a non-terminating error for one input, worded for checkpoints: a missing checkpoint is
        /// <see cref="ErrorIds.CheckpointNotFound"/>; a request that may have created a checkpoint says how to check.
        /// </summary>
        protected void WriteCheckpointFailure(Exception exception, string errorId, object? target)
            => WriteError(CheckpointErrorRecord(exception, errorId, target));

        /// <summary>The error record of <see cref="WriteCheckpointFailure"/>.</summary>
        protected ErrorRecord CheckpointErrorRecord(Exception exception, string errorId, object? target)
        {
            var record = CreateErrorRecord(exception, errorId, target, ErrorIds.CheckpointNotFound);
            string message = record.Exception.Message;
            string? action = record.ErrorDetails?.RecommendedAction;
            if (record.CategoryInfo.Category == ErrorCategory.ObjectNotFound)
            {
                action = "Get-AgentContextCheckpoint lists the agent's checkpoints, newest first.";
            }
            else if (message.Contains(AgentMailboxClient.MayHaveStoredSentence))
            {
                message = message.Replace(AgentMailboxClient.MayHaveStoredSentence,
                    " The server may have made the checkpoint; check the log (Get-AgentContextCheckpoint -First 1) before trying again.");
                action = "Run Get-AgentContextCheckpoint -First 1 to see whether the checkpoint was made before trying again.";
            }
            record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = action };
            return record;
        }

        /// <summary>The checkpoint id a server's "commit &lt;id&gt; not found" names, or null.</summary>
        protected static string? CommitNamedBy(Exception exception)
        {
            var match = exception is AgentMailboxNotFoundException nf && nf.ServerMessage is not null ? ServerNamedCommit.Match(nf.ServerMessage) : null;
            return match is not null && match.Success ? match.Groups["id"].Value : null;
        }

        /// <summary>The branch a server's "branch '&lt;name&gt;' has no commits" names, or null.</summary>
        protected static string? BranchNamedBy(Exception exception)
        {
            var match = exception is AgentMailboxNotFoundException nf && nf.ServerMessage is not null ? ServerNamedBranch.Match(nf.ServerMessage) : null;
            return match is not null && match.Success ? match.Groups["branch"].Value : null;
        }
    }
}
