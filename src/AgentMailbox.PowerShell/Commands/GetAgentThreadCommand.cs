using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Without -ThreadId, every thread of the mailbox, page after page, each written as soon as it is decoded
    /// (-First, -Skip and -IncludeTotalCount page through them). With -ThreadId, those threads as the agent sees them.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "AgentThread", SupportsPaging = true)]
    [OutputType(typeof(AgentThread))]
    public sealed class GetAgentThreadCommand : AgentMailboxRequestCmdlet
    {
        private const int PageSize = 100;

        #region Parameters

        /// <summary>The threads to get: ids piped as strings, or the ThreadId property of piped messages and send results.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string[]? ThreadId { get; set; }

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            if (ThreadId is null)
            {
                ListAll(connection);
                return;
            }
            foreach (string id in ThreadId)
            {
                try
                {
                    WriteObject(Await(ct => connection.Client.GetThreadAsync(id, connection.AgentId, ct)));
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.GetThreadFailed, id, ErrorIds.ThreadNotFound);
                }
            }
        }

        #endregion

        #region Private methods

        private void ListAll(Connection connection)
        {
            ulong skip = PagingParameters.Skip;
            ulong first = PagingParameters.First;
            if (skip > int.MaxValue)
            {
                skip = int.MaxValue;
            }
            long? total = null;
            var progress = new CommandProgress(this, "Get-AgentThread", "read");
            try
            {
                if (first > 0)
                {
                    int pageSize = first < PageSize ? Math.Max(1, (int)first) : PageSize;
                    long? limit = first == ulong.MaxValue ? null : (long)Math.Min(first, long.MaxValue);
                    foreach (var thread in AwaitEach(ct => connection.Client.GetThreadsAsync(connection.AgentId, pageSize, (int)skip, t => { total = t; progress.Total = ExpectedCount(t, skip, limit); }, limit, ct)))
                    {
                        progress.Add();
                        WriteObject(thread);
                    }
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.GetThreadFailed, connection.AgentId);
                progress.Complete();
                return;
            }
            progress.Complete();
            if (PagingParameters.IncludeTotalCount)
            {
                WriteObject(total is null
                    ? PagingParameters.NewTotalCount(0, 0.0)
                    : PagingParameters.NewTotalCount((ulong)total.Value, 1.0));
            }
        }

        /// <summary>How many threads the listing will write, for its progress: the server's total past -Skip, at most -First.</summary>
        private static long ExpectedCount(long total, ulong skip, long? limit) => Math.Max(0, Math.Min(limit ?? long.MaxValue, total - (long)skip));

        #endregion
    }
}
