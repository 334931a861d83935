using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>A git-style checkpoint of an agent's graph and index, on a branch, with a link to its parent.</summary>
    public sealed class ContextCheckpoint
    {
        [JsonConstructor]
        internal ContextCheckpoint() { }

        [JsonInclude, JsonPropertyName("id")]
        public string Id { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("agentId")]
        public string AgentId { get; internal set; } = "";

        /// <summary>The branch's previous checkpoint, or null for the first.</summary>
        [JsonInclude, JsonPropertyName("parentId")]
        public string? ParentId { get; internal set; }

        [JsonInclude, JsonPropertyName("branch")]
        public string Branch { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("message")]
        public string Message { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("nodeCount")]
        public int NodeCount { get; internal set; }

        [JsonInclude, JsonPropertyName("indexCount")]
        public int IndexCount { get; internal set; }

        /// <summary>16 hex digits over the node ids and index keys (not their content).</summary>
        [JsonInclude, JsonPropertyName("snapshotHash")]
        public string SnapshotHash { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("createdAt"), JsonConverter(typeof(EpochMillisecondsConverter))]
        public DateTimeOffset CreatedAt { get; internal set; }

        /// <summary>The graph and index as they were; only when the checkpoint was read by id.</summary>
        [JsonInclude, JsonPropertyName("snapshot")]
        public CheckpointSnapshot? Snapshot { get; internal set; }

        public override string ToString() => Id;
    }

    /// <summary>What a checkpoint holds: the agent's nodes, the edges among them and its index entries.</summary>
    public sealed class CheckpointSnapshot
    {
        [JsonConstructor]
        internal CheckpointSnapshot() { }

        [JsonInclude, JsonPropertyName("nodes")]
        public GraphNode[] Nodes { get => _nodes; internal set => _nodes = value ?? Array.Empty<GraphNode>(); }
        private GraphNode[] _nodes = Array.Empty<GraphNode>();

        [JsonInclude, JsonPropertyName("edges")]
        public GraphEdge[] Edges { get => _edges; internal set => _edges = value ?? Array.Empty<GraphEdge>(); }
        private GraphEdge[] _edges = Array.Empty<GraphEdge>();

        [JsonInclude, JsonPropertyName("indexEntries")]
        public IndexEntry[] IndexEntries { get => _entries; internal set => _entries = value ?? Array.Empty<IndexEntry>(); }
        private IndexEntry[] _entries = Array.Empty<IndexEntry>();

        public override string ToString() => $"{Nodes.Length} node(s), {Edges.Length} edge(s), {IndexEntries.Length} index entries";
    }

    /// <summary>
    /// What changed between two checkpoints, or between a checkpoint and the live state: node ids and index keys.
    /// The server counts a node as modified when its name, description or metadata changed, an index entry when its
    /// summary or metadata changed (not its category or parent).
    /// </summary>
    public sealed class ContextDiff
    {
        [JsonConstructor]
        internal ContextDiff() { }

        /// <summary>The checkpoint compared from.</summary>
        [JsonIgnore]
        public string ReferenceId { get; internal set; } = "";

        /// <summary>The checkpoint compared to, or null for the live state.</summary>
        [JsonIgnore]
        public string? DifferenceId { get; internal set; }

        [JsonInclude, JsonPropertyName("nodesAdded")]
        public string[] NodesAdded { get => _nodesAdded; internal set => _nodesAdded = value ?? Array.Empty<string>(); }
        private string[] _nodesAdded = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("nodesRemoved")]
        public string[] NodesRemoved { get => _nodesRemoved; internal set => _nodesRemoved = value ?? Array.Empty<string>(); }
        private string[] _nodesRemoved = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("nodesModified")]
        public string[] NodesModified { get => _nodesModified; internal set => _nodesModified = value ?? Array.Empty<string>(); }
        private string[] _nodesModified = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("indexAdded")]
        public string[] IndexAdded { get => _indexAdded; internal set => _indexAdded = value ?? Array.Empty<string>(); }
        private string[] _indexAdded = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("indexRemoved")]
        public string[] IndexRemoved { get => _indexRemoved; internal set => _indexRemoved = value ?? Array.Empty<string>(); }
        private string[] _indexRemoved = Array.Empty<string>();

        [JsonInclude, JsonPropertyName("indexModified")]
        public string[] IndexModified { get => _indexModified; internal set => _indexModified = value ?? Array.Empty<string>(); }
        private string[] _indexModified = Array.Empty<string>();

        /// <summary>True when nothing differs.</summary>
        [JsonIgnore]
        public bool IsEmpty => NodesAdded.Length + NodesRemoved.Length + NodesModified.Length
                               + IndexAdded.Length + IndexRemoved.Length + IndexModified.Length == 0;

        public override string ToString()
            => $"nodes +{NodesAdded.Length} -{NodesRemoved.Length} ~{NodesModified.Length}, index +{IndexAdded.Length} -{IndexRemoved.Length} ~{IndexModified.Length}";
    }
}
