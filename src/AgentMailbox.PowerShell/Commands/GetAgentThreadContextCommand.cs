using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>Outputs a thread's context — its latest snapshot, recent messages and token estimate — as the agent sees it.</summary>
    [Cmdlet(VerbsCommon.Get, "AgentThreadContext")]
    [Alias("Sync-AgentThread")]
    [OutputType(typeof(ThreadContext))]
    public sealed class GetAgentThreadContextCommand : AgentMailboxRequestCmdlet
    {
        #region Parameters

        /// <summary>The threads: ids piped as strings, or the ThreadId property of piped objects.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string[] ThreadId { get; set; } = Array.Empty<string>();

        /// <summary>How many recent messages to include, 1 to 50 (server default 10).</summary>
        [Parameter]
        [ValidateRange(1, 50)]
        public int? Recent { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            foreach (string id in ThreadId)
            {
                try
                {
                    WriteObject(Await(ct => connection.Client.SyncThreadAsync(id, connection.AgentId, Recent, ct)));
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.GetThreadContextFailed, id, ErrorIds.ThreadNotFound);
                }
            }
        }

        #endregion
    }
}
