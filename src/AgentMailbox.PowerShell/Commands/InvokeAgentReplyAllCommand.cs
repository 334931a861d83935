using System;
using System.Collections;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Replies to every visible participant of a thread but the sender (bcc recipients are not included).</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "AgentReplyAll", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(SendResult))]
    public sealed class InvokeAgentReplyAllCommand : AgentMailboxRequestCmdlet
    {
        private ThrottledRequests<SendResult>? _replies;

        #region Parameters

        /// <summary>The thread to reply in; binds from the ThreadId property of piped messages, send results and threads.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string ThreadId { get; set; } = "";

        /// <summary>The reply's body: any value, or a script block run for each input with $_ bound to it.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [AllowNull]
        public object? Payload { get; set; }

        /// <summary>A context snapshot for the reply (hashtable, ordered dictionary or PSCustomObject).</summary>
        [Parameter]
        [AllowNull]
        public object? ContextSnapshot { get; set; }

        /// <summary>Asks the server for a handoff packet: goal, nextAction, includeFields, maxContextBytes.</summary>
        [Parameter]
        public Hashtable? Handoff { get; set; }

        /// <summary>
        /// How many replies may be in flight at once (1 to 64; default 1, one after another). Results still come out in
        /// input order, and replies to the same thread are sent one after another in input order.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>The piped object, bound to $_ in a script-block payload.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        #endregion

        #region Overrides

        protected override void BeginProcessing()
            => _replies = StartRequests<SendResult>(ThrottleLimit, new CommandProgress(this, "Invoke-AgentReplyAll", "sent"));

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var replies = _replies!;
            string threadId = ThreadId;
            var input = InputObject;
            // Asked first, so that under -WhatIf a script-block payload does not run either.
            if (!ShouldProcess($"thread {threadId}", $"Reply to all as {connection.AgentId}"))
            {
                return;
            }
            ReplyAllRequest reply;
            try
            {
                reply = new ReplyAllRequest
                {
                    From = connection.AgentId,
                    ThreadId = threadId,
                    Payload = replies.Detach(ResolvePayload(Payload, input)),
                    ContextSnapshot = replies.Detach(CheckSnapshot(ContextSnapshot, nameof(ContextSnapshot))),
                    Handoff = ToHandoff(Handoff),
                };
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                object target = input ?? (object)threadId;
                replies.Post(() => WriteFailure(ex, InputErrorId(ex), target));
                return;
            }
            // Replies to one thread keep their order.
            replies.Submit("thread\n" + threadId, ct => connection.Client.ReplyAllAsync(reply, ct),
                result => WriteObject(result),
                ex => WriteFailure(ex, ErrorIds.ReplyAllFailed, threadId, ErrorIds.ThreadNotFound));
        }

        protected override void EndProcessing() => _replies?.Complete();

        #endregion
    }
}
