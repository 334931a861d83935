using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentMailbox
{
    /// <summary>
    /// Source-generated serialization metadata for every type the client reads from the wire, so a fresh process
    /// reads its first answer without building converters by reflection (and, on .NET, emitting IL for them).
    /// A type not listed here still works: <see cref="JsonOptions"/> falls back to reflection for it, and records
    /// that it did (<see cref="JsonOptions.ReflectionFallbackTypes"/>), which the tests check for the wire types.
    /// </summary>
    /// <remarks>
    /// The generated metadata is bound to the client's own options at run time, so their converters apply: free-form
    /// values (properties of type <see cref="object"/>) go to the client's <see cref="IJsonValueConverter"/>.
    /// </remarks>
    [JsonSerializable(typeof(RegisterResult))]
    [JsonSerializable(typeof(SendResult))]
    [JsonSerializable(typeof(InboxMessage))]
    [JsonSerializable(typeof(Message))]
    [JsonSerializable(typeof(AgentThread))]
    [JsonSerializable(typeof(ThreadContext))]
    [JsonSerializable(typeof(ThreadParticipant))]
    [JsonSerializable(typeof(HealthInfo))]
    [JsonSerializable(typeof(AgentMailboxClient.ThreadEnvelope))]
    [JsonSerializable(typeof(AgentMailboxClient.ContextEnvelope))]
    [JsonSerializable(typeof(AgentMailboxClient.ParticipantsEnvelope))]
    [JsonSerializable(typeof(JsonElement))]
    [JsonSerializable(typeof(GraphNode))]
    [JsonSerializable(typeof(GraphEdge))]
    [JsonSerializable(typeof(GraphQueryResult))]
    [JsonSerializable(typeof(IndexEntry))]
    [JsonSerializable(typeof(IndexRollupResult))]
    [JsonSerializable(typeof(ContextCheckpoint))]
    [JsonSerializable(typeof(CheckpointSnapshot))]
    [JsonSerializable(typeof(ContextDiff))]
    [JsonSerializable(typeof(AgentCard))]
    internal sealed partial class WireJsonContext : JsonSerializerContext
    {
    }
}
