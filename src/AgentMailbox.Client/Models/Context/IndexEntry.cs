using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>An entry of an agent's codebase index: a file, symbol, API, config, architecture note, module or overview.</summary>
    public sealed class IndexEntry
    {
        [JsonConstructor]
        internal IndexEntry() { }

        /// <summary>An entry to upsert. <paramref name="category"/> is one of <see cref="ContextVocabulary.IndexCategories"/>.</summary>
        public IndexEntry(string key, string category, string summary, object? metadata = null)
        {
            Key = key;
            Category = category;
            Summary = summary;
            Metadata = metadata;
        }

        /// <summary>The entry's key, often a path with '/' separators; any characters round-trip.</summary>
        [JsonInclude, JsonPropertyName("key")]
        public string Key { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("category")]
        public string Category { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("summary")]
        public string Summary { get; internal set; } = "";

        /// <summary>Free-form data, decoded by the client's value converter.</summary>
        [JsonInclude, JsonPropertyName("metadata")]
        public object? Metadata { get => DeferredJsonValue.Resolve(ref _metadata); internal set => _metadata = value; }
        private object? _metadata;

        /// <summary>When the server last wrote the entry (every upsert and rollup sets it); null in checkpoint snapshots.</summary>
        [JsonInclude, JsonPropertyName("updatedAt"), JsonConverter(typeof(NullableEpochMillisecondsConverter))]
        public DateTimeOffset? UpdatedAt { get; internal set; }

        /// <summary>The module entry a rollup made this entry a part of; the server clears it on every upsert.</summary>
        [JsonInclude, JsonPropertyName("parentKey")]
        public string? ParentKey { get; internal set; }

        /// <summary>The server's staleness flag (set only by its check-staleness route, which the module never calls).</summary>
        [JsonInclude, JsonPropertyName("stale")]
        public bool Stale { get; internal set; }

        public override string ToString() => Key;
    }

    /// <summary>The server's answer to a rollup: the module entry's key and how many keys it was asked to roll up.</summary>
    public sealed class IndexRollupResult
    {
        [JsonConstructor]
        internal IndexRollupResult() { }

        [JsonInclude, JsonPropertyName("key")]
        public string Key { get; internal set; } = "";

        [JsonInclude, JsonPropertyName("fileCount")]
        public int FileCount { get; internal set; }

        public override string ToString() => Key;
    }
}
