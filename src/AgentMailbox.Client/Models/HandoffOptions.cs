using System.Collections.Generic;

namespace AgentMailbox
{
    /// <summary>Asks the server to replace the message's context snapshot with a handoff packet (protocol §1.4).</summary>
    public sealed class HandoffOptions
    {
        /// <summary>What the receiving agent is to achieve.</summary>
        public string? Goal { get; set; }

        /// <summary>The next step the receiving agent should take.</summary>
        public string? NextAction { get; set; }

        /// <summary>Keep only these keys of the context (at most 100).</summary>
        public IList<string>? IncludeFields { get; set; }

        /// <summary>The byte budget of the packet's context, 256 to 1,000,000 (server default 16,000).</summary>
        public int? MaxContextBytes { get; set; }
    }
}
