using System;

namespace AgentMailbox
{
    /// <summary>A thread marked read for an agent (Set-AgentThreadRead -PassThru); pipes into the thread cmdlets by ThreadId.</summary>
    public sealed class ThreadReadResult
    {
        public ThreadReadResult(string threadId, string agentId)
        {
            ThreadId = threadId ?? throw new ArgumentNullException(nameof(threadId));
            AgentId = agentId ?? throw new ArgumentNullException(nameof(agentId));
        }

        /// <summary>The thread that was marked read.</summary>
        public string ThreadId { get; }

        /// <summary>The agent it was marked read for.</summary>
        public string AgentId { get; }

        public override string ToString() => ThreadId;
    }
}
