using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>A node of an agent's context graph: a message, file, symbol, decision or task the agent knows about.</summary>
    public sealed class GraphNode
    {
        [JsonConstructor]
        internal GraphNode() { }

        /// <summary>A node to upsert. <paramref name="type"/> is one of <see cref="ContextVocabulary.NodeTypes"/>.</summary>
        public GraphNode(string id, string type, string name, string? description = null, object? metadata = null)
        {
            Id = id;
            Type = type;
            Name = name;
            Description = description;
            Metadata = metadata;
        }

        /// <summary>The node's id, unique per agent.</summary>
        [JsonInclude, JsonPropertyName("id")]
        public string Id { get; internal set; } = "";

        /// <summary>message, file, symbol, decision or task.</summary>
        [JsonInclude, JsonPropertyName("type")]
        public string Type { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("name")]
        public string Name { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("description")]
        public string? Description { get; internal set; }

        /// <summary>Free-form data, decoded by the client's value converter; the server stores an object (empty when none was sent).</summary>
        [JsonInclude, JsonPropertyName("metadata")]
        public object? Metadata { get => DeferredJsonValue.Resolve(ref _metadata); internal set => _metadata = value; }
        private object? _metadata;

        /// <summary>When the server last wrote the node; null where the answer does not say (checkpoint snapshots, a node just sent).</summary>
        [JsonInclude, JsonPropertyName("updatedAt"), JsonConverter(typeof(NullableEpochMillisecondsConverter))]
        public DateTimeOffset? UpdatedAt { get; internal set; }

        public override string ToString() => Id;
    }
}
