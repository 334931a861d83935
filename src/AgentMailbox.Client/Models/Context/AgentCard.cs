using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>
    /// A public agent card (A2A discovery): the server's own card, or a registered agent's with its counts and
    /// endpoints. Capabilities, Skills, Provider and Endpoints are free-form, decoded by the client's value converter.
    /// </summary>
    public sealed class AgentCard
    {
        [JsonConstructor]
        internal AgentCard() { }

        [JsonInclude, JsonPropertyName("name")]
        public string Name { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("description")]
        public string? Description { get; internal set; }

        [JsonInclude, JsonPropertyName("url")]
        public string? Url { get; internal set; }

        [JsonInclude, JsonPropertyName("version")]
        public string? Version { get; internal set; }

        [JsonInclude, JsonPropertyName("capabilities")]
        public object? Capabilities { get; internal set; }

        /// <summary>The server card's skills; null on an agent's card.</summary>
        [JsonInclude, JsonPropertyName("skills")]
        public object? Skills { get; internal set; }

        [JsonInclude, JsonPropertyName("provider")]
        public object? Provider { get; internal set; }

        /// <summary>"none" or "required" (the server has a shared key).</summary>
        [JsonInclude, JsonPropertyName("authentication")]
        public string? Authentication { get; internal set; }

        /// <summary>The agent's id; null on the server's card.</summary>
        [JsonInclude, JsonPropertyName("agentId")]
        public string? AgentId { get; internal set; }

        [JsonInclude, JsonPropertyName("createdAt"), JsonConverter(typeof(NullableEpochMillisecondsConverter))]
        public DateTimeOffset? CreatedAt { get; internal set; }

        /// <summary>Threads on the agent's first mailbox page (at most 100, as the server counts them).</summary>
        [JsonInclude, JsonPropertyName("threadCount")]
        public int? ThreadCount { get; internal set; }

        /// <summary>Unread messages on the agent's first mailbox page, as the server counts them.</summary>
        [JsonInclude, JsonPropertyName("unreadCount")]
        public int? UnreadCount { get; internal set; }

        [JsonInclude, JsonPropertyName("endpoints")]
        public object? Endpoints { get; internal set; }

        public override string ToString() => AgentId ?? Name;
    }
}
