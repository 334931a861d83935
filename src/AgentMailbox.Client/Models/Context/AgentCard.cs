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
        public object? Capabilities { get => DeferredJsonValue.Resolve(ref _capabilities); internal set => _capabilities = value; }
        private object? _capabilities;

        /// <summary>The server card's skills; null on an agent's card.</summary>
        [JsonInclude, JsonPropertyName("skills")]
        public object? Skills { get => DeferredJsonValue.Resolve(ref _skills); internal set => _skills = value; }
        private object? _skills;

        [JsonInclude, JsonPropertyName("provider")]
        public object? Provider { get => DeferredJsonValue.Resolve(ref _provider); internal set => _provider = value; }
        private object? _provider;

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
        public object? Endpoints { get => DeferredJsonValue.Resolve(ref _endpoints); internal set => _endpoints = value; }
        private object? _endpoints;

        public override string ToString() => AgentId ?? Name;
    }
}
