using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>An unread message of the agent's inbox, with the context of its thread so the agent never starts cold.</summary>
    public sealed class InboxMessage : MessageBase
    {
        [JsonConstructor]
        internal InboxMessage() { }

        /// <summary>
        /// The thread's current context: the latest snapshot, the recent messages and a token estimate. It carries the
        /// message's ThreadId (the wire's context has none), so it pipes into the thread cmdlets too.
        /// </summary>
        [JsonInclude, JsonPropertyName("context")]
        public ThreadContext Context
        {
            get
            {
                // Set on read: the answer may give the context before or after the thread id.
                if (_context.ThreadId.Length == 0)
                {
                    _context.ThreadId = ThreadId;
                }
                return _context;
            }
            internal set => _context = value ?? new ThreadContext();
        }
        private ThreadContext _context = new ThreadContext();

        /// <summary>An inbox message for a stored message that was found outside the unread list (see Receive-AgentMessage).</summary>
        public static InboxMessage FromMessage(Message message, ThreadContext context) => new InboxMessage
        {
            Id = message.Id,
            ThreadId = message.ThreadId,
            From = message.From,
            To = message.To,
            Cc = message.Cc,
            Bcc = message.Bcc,
            ReplyTo = message.ReplyTo,
            Payload = message.Payload,
            Timestamp = message.Timestamp,
            Context = context,
        };
    }
}
