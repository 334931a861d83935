using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>
    /// What every message carries, stored (<see cref="Message"/>) or unread in an inbox (<see cref="InboxMessage"/>):
    /// one definition of the common properties and of their wire names.
    /// </summary>
    public abstract class MessageBase
    {
        private protected MessageBase() { }

        [JsonInclude, JsonPropertyName("id")]
        public string Id { get; internal set; } = "";

        /// <summary>The thread of the message; pipes into Invoke-AgentReplyAll and the thread cmdlets by property name.</summary>
        [JsonInclude, JsonPropertyName("threadId")]
        public string ThreadId { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("from")]
        public string From { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("to")]
        public string To { get; internal set; } = "";

        /// <summary>Carbon-copy recipients; empty, never null, when there are none.</summary>
        [JsonInclude, JsonPropertyName("cc")]
        public string[] Cc { get => _cc; internal set => _cc = value ?? Array.Empty<string>(); }
        private string[] _cc = Array.Empty<string>();

        /// <summary>Blind-copy recipients; the server shows them only to the message's sender, and strips them from everyone else's view.</summary>
        [JsonInclude, JsonPropertyName("bcc")]
        public string[] Bcc { get => _bcc; internal set => _bcc = value ?? Array.Empty<string>(); }
        private string[] _bcc = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("replyTo")]
        public string? ReplyTo { get; internal set; }

        /// <summary>The message body, decoded by the client's value converter (in a streamed list, when first read).</summary>
        [JsonInclude, JsonPropertyName("payload")]
        public object? Payload { get => DeferredJsonValue.Resolve(ref _payload); internal set => _payload = value; }
        private object? _payload;

        [JsonInclude, JsonPropertyName("timestamp"), JsonConverter(typeof(EpochMillisecondsConverter))]
        public DateTimeOffset Timestamp { get; internal set; }

        public override string ToString() => Id;
    }
}
