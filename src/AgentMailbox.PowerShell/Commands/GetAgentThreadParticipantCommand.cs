using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Outputs who takes part in a thread, with each agent's role (To, Cc, Bcc) and join time.</summary>
    [Cmdlet(VerbsCommon.Get, "AgentThreadParticipant")]
    [OutputType(typeof(ThreadParticipant))]
    public sealed class GetAgentThreadParticipantCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The threads: ids piped as strings, or the ThreadId property of piped objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string[] ThreadId { get; set; } = Array.Empty<string>();

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            foreach (string id in ThreadId)
            {
                try
                {
                    WriteObject(Await(ct => connection.Client.GetParticipantsAsync(id, connection.AgentId, ct)), enumerateCollection: true);
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.GetParticipantsFailed, id, ErrorIds.ThreadNotFound);
                }
            }
        }

        #endregion
    }
}
