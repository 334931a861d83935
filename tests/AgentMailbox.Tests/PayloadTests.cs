using System.Text;
using System.Text.Json;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Payloads and snapshots round-trip through the default <see cref="JsonElementValueConverter"/>.</summary>
public sealed class PayloadTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public PayloadTests(MockServerFixture fixture) : base(fixture) { }

    private static string NestedJson(int depth)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < depth - 1; i++)
        {
            sb.Append("{\"level\":").Append(i).Append(",\"next\":");
        }
        sb.Append("{\"leaf\":\"bottom\"}");
        sb.Append('}', depth - 1);
        return sb.ToString();
    }

    private static int Depth(JsonElement element)
    {
        int depth = 0;
        while (element.ValueKind == JsonValueKind.Object)
        {
            depth++;
            if (!element.TryGetProperty("next", out var next))
            {
                Assert.Equal("bottom", element.GetProperty("leaf").GetString());
                return depth;
            }
            element = next;
        }
        return depth;
    }

    private async Task<(object? Payload, object? Snapshot, object? FramePayload)> RoundTripAsync(object? payload, object? snapshot = null)
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest { From = "alice", To = "bob", Payload = payload, ContextSnapshot = snapshot });
        var message = Assert.Single((await client.GetThreadAsync(sent.ThreadId, "bob")).Messages);
        var frame = Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());
        return (message.Payload, message.ContextSnapshot, frame.Payload);
    }

    [Fact]
    public async Task A_payload_nested_100_deep_survives()
    {
        string json = NestedJson(100);
        var (payload, snapshot, framePayload) = await RoundTripAsync(TestJson.Parse(json), TestJson.Parse(json));

        Assert.Equal(100, Depth((JsonElement)payload!));
        Assert.Equal(json, ((JsonElement)payload!).GetRawText());
        Assert.Equal(json, ((JsonElement)snapshot!).GetRawText());
        Assert.Equal(json, ((JsonElement)framePayload!).GetRawText());
    }

    [Fact]
    public async Task A_payload_of_plain_objects_nested_100_deep_survives()
    {
        object node = new Dictionary<string, object?> { ["leaf"] = "bottom" };
        for (int i = 98; i >= 0; i--)
        {
            node = new Dictionary<string, object?> { ["level"] = i, ["next"] = node };
        }

        var (payload, _, _) = await RoundTripAsync(node);

        Assert.Equal(100, Depth((JsonElement)payload!));
        Assert.Equal(NestedJson(100), ((JsonElement)payload!).GetRawText());
    }

    [Fact]
    public async Task An_array_nested_100_deep_survives()
    {
        string json = new string('[', 99) + "[1,\"x\"]" + new string(']', 99);
        var (payload, _, framePayload) = await RoundTripAsync(TestJson.Parse(json));

        Assert.Equal(json, ((JsonElement)payload!).GetRawText());
        Assert.Equal(json, ((JsonElement)framePayload!).GetRawText());
    }

    [Fact]
    public async Task Numbers_stay_numbers()
    {
        const string json = "{\"int\":42,\"neg\":-7,\"zero\":0,\"frac\":1.5,\"small\":1e-7,\"big\":1e21,\"max\":9007199254740991,"
                            + "\"text\":\"42\",\"list\":[1,2.5,-3],\"yes\":true,\"none\":null}";
        var (payload, _, framePayload) = await RoundTripAsync(TestJson.Parse(json));

        foreach (var element in new[] { (JsonElement)payload!, (JsonElement)framePayload! })
        {
            Assert.Equal(JsonValueKind.Number, element.GetProperty("int").ValueKind);
            Assert.Equal(42, element.GetProperty("int").GetInt32());
            Assert.Equal(-7, element.GetProperty("neg").GetInt32());
            Assert.Equal(0, element.GetProperty("zero").GetInt32());
            Assert.Equal(1.5, element.GetProperty("frac").GetDouble());
            Assert.Equal(1e-7, element.GetProperty("small").GetDouble());
            Assert.Equal(1e21, element.GetProperty("big").GetDouble());
            Assert.Equal(9007199254740991L, element.GetProperty("max").GetInt64());
            Assert.Equal(JsonValueKind.String, element.GetProperty("text").ValueKind);
            Assert.Equal(new[] { 1, 2.5, -3 }, element.GetProperty("list").EnumerateArray().Select(e => e.GetDouble()));
            Assert.Equal(JsonValueKind.True, element.GetProperty("yes").ValueKind);
            Assert.Equal(JsonValueKind.Null, element.GetProperty("none").ValueKind);
        }
    }

    [Fact]
    public async Task Numbers_of_plain_objects_stay_numbers()
    {
        var (payload, _, _) = await RoundTripAsync(new Dictionary<string, object?> { ["count"] = 3, ["ratio"] = 0.25m, ["id"] = 12345678901L, ["name"] = "n" });

        var element = (JsonElement)payload!;
        Assert.Equal(JsonValueKind.Number, element.GetProperty("count").ValueKind);
        Assert.Equal(3, element.GetProperty("count").GetInt32());
        Assert.Equal(0.25, element.GetProperty("ratio").GetDouble());
        Assert.Equal(12345678901L, element.GetProperty("id").GetInt64());
    }

    [Theory]
    [InlineData("\"just text\"")]
    [InlineData("42")]
    [InlineData("-0.5")]
    [InlineData("true")]
    [InlineData("[1,\"two\",{\"three\":3},null]")]
    [InlineData("\"ünï😀 \\\"quoted\\\" back\\\\slash </script> \\u0000\"")]
    [InlineData("{}")]
    public async Task Any_json_value_is_a_payload(string json)
    {
        var (payload, _, framePayload) = await RoundTripAsync(TestJson.Parse(json));

        Assert.Equal(TestJson.Parse(json).GetRawText(), ((JsonElement)payload!).GetRawText());
        Assert.Equal(TestJson.Parse(json).GetRawText(), ((JsonElement)framePayload!).GetRawText());
    }

    [Fact]
    public async Task A_null_payload_is_sent_as_null_and_comes_back_null()
    {
        var (payload, snapshot, framePayload) = await RoundTripAsync(null);

        Assert.Null(payload);
        Assert.Null(framePayload);
        Assert.Equal("{}", ((JsonElement)snapshot!).GetRawText());
        Assert.Contains("\"payload\":null", Server.Requests.First(r => r.Path == "/messages/send").Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Strings_are_sent_as_utf8_not_escaped()
    {
        var client = NewClient();
        await SendAsync(client, "alice", "bob", "ünï <b> & 'x'");
        Assert.Contains("\"payload\":\"ünï <b> & 'x'\"", Server.Requests.Single().Body, StringComparison.Ordinal);
        Assert.Equal("application/json; charset=utf-8", Server.Requests.Single().Headers["Content-Type"]);
    }

    /// <summary>A host representation: the raw JSON text of each value.</summary>
    private sealed record RawJson(string Text);

    private sealed class RawJsonConverter : IJsonValueConverter
    {
        public int Writes;

        public object? Read(ref Utf8JsonReader reader)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return new RawJson(document.RootElement.GetRawText());
        }

        public void Write(Utf8JsonWriter writer, object? value)
        {
            Interlocked.Increment(ref Writes);
            if (value is RawJson raw)
            {
                writer.WriteRawValue(raw.Text);
            }
            else
            {
                JsonSerializer.Serialize(writer, value);
            }
        }
    }

    [Fact]
    public async Task A_custom_value_converter_reads_and_writes_every_free_form_value()
    {
        var converter = new RawJsonConverter();
        var client = NewClient(o => o.ValueConverter = converter);
        var sent = await client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "bob", Payload = new RawJson("{\"task\":[1,2]}"), ContextSnapshot = new RawJson("{\"step\":3}"),
        });

        var message = Assert.Single((await client.GetThreadAsync(sent.ThreadId, "bob")).Messages);
        var frame = Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());
        var context = await client.SyncThreadAsync(sent.ThreadId, "bob");

        Assert.Equal(2, converter.Writes);
        Assert.Equal(new RawJson("{\"task\":[1,2]}"), message.Payload);
        Assert.Equal(new RawJson("{\"step\":3}"), message.ContextSnapshot);
        Assert.Equal(new RawJson("{\"task\":[1,2]}"), frame.Payload);
        Assert.Equal(new RawJson("{\"step\":3}"), frame.Context.Snapshot);
        Assert.Equal(new RawJson("{\"step\":3}"), context.Snapshot);
        Assert.IsType<RawJson>(context.RecentMessages[0].Payload);
    }

    [Fact]
    public async Task A_null_value_converter_falls_back_to_the_default_for_writing_too()
    {
        // The constructor treats a null converter as the default one when reading; sending must do the same.
        var client = NewClient(o => o.ValueConverter = null!);

        var sent = await SendAsync(client, "alice", "bob", TestJson.Parse("{\"n\":1}"));

        var message = Assert.Single((await client.GetThreadAsync(sent.ThreadId, "bob")).Messages);
        Assert.Equal("{\"n\":1}", ((JsonElement)message.Payload!).GetRawText());
    }
}
