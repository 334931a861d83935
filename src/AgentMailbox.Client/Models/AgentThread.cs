using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>A thread of the mailbox with its whole history, as the server shows it to the requesting agent.</summary>
    public sealed class AgentThread
    {
        [JsonConstructor]
        internal AgentThread() { }

        [JsonInclude, JsonPropertyName("id")]
        public string Id { get; internal set; } = "";

        /// <summary>The same as <see cref="Id"/>, so threads pipe into cmdlets that bind -ThreadId by property name.</summary>
        [JsonIgnore]
        public string ThreadId => Id;

        [JsonInclude, JsonPropertyName("participants")]
        public string[] Participants { get => _participants; internal set => _participants = value ?? Array.Empty<string>(); }
        private string[] _participants = Array.Empty<string>();

        /// <summary>Bcc participants; the server shows them only to agents in the list.</summary>
        [JsonInclude, JsonPropertyName("silentParticipants")]
        public string[] SilentParticipants { get => _silent; internal set => _silent = value ?? Array.Empty<string>(); }
        private string[] _silent = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("messages")]
        public Message[] Messages { get => _messages; internal set => _messages = value ?? Array.Empty<Message>(); }
        private Message[] _messages = Array.Empty<Message>();

        [JsonInclude, JsonPropertyName("createdAt"), JsonConverter(typeof(EpochMillisecondsConverter))]
        public DateTimeOffset CreatedAt { get; internal set; }

        [JsonInclude, JsonPropertyName("updatedAt"), JsonConverter(typeof(EpochMillisecondsConverter))]
        public DateTimeOffset UpdatedAt { get; internal set; }

        public override string ToString() => Id;
    }
}
