using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>An unread message of the agent's inbox, with the context of its thread so the agent never starts cold.</summary>
    public sealed class InboxMessage
    {
        [JsonConstructor]
        internal InboxMessage() { }

        [JsonInclude, JsonPropertyName("id")]
        public string Id { get; internal set; } = "";

        /// <summary>The thread of the message; pipes into Invoke-AgentReplyAll and the thread cmdlets by property name.</summary>
        [JsonInclude, JsonPropertyName("threadId")]
        public string ThreadId
        {
            get => _threadId;
            internal set
            {
                _threadId = value;
                _context.ThreadId = value ?? "";
            }
        }
        private string _threadId = "";

        [JsonInclude, JsonPropertyName("from")]
        public string From { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("to")]
        public string To { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("cc")]
        public string[] Cc { get => _cc; internal set => _cc = value ?? Array.Empty<string>(); }
        private string[] _cc = Array.Empty<string>();

        /// <summary>Empty unless the reading agent sent the message: bcc is stripped from everyone else's view.</summary>
        [JsonInclude, JsonPropertyName("bcc")]
        public string[] Bcc { get => _bcc; internal set => _bcc = value ?? Array.Empty<string>(); }
        private string[] _bcc = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("replyTo")]
        public string? ReplyTo { get; internal set; }

        [JsonInclude, JsonPropertyName("payload")]
        public object? Payload { get; internal set; }

        [JsonInclude, JsonPropertyName("timestamp"), JsonConverter(typeof(EpochMillisecondsConverter))]
        public DateTimeOffset Timestamp { get; internal set; }

        /// <summary>The thread's current context: the latest snapshot, the recent messages and a token estimate.</summary>
        [JsonInclude, JsonPropertyName("context")]
        public ThreadContext Context
        {
            get => _context;
            internal set
            {
                _context = value ?? new ThreadContext();
                if (!string.IsNullOrEmpty(_threadId))
                {
                    _context.ThreadId = _threadId;
                }
            }
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

        public override string ToString() => Id;
    }
}
