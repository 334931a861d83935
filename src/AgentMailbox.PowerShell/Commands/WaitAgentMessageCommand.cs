using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Management.Automation;
using System.Threading;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Waits until unread messages that match exist, then outputs them (marking nothing read). Polls fast at first
    /// and backs off to -PollIntervalSec; Ctrl+C stops it at once; on timeout it writes an OperationTimeout error.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Wait, "AgentMessage")]
    [OutputType(typeof(InboxMessage))]
    public sealed class WaitAgentMessageCommand : AgentMailboxConnectedCmdlet
    {
        private readonly Stopwatch _watch = new Stopwatch();
        private DateTime _startedUtc;

        #region Parameters

        /// <summary>Only messages from this agent.</summary>
        [Parameter]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string? From { get; set; }

        /// <summary>Only messages of this thread; binds from the ThreadId property of piped objects.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string? ThreadId { get; set; }

        /// <summary>How many recent messages each message's context carries, 1 to 50 (server default 10); fewer make each poll cheaper.</summary>
        [Parameter]
        [ValidateRange(1, 50)]
        public int? Recent { get; set; }

        /// <summary>How long to wait, in seconds; 0 (the default) waits until a message comes or Ctrl+C.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; }

        /// <summary>The longest pause between two polls, in seconds (default 5); polling starts faster and backs off to it.</summary>
        [Parameter]
        [ValidateRange(0.05, 3600)]
        public double PollIntervalSec { get; set; } = 5;

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var watch = _watch;
            watch.Restart();
            _startedUtc = DateTime.UtcNow;
            var deadline = TimeoutSec == 0 ? TimeSpan.MaxValue : TimeSpan.FromSeconds(TimeoutSec);
            var maxInterval = TimeSpan.FromSeconds(PollIntervalSec);
            var backoff = new PollBackoff(maxInterval);
            var interval = backoff.Interval;
            var progress = new ProgressRecord(1, "Waiting for an AgentMailbox message", DescribeFilter(connection)) { RecordType = ProgressRecordType.Processing };
            int polls = 0;
            try
            {
                while (true)
                {
                    polls++;
                    var found = new List<InboxMessage>();
                    try
                    {
                        foreach (var message in AwaitEach(ct => connection.Client.GetUnreadAsync(connection.AgentId, Recent, ct)))
                        {
                            if ((From is null || string.Equals(message.From, From, StringComparison.Ordinal))
                                && (ThreadId is null || string.Equals(message.ThreadId, ThreadId, StringComparison.Ordinal)))
                            {
                                found.Add(message);
                            }
                        }
                    }
                    catch (AgentMailboxTimeoutException) when (TimeoutSec > 0 && watch.Elapsed >= deadline)
                    {
                        // The poll in flight when -TimeoutSec ran out: the wait timed out.
                        WriteError(new ErrorRecord(
                            new TimeoutException($"No matching message arrived for {connection.AgentId} within {TimeoutSec} s ({polls} polls)."),
                            ErrorIds.WaitTimedOut, ErrorCategory.OperationTimeout, ThreadId ?? From ?? connection.AgentId));
                        return;
                    }
                    catch (Exception ex) when (IsReportable(ex))
                    {
                        WriteFailure(ex, ErrorIds.WaitFailed, ThreadId ?? From ?? connection.AgentId);
                        return;
                    }
                    if (found.Count > 0)
                    {
                        WriteObject(found, enumerateCollection: true);
                        return;
                    }

                    var elapsed = watch.Elapsed;
                    if (elapsed >= deadline)
                    {
                        var record = new ErrorRecord(
                            new TimeoutException($"No matching message arrived for {connection.AgentId} within {TimeoutSec} s ({polls} polls)."),
                            ErrorIds.WaitTimedOut, ErrorCategory.OperationTimeout, ThreadId ?? From ?? connection.AgentId);
                        WriteError(record);
                        return;
                    }
                    var pause = deadline - elapsed < interval ? deadline - elapsed : interval;
                    progress.StatusDescription = TimeoutSec == 0
                        ? $"{DescribeFilter(connection)}: waited {elapsed.TotalSeconds:0} s, next poll in {pause.TotalSeconds:0.#} s"
                        : $"{DescribeFilter(connection)}: waited {elapsed.TotalSeconds:0} of {TimeoutSec} s";
                    if (TimeoutSec > 0)
                    {
                        progress.PercentComplete = (int)Math.Min(99, elapsed.TotalSeconds * 100 / TimeoutSec);
                        progress.SecondsRemaining = (int)Math.Ceiling((deadline - elapsed).TotalSeconds);
                    }
                    WriteProgress(progress);
                    // Sleep on the stop token's wait handle, so Ctrl+C ends the wait at once.
                    if (StopToken.WaitHandle.WaitOne(pause))
                    {
                        throw new PipelineStoppedException();
                    }
                    interval = backoff.Grow();
                }
            }
            finally
            {
                if (!StopToken.IsCancellationRequested)
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
            }
        }

        /// <summary>-TimeoutSec bounds the whole wait: every poll and every wait before a retry inside one.</summary>
        protected override DateTime? CallDeadline => TimeoutSec == 0 ? null : _startedUtc + TimeSpan.FromSeconds(TimeoutSec);

        /// <summary>A poll may take no longer than what is left of -TimeoutSec (or the connection's timeout, if shorter).</summary>
        protected override TimeSpan? CallTimeout
        {
            get
            {
                if (TimeoutSec == 0)
                {
                    return null;
                }
                var left = TimeSpan.FromSeconds(TimeoutSec) - _watch.Elapsed;
                left = left > TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50);
                var own = (Connection ?? DefaultConnection.Current)?.Client.Timeout ?? Timeout.InfiniteTimeSpan;
                return own != Timeout.InfiniteTimeSpan && own < left ? own : left;
            }
        }

        #endregion

        private string DescribeFilter(Connection connection)
            => $"{connection.AgentId}{(From is null ? "" : $", from {From}")}{(ThreadId is null ? "" : $", thread {ThreadId}")}";
    }
}
