using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Marks a thread read for the agent. The server marks everything up to its own clock, including messages that
    /// arrived after they were last listed: Receive-AgentMessage is the lossless way to consume. The server answers
    /// success for a thread it does not have (protocol.md §8 quirk 11), so the thread is looked up first (its small
    /// participants list): an unknown id is an ObjectNotFound error, as on every other thread cmdlet.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "AgentThreadRead", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ThreadReadResult))]
    public sealed class SetAgentThreadReadCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The threads: ids piped as strings, or the ThreadId property of piped objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string[] ThreadId { get; set; } = Array.Empty<string>();

        /// <summary>Outputs a ThreadReadResult (ThreadId, AgentId) for each thread once it is marked.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            foreach (string id in ThreadId)
            {
                if (!ShouldProcess($"thread {id}", $"Mark read for {connection.AgentId}"))
                {
                    continue;
                }
                try
                {
                    Await(async ct =>
                    {
                        await connection.Client.GetParticipantsAsync(id, connection.AgentId, ct).ConfigureAwait(false);
                        await connection.Client.MarkReadAsync(connection.AgentId, id, ct).ConfigureAwait(false);
                        return true;
                    });
                    if (PassThru)
                    {
                        WriteObject(new ThreadReadResult(id, connection.AgentId));
                    }
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.MarkReadFailed, id, ErrorIds.ThreadNotFound);
                }
            }
        }

        #endregion
    }
}
