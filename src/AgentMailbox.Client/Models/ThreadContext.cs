using System;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>The context of a thread: what an agent needs to pick the work up without starting cold.</summary>
    public sealed class ThreadContext
    {
        [JsonConstructor]
        internal ThreadContext() { }

        /// <summary>The thread this context belongs to; pipes into the thread cmdlets by property name.</summary>
        [JsonIgnore]
        public string ThreadId { get; internal set; } = "";

        /// <summary>The context snapshot of the thread's latest message.</summary>
        [JsonInclude, JsonPropertyName("snapshot")]
        public object? Snapshot { get => DeferredJsonValue.Resolve(ref _snapshot); internal set => _snapshot = value; }
        private object? _snapshot;

        [JsonInclude, JsonPropertyName("threadSummary")]
        public string ThreadSummary { get => _summary; internal set => _summary = value ?? ""; }
        private string _summary = "";

        /// <summary>The structured summary of older messages, present once a thread is long enough.</summary>
        [JsonInclude, JsonPropertyName("threadSummaryStructured")]
        public object? ThreadSummaryStructured { get => DeferredJsonValue.Resolve(ref _threadSummaryStructured); internal set => _threadSummaryStructured = value; }
        private object? _threadSummaryStructured;

        [JsonInclude, JsonPropertyName("recentMessages")]
        public Message[] RecentMessages { get => _recent; internal set => _recent = value ?? Array.Empty<Message>(); }
        private Message[] _recent = Array.Empty<Message>();

        [JsonInclude, JsonPropertyName("tokenCount")]
        public int TokenCount { get; internal set; }
    }
}
