using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Consumes the inbox: outputs the unread messages, then marks their threads read. It loses nothing: a thread
    /// that still holds unread messages it did not output stays unread, and a message that arrives between reading
    /// and marking (which the server would mark read unseen) is found afterwards and output too.
    /// </summary>
    [Cmdlet(VerbsCommunications.Receive, "AgentMessage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(InboxMessage))]
    public sealed class ReceiveAgentMessageCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>Only messages from this agent; threads holding unread messages from others stay unread.</summary>
        [Parameter]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string? From { get; set; }

        /// <summary>How many recent messages each message's context carries, 1 to 50 (server default 10); fewer make each read cheaper.</summary>
        [Parameter]
        [ValidateRange(1, 50)]
        public int? Recent { get; set; }

        /// <summary>Outputs the messages without marking anything read.</summary>
        [Parameter]
        public SwitchParameter Keep { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var threads = new Dictionary<string, ThreadState>(StringComparer.Ordinal);
            var order = new List<string>();
            try
            {
                foreach (var message in AwaitEach(ct => connection.Client.GetUnreadAsync(connection.AgentId, Recent, ct)))
                {
                    if (!threads.TryGetValue(message.ThreadId, out var state))
                    {
                        state = new ThreadState();
                        threads.Add(message.ThreadId, state);
                        order.Add(message.ThreadId);
                    }
                    if (From is null || string.Equals(message.From, From, StringComparison.Ordinal))
                    {
                        state.Output.Add(message.Id);
                        if (message.Timestamp > state.Newest)
                        {
                            state.Newest = message.Timestamp;
                        }
                        WriteObject(message);
                    }
                    else
                    {
                        state.LeftBehind = true;
                    }
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.ReceiveFailed, connection.AgentId);
                return;
            }

            if (Keep)
            {
                return;
            }
            foreach (string threadId in order)
            {
                var state = threads[threadId];
                if (state.LeftBehind)
                {
                    WriteVerbose($"Thread {threadId} keeps unread messages that -From left behind; it stays unread.");
                    continue;
                }
                if (!ShouldProcess($"thread {threadId}", $"Mark read for {connection.AgentId}"))
                {
                    continue;
                }
                try
                {
                    MarkAndRecover(connection, threadId, state);
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.MarkReadFailed, threadId);
                }
            }
        }

        #endregion

        #region Private methods

        /// <summary>
        /// Marks the thread read, then reads it back: any message addressed to this agent, not yet output, and no
        /// older than the newest one output, arrived in the gap and was marked read unseen by the server's clock.
        /// </summary>
        private void MarkAndRecover(Connection connection, string threadId, ThreadState state)
        {
            string me = connection.AgentId;
            var thread = Await(async ct =>
            {
                await connection.Client.MarkReadAsync(me, threadId, ct).ConfigureAwait(false);
                return await connection.Client.GetThreadAsync(threadId, me, ct).ConfigureAwait(false);
            });
            bool silentOnly = thread.SilentParticipants.Contains(me, StringComparer.Ordinal)
                              && !thread.Participants.Contains(me, StringComparer.Ordinal);
            var missed = thread.Messages
                .Where(m => m.Timestamp >= state.Newest && !state.Output.Contains(m.Id) && m.From != me
                            && (m.To == me || m.Cc.Contains(me, StringComparer.Ordinal) || m.Bcc.Contains(me, StringComparer.Ordinal)
                                // A bcc recipient cannot see its own bcc; while it is only a silent participant,
                                // any new message may be addressed to it, and losing one is worse than showing one.
                                || silentOnly))
                .ToList();
            if (missed.Count == 0)
            {
                return;
            }
            WriteVerbose($"{missed.Count} message(s) arrived in thread {threadId} while it was being marked read; outputting them too.");
            var context = Await(ct => connection.Client.SyncThreadAsync(threadId, me, null, ct));
            foreach (var message in missed)
            {
                WriteObject(InboxMessage.FromMessage(message, context));
            }
        }

        private sealed class ThreadState
        {
            public HashSet<string> Output { get; } = new HashSet<string>(StringComparer.Ordinal);
            public DateTimeOffset Newest { get; set; } = DateTimeOffset.MinValue;
            public bool LeftBehind { get; set; }
        }

        #endregion
    }
}
