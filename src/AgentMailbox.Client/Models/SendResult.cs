using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>What the server answered to a send or a reply-all.</summary>
    public sealed class SendResult
    {
        [JsonConstructor]
        internal SendResult() { }

        /// <summary>The id of the new message.</summary>
        [JsonInclude, JsonPropertyName("messageId")]
        public string MessageId { get; internal set; } = "";

        /// <summary>The thread the message landed in; pipes into the thread cmdlets by property name.</summary>
        [JsonInclude, JsonPropertyName("threadId")]
        public string ThreadId { get; internal set; } = "";

        /// <summary>Every recipient (to, cc and bcc, without the sender), in the server's order.</summary>
        [JsonInclude, JsonPropertyName("deliveredTo")]
        public string[] DeliveredTo { get => _deliveredTo; internal set => _deliveredTo = value ?? Array.Empty<string>(); }
        private string[] _deliveredTo = Array.Empty<string>();

        public override string ToString() => MessageId;
    }
}
