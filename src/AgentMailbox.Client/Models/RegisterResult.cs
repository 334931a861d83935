using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>The answer to <c>POST /agents/register</c>.</summary>
    public sealed class RegisterResult
    {
        [JsonConstructor]
        internal RegisterResult() { }

        [JsonInclude, JsonPropertyName("agentId")]
        public string AgentId { get; internal set; } = "";

        /// <summary>True when the agent did not exist before (the server answers 201 either way).</summary>
        [JsonInclude, JsonPropertyName("created")]
        public bool Created { get; internal set; }
    }
}
