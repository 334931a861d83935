using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>
    /// The answer to a graph query: the nodes whose name or description holds the query text, the nodes reachable
    /// from them within the depth, and the edges among all of those. An edge's far end may be a node of another
    /// agent, which is then not among <see cref="Nodes"/> (edges are global on the server).
    /// </summary>
    public sealed class GraphQueryResult
    {
        [JsonConstructor]
        internal GraphQueryResult() { }

        /// <summary>The query text, as asked.</summary>
        [JsonIgnore]
        public string Query { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("nodes")]
        public GraphNode[] Nodes { get => _nodes; internal set => _nodes = value ?? Array.Empty<GraphNode>(); }
        private GraphNode[] _nodes = Array.Empty<GraphNode>();

        [JsonInclude, JsonPropertyName("edges")]
        public GraphEdge[] Edges { get => _edges; internal set => _edges = value ?? Array.Empty<GraphEdge>(); }
        private GraphEdge[] _edges = Array.Empty<GraphEdge>();

        public override string ToString() => $"{Query}: {Nodes.Length} node(s), {Edges.Length} edge(s)";
    }
}
