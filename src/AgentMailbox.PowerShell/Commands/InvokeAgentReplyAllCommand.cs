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

        /// <summary>The piped object, bound to $_ in a script-block payload.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            // Asked first, so that under -WhatIf a script-block payload does not run either.
            if (!ShouldProcess($"thread {ThreadId}", $"Reply to all as {connection.AgentId}"))
            {
                return;
            }
            ReplyAllRequest reply;
            try
            {
                reply = new ReplyAllRequest
                {
                    From = connection.AgentId,
                    ThreadId = ThreadId,
                    Payload = ResolvePayload(Payload, InputObject),
                    ContextSnapshot = CheckSnapshot(ContextSnapshot, nameof(ContextSnapshot)),
                    Handoff = ToHandoff(Handoff),
                };
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, InputErrorId(ex), InputObject ?? (object)ThreadId);
                return;
            }
            try
            {
                WriteObject(Await(ct => connection.Client.ReplyAllAsync(reply, ct)));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.ReplyAllFailed, ThreadId, ErrorIds.ThreadNotFound);
            }
        }

        #endregion
    }
}
