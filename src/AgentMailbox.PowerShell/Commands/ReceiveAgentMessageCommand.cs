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
    /// <remarks>
    /// With -Wait it is a service loop: it polls until Ctrl+C, outputs each thread's new messages and marks the thread
    /// read only once the last of them has come back from the rest of the pipeline, so a handler that fails with a
    /// terminating error, Ctrl+C or a killed process leaves the thread unread for the next receive (at least once).
    /// </remarks>
    [Cmdlet(VerbsCommunications.Receive, "AgentMessage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = OnceSet)]
    [OutputType(typeof(InboxMessage))]
    public sealed class ReceiveAgentMessageCommand : AgentMailboxRequestCmdlet
    {
        private const string OnceSet = "Once";
        private const string WaitSet = "Wait";

        /// <summary>How many times a thread is read back for messages that came while its batch was being handled.</summary>
        private const int MaxCatchUpRounds = 3;

        /// <summary>The last failure that came back from the rest of the pipeline, which is never reported as this cmdlet's own.</summary>
        private Exception? _downstreamFailure;

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
        [Parameter(ParameterSetName = OnceSet)]
        public SwitchParameter Keep { get; set; }

        /// <summary>Keeps receiving until Ctrl+C (or until a downstream command such as Select-Object -First has enough).</summary>
        [Parameter(Mandatory = true, ParameterSetName = WaitSet)]
        public SwitchParameter Wait { get; set; }

        /// <summary>With -Wait, the longest pause between two polls, in seconds (default 5); polling starts faster and backs off to it.</summary>
        [Parameter(ParameterSetName = WaitSet)]
        [ValidateRange(0.05, 3600)]
        public double PollIntervalSec { get; set; } = 5;

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            if (Wait)
            {
                ServiceLoop(connection);
                return;
            }
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
                        Emit(message);
                    }
                    else
                    {
                        state.LeftBehind = true;
                    }
                }
            }
            catch (Exception ex) when (IsOwnFailure(ex))
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
                catch (Exception ex) when (IsOwnFailure(ex))
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
            var missed = Unseen(thread, me, state);
            if (missed.Count == 0)
            {
                return;
            }
            WriteVerbose($"{missed.Count} message(s) arrived in thread {threadId} while it was being marked read; outputting them too.");
            var context = Await(ct => connection.Client.SyncThreadAsync(threadId, me, null, ct));
            foreach (var message in missed)
            {
                Emit(InboxMessage.FromMessage(message, context));
            }
        }

        /// <summary>
        /// -Wait: polls the unread messages and handles them thread by thread — outputs the thread's new messages,
        /// catches up with any that came meanwhile, then marks it read — until the pipeline stops.
        /// </summary>
        private void ServiceLoop(Connection connection)
        {
            var backoff = new PollBackoff(TimeSpan.FromSeconds(PollIntervalSec));
            // Ids output in this run whose thread is still unread (-From left some behind, -WhatIf, a failed mark):
            // they are not output again by the next poll, and stay unread for the next receive.
            var held = new HashSet<string>(StringComparer.Ordinal);
            var markPending = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                var pause = backoff.Interval;
                List<InboxMessage> messages;
                try
                {
                    messages = AwaitEach(ct => connection.Client.GetUnreadAsync(connection.AgentId, Recent, ct)).ToList();
                }
                catch (Exception ex) when (IsReportable(ex) && IsPassing(ex))
                {
                    // The server is away or busy for now: say so, and poll again later, as a service loop should.
                    WriteFailure(ex, ErrorIds.ReceiveFailed, connection.AgentId);
                    if (ex is AgentMailboxRateLimitException limited && limited.RetryAfter is TimeSpan retryAfter && retryAfter > pause)
                    {
                        pause = retryAfter;
                    }
                    Sleep(pause);
                    backoff.Grow();
                    continue;
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.ReceiveFailed, connection.AgentId);
                    return;
                }

                bool handledAny = false;
                var stillHeld = new HashSet<string>(StringComparer.Ordinal);
                foreach (var batch in messages.GroupBy(m => m.ThreadId, StringComparer.Ordinal))
                {
                    handledAny |= HandleThread(connection, batch.Key, batch.ToList(), held, stillHeld, markPending);
                }
                held = stillHeld;

                if (handledAny)
                {
                    backoff.Reset();
                    continue;
                }
                Sleep(pause);
                backoff.Grow();
            }
        }

        /// <summary>Outputs one thread's new messages and marks it read once they are through; true if it output any.</summary>
        private bool HandleThread(Connection connection, string threadId, List<InboxMessage> batch,
                                  HashSet<string> held, HashSet<string> stillHeld, HashSet<string> markPending)
        {
            var state = new ThreadState();
            var fresh = new List<InboxMessage>();
            foreach (var message in batch)
            {
                if (From is not null && !string.Equals(message.From, From, StringComparison.Ordinal))
                {
                    state.LeftBehind = true;
                    continue;
                }
                state.Output.Add(message.Id);
                if (message.Timestamp > state.Newest)
                {
                    state.Newest = message.Timestamp;
                }
                if (!held.Contains(message.Id))
                {
                    fresh.Add(message);
                }
            }
            if (fresh.Count == 0 && (state.LeftBehind || !markPending.Contains(threadId)))
            {
                stillHeld.UnionWith(state.Output);
                return false;
            }

            for (int i = 0; i < fresh.Count; i++)
            {
                try
                {
                    Emit(fresh[i]);
                }
                catch (Exception ex) when (i == fresh.Count - 1 && IsStopUpstream(ex))
                {
                    // Select-Object -First has what it wants, and this message, the thread's last, went through it.
                    MarkWhenStopped(connection, threadId, state);
                    throw;
                }
            }

            try
            {
                if (!state.LeftBehind)
                {
                    CatchUp(connection, threadId, state);
                }
                if (state.LeftBehind)
                {
                    WriteVerbose($"Thread {threadId} keeps unread messages that -From left behind; it stays unread.");
                    stillHeld.UnionWith(state.Output);
                    return fresh.Count > 0;
                }
                if (!ShouldProcess($"thread {threadId}", $"Mark read for {connection.AgentId}"))
                {
                    stillHeld.UnionWith(state.Output);
                    return fresh.Count > 0;
                }
                MarkAndRecover(connection, threadId, state);
                markPending.Remove(threadId);
            }
            catch (Exception ex) when (IsOwnFailure(ex))
            {
                // Its messages went through; it is marked on a later poll, without outputting them again.
                WriteFailure(ex, ErrorIds.MarkReadFailed, threadId);
                stillHeld.UnionWith(state.Output);
                markPending.Add(threadId);
            }
            return fresh.Count > 0;
        }

        /// <summary>
        /// Reads the thread back before marking it: messages for this agent that came while the batch was being handled
        /// are output now, before the mark, so that they too are marked only once they are through.
        /// </summary>
        private void CatchUp(Connection connection, string threadId, ThreadState state)
        {
            for (int round = 0; round < MaxCatchUpRounds; round++)
            {
                var thread = Await(ct => connection.Client.GetThreadAsync(threadId, connection.AgentId, ct));
                var unseen = Unseen(thread, connection.AgentId, state);
                if (From is not null && unseen.Any(m => !string.Equals(m.From, From, StringComparison.Ordinal)))
                {
                    state.LeftBehind = true;
                }
                var mine = unseen.Where(m => From is null || string.Equals(m.From, From, StringComparison.Ordinal)).ToList();
                if (mine.Count == 0)
                {
                    return;
                }
                var context = Await(ct => connection.Client.SyncThreadAsync(threadId, connection.AgentId, Recent, ct));
                for (int i = 0; i < mine.Count; i++)
                {
                    state.Output.Add(mine[i].Id);
                    if (mine[i].Timestamp > state.Newest)
                    {
                        state.Newest = mine[i].Timestamp;
                    }
                    try
                    {
                        Emit(InboxMessage.FromMessage(mine[i], context));
                    }
                    catch (Exception ex) when (i == mine.Count - 1 && IsStopUpstream(ex))
                    {
                        MarkWhenStopped(connection, threadId, state);
                        throw;
                    }
                }
            }
        }

        /// <summary>The pipeline is ending because a downstream command has enough: marks the thread if nothing new is in it.</summary>
        private void MarkWhenStopped(Connection connection, string threadId, ThreadState state)
        {
            if (state.LeftBehind || !ShouldProcess($"thread {threadId}", $"Mark read for {connection.AgentId}"))
            {
                return;
            }
            try
            {
                var thread = Await(ct => connection.Client.GetThreadAsync(threadId, connection.AgentId, ct));
                if (Unseen(thread, connection.AgentId, state).Count > 0)
                {
                    WriteVerbose($"Thread {threadId} has messages that were not output; it stays unread.");
                    return;
                }
                Await(async ct =>
                {
                    await connection.Client.MarkReadAsync(connection.AgentId, threadId, ct).ConfigureAwait(false);
                    return true;
                });
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.MarkReadFailed, threadId);
            }
        }

        /// <summary>
        /// Writes a message down the pipeline. A failure that comes back (a handler's terminating error, Ctrl+C,
        /// Select-Object having enough) is remembered, so that no catch here mistakes it for a failed request.
        /// </summary>
        private void Emit(InboxMessage message)
        {
            try
            {
                WriteObject(message);
            }
            catch (Exception ex)
            {
                _downstreamFailure = ex;
                throw;
            }
        }

        /// <summary>A failure of this cmdlet's own requests, reported per thread; never one from the rest of the pipeline.</summary>
        private bool IsOwnFailure(Exception ex) => IsReportable(ex) && !ReferenceEquals(ex, _downstreamFailure);

        /// <summary>Sleeps on the stop token's wait handle, so Ctrl+C ends the pause at once.</summary>
        private void Sleep(TimeSpan pause)
        {
            if (StopToken.WaitHandle.WaitOne(pause))
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>Failures a service loop outlives: the server unreachable, slow, failing or limiting for now.</summary>
        private static bool IsPassing(Exception ex)
            => ex is AgentMailboxConnectionException || ex is AgentMailboxTimeoutException
               || ex is AgentMailboxServerException || ex is AgentMailboxRateLimitException;

        /// <summary>
        /// Select-Object -First (and the like) ending the pipeline early, after the object went through: the pipeline
        /// stops, but not because it is being stopped (Ctrl+C, PowerShell.Stop(), which set Stopping first).
        /// </summary>
        private bool IsStopUpstream(Exception ex) => ex is PipelineStoppedException && !Stopping;

        /// <summary>Messages of the thread for this agent, from others, not yet output, no older than the newest output.</summary>
        private static List<Message> Unseen(AgentThread thread, string me, ThreadState state)
        {
            bool silentOnly = thread.SilentParticipants.Contains(me, StringComparer.Ordinal)
                              && !thread.Participants.Contains(me, StringComparer.Ordinal);
            return thread.Messages
                .Where(m => m.Timestamp >= state.Newest && !state.Output.Contains(m.Id) && m.From != me
                            && (m.To == me || m.Cc.Contains(me, StringComparer.Ordinal) || m.Bcc.Contains(me, StringComparer.Ordinal)
                                // A bcc recipient cannot see its own bcc; while it is only a silent participant,
                                // any new message may be addressed to it, and losing one is worse than showing one.
                                || silentOnly))
                .ToList();
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
