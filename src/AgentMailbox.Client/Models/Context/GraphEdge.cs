using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>A directed, typed edge between two graph nodes. The server keys edges by (source, target, type), not by agent.</summary>
    public sealed class GraphEdge
    {
        [JsonConstructor]
        internal GraphEdge() { }

        /// <summary>An edge to upsert; the weight must be a positive finite number (the server's default is 1).</summary>
        public GraphEdge(string sourceId, string targetId, string type, double weight = 1.0)
        {
            SourceId = sourceId;
            TargetId = targetId;
            Type = type;
            Weight = weight;
        }

        [JsonInclude, JsonPropertyName("sourceId")]
        public string SourceId { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("targetId")]
        public string TargetId { get; internal set; } = "";

        /// <summary>Free text, such as imports, calls or decided-by.</summary>
        [JsonInclude, JsonPropertyName("type")]
        public string Type { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("weight")]
        public double Weight { get; internal set; } = 1.0;

        public override string ToString() => $"{SourceId} -{Type}-> {TargetId}";
    }
}
