using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>A stored message as the server shows it to the requesting agent (bcc stripped where the protocol says).</summary>
    public sealed class Message : MessageBase
    {
        [JsonConstructor]
        internal Message() { }

        /// <summary>The context snapshot the sender attached (or the server's handoff packet).</summary>
        [JsonInclude, JsonPropertyName("contextSnapshot")]
        public object? ContextSnapshot { get => DeferredJsonValue.Resolve(ref _contextSnapshot); internal set => _contextSnapshot = value; }
        private object? _contextSnapshot;
    }
}
