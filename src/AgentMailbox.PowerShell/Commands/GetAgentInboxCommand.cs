using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Outputs the agent's unread messages, oldest first, each with its thread's context. Marks nothing read.</summary>
    [Cmdlet(VerbsCommon.Get, "AgentInbox")]
    [OutputType(typeof(InboxMessage))]
    public sealed class GetAgentInboxCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>Only messages from this agent.</summary>
        [Parameter]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string? From { get; set; }

        /// <summary>Only messages of this thread.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string? ThreadId { get; set; }

        /// <summary>How many recent messages each message's context carries, 1 to 50 (server default 10).</summary>
        [Parameter]
        [ValidateRange(1, 50)]
        public int? Recent { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var progress = new CommandProgress(this, "Get-AgentInbox", "read");
            try
            {
                foreach (var message in AwaitEach(ct => connection.Client.GetUnreadAsync(connection.AgentId, Recent, ct)))
                {
                    progress.Add();
                    if ((From is null || string.Equals(message.From, From, StringComparison.Ordinal))
                        && (ThreadId is null || string.Equals(message.ThreadId, ThreadId, StringComparison.Ordinal)))
                    {
                        WriteObject(message);
                    }
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.GetInboxFailed, connection.AgentId);
            }
            progress.Complete();
        }

        #endregion
    }
}
