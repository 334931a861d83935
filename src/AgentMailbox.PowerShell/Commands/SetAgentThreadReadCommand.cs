using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Marks a thread read for the agent. The server marks everything up to its own clock, including messages that
    /// arrived after they were last listed: Receive-AgentMessage is the lossless way to consume.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "AgentThreadRead", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(string))]
    public sealed class SetAgentThreadReadCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The thread; binds from the ThreadId property of piped objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string ThreadId { get; set; } = "";

        /// <summary>Outputs the thread id once it is marked.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            if (!ShouldProcess($"thread {ThreadId}", $"Mark read for {connection.AgentId}"))
            {
                return;
            }
            try
            {
                Await(async ct =>
                {
                    await connection.Client.MarkReadAsync(connection.AgentId, ThreadId, ct).ConfigureAwait(false);
                    return true;
                });
                if (PassThru)
                {
                    WriteObject(ThreadId);
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.MarkReadFailed, ThreadId);
            }
        }

        #endregion
    }
}
