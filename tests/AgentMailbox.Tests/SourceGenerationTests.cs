using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>
/// The wire types are read with source-generated metadata, not reflection (a fresh process would otherwise build
/// their converters by reflection on its first call); a type the context does not list still works, by reflection.
/// </summary>
public sealed class SourceGenerationTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public SourceGenerationTests(MockServerFixture fixture) : base(fixture) { }

    /// <summary>Every type the client reads from the wire, and the types of their properties.</summary>
    private static readonly Type[] WireTypes =
    [
        typeof(RegisterResult), typeof(SendResult), typeof(InboxMessage), typeof(Message), typeof(AgentThread),
        typeof(ThreadContext), typeof(ThreadParticipant), typeof(HealthInfo), typeof(AgentMailboxClient.ThreadEnvelope),
        typeof(AgentMailboxClient.ContextEnvelope), typeof(AgentMailboxClient.ParticipantsEnvelope), typeof(JsonElement),
        typeof(Message[]), typeof(ThreadParticipant[]), typeof(string[]), typeof(object), typeof(string), typeof(DateTimeOffset),
        typeof(ParticipantRole), typeof(int), typeof(bool), typeof(double),
        typeof(GraphNode), typeof(GraphEdge), typeof(GraphQueryResult), typeof(IndexEntry), typeof(IndexRollupResult),
        typeof(ContextCheckpoint), typeof(CheckpointSnapshot), typeof(ContextDiff), typeof(AgentCard),
    ];

    [Fact]
    public void The_context_holds_metadata_for_every_wire_type()
    {
        var options = JsonOptions.Create(JsonElementValueConverter.Instance);
        foreach (var type in WireTypes)
        {
            var fromContext = WireJsonContext.Default.GetTypeInfo(type);
            Assert.True(fromContext is not null, $"{type} is not in the source-generated context");
            // Through the client's own options, too: the combined resolver asks the context first.
            Assert.True(((IJsonTypeInfoResolver)WireJsonContext.Default).GetTypeInfo(type, options) is not null, $"{type} is not served to the client's options");
        }
    }

    /// <summary>The generated metadata reads exactly what reflection would: the same properties, each settable, and a constructor.</summary>
    [Fact]
    public void Generated_metadata_matches_reflection_for_every_wire_class()
    {
        var generated = new JsonSerializerOptions { TypeInfoResolver = WireJsonContext.Default };
        var reflected = new JsonSerializerOptions { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        foreach (var type in WireTypes.Where(t => t.IsClass && !t.IsArray && t != typeof(string) && t != typeof(object)))
        {
            var g = generated.GetTypeInfo(type);
            var r = reflected.GetTypeInfo(type);
            Assert.Equal(JsonTypeInfoKind.Object, g.Kind);
            Assert.Equal(Describe(r), Describe(g));
            Assert.True(g.CreateObject is not null || g.Properties.Count == 0 || HasParameterizedConstructor(type), $"{type.Name} cannot be created by the generated metadata");
        }

        static string Describe(JsonTypeInfo info) => string.Join(", ", info.Properties
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"{p.Name}:{p.PropertyType.Name}:{(p.Set is null ? "read-only" : "settable")}:{p.CustomConverter?.GetType().Name}"));

        static bool HasParameterizedConstructor(Type type)
            => type.GetConstructors(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
                .Any(c => c.GetParameters().Length > 0 && c.IsDefined(typeof(JsonConstructorAttribute), false));
    }

    [Fact]
    public async Task Every_call_reads_its_answer_without_the_reflection_fallback()
    {
        var client = NewClient();
        await client.RegisterAsync("sg-alice");
        var sent = await client.SendAsync(new SendMessageRequest
        {
            From = "sg-alice", To = "sg-bob", Cc = ["sg-carol"], Payload = new Dictionary<string, object> { ["task"] = "t" },
            ContextSnapshot = new Dictionary<string, object> { ["step"] = 1 },
        });
        await client.ReplyAllAsync(new ReplyAllRequest { From = "sg-bob", ThreadId = sent.ThreadId, Payload = "ack" });
        var unread = await client.GetUnreadAsync("sg-carol").CollectAsync();
        var threads = await client.GetThreadsAsync("sg-alice").CollectAsync();
        var thread = await client.GetThreadAsync(sent.ThreadId, "sg-alice");
        var context = await client.SyncThreadAsync(sent.ThreadId, "sg-alice");
        var participants = await client.GetParticipantsAsync(sent.ThreadId, "sg-alice");
        await client.MarkReadAsync("sg-carol", sent.ThreadId);
        var health = await client.GetHealthAsync();

        // The answers were read in full (so the metadata was used), ...
        Assert.Equal(2, unread.Count);
        Assert.Equal("t", ((JsonElement)unread[0].Payload!).GetProperty("task").GetString());
        Assert.Equal(2, thread.Messages.Length);
        Assert.Single(threads);
        Assert.Equal(2, context.RecentMessages.Length);
        Assert.Equal(3, participants.Count);
        Assert.True(health.Ok);
        // ... and none of it came from reflection.
        var fromReflection = WireTypes.Intersect(JsonOptions.ReflectionFallbackTypes).ToArray();
        Assert.True(fromReflection.Length == 0, "read by reflection: " + string.Join(", ", fromReflection.Select(t => t.Name)));
    }

    private sealed class Unlisted
    {
        [JsonPropertyName("name")] public string Name { get; set; } = "";
        [JsonPropertyName("when"), JsonConverter(typeof(EpochMillisecondsConverter))] public DateTimeOffset When { get; set; }
    }

    [Fact]
    public void A_type_the_context_does_not_list_is_served_by_reflection_and_noted()
    {
        var options = JsonOptions.Create(JsonElementValueConverter.Instance);
        Assert.Null(WireJsonContext.Default.GetTypeInfo(typeof(Unlisted)));

        var value = JsonSerializer.Deserialize<Unlisted>("""{"name":"n","when":1700000000000}""", options)!;

        Assert.Equal("n", value.Name);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), value.When);
        Assert.Contains(typeof(Unlisted), JsonOptions.ReflectionFallbackTypes);
    }

    [Fact]
    public void Free_form_values_of_source_generated_types_still_go_to_the_value_converter()
    {
        var converter = new TaggingConverter();
        var options = JsonOptions.Create(converter);

        var message = JsonSerializer.Deserialize<InboxMessage>(
            """{"id":"m","threadId":"t","from":"a","to":"b","timestamp":1,"payload":{"x":1},"context":{"snapshot":[2],"threadSummary":"s","recentMessages":[{"id":"r","threadId":"t","from":"a","to":"b","timestamp":1,"payload":3,"contextSnapshot":{"y":4}}],"tokenCount":7}}""",
            options)!;

        Assert.Equal("tag:{\"x\":1}", message.Payload);
        Assert.Equal("tag:[2]", message.Context.Snapshot);
        Assert.Equal("tag:3", message.Context.RecentMessages[0].Payload);
        Assert.Equal("tag:{\"y\":4}", message.Context.RecentMessages[0].ContextSnapshot);
        Assert.Equal(7, message.Context.TokenCount);
    }

    private sealed class TaggingConverter : IJsonValueConverter
    {
        public object? Read(ref Utf8JsonReader reader)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return "tag:" + document.RootElement.GetRawText();
        }

        public void Write(Utf8JsonWriter writer, object? value) => writer.WriteStringValue(value?.ToString());
    }
}
