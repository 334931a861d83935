using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>How an agent takes part in a thread: its highest role over the thread's messages.</summary>
    public enum ParticipantRole
    {
        /// <summary>Sender or direct recipient.</summary>
        To,
        /// <summary>Carbon-copy recipient.</summary>
        Cc,
        /// <summary>Blind-copy recipient (shown only to the agents that bcc'd it, and to itself).</summary>
        Bcc,
    }

    /// <summary>An agent of a thread, its role and when it joined.</summary>
    public sealed class ThreadParticipant
    {
        [JsonConstructor]
        internal ThreadParticipant() { }

        /// <summary>The thread the agent takes part in; pipes into the thread cmdlets by property name.</summary>
        [JsonIgnore]
        public string ThreadId { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("agentId")]
        public string AgentId { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("role"), JsonConverter(typeof(ParticipantRoleConverter))]
        public ParticipantRole Role { get; internal set; }

        [JsonInclude, JsonPropertyName("joinedAt"), JsonConverter(typeof(EpochMillisecondsConverter))]
        public DateTimeOffset JoinedAt { get; internal set; }

        public override string ToString() => AgentId;
    }
}
