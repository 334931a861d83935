using System.Reflection;
using System.Text;
using System.Text.Json;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>
/// Free-form objects and arrays of a streamed list's items stay UTF-8 until a caller first reads them
/// (<see cref="DeferredJsonValue"/>): converted once, the same object ever after, from a private copy of the item.
/// </summary>
public sealed class DeferredValueTests
{
    /// <summary>The default converter, counting its calls.</summary>
    private sealed class CountingConverter : IJsonValueConverter
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public object? Read(ref Utf8JsonReader reader)
        {
            Interlocked.Increment(ref _reads);
            return JsonElementValueConverter.Instance.Read(ref reader);
        }

        public void Write(Utf8JsonWriter writer, object? value) => JsonElementValueConverter.Instance.Write(writer, value);
    }

    private static string Inbox(int count)
    {
        var sb = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < count; i++)
        {
            sb.Append(i == 0 ? "" : ",")
              .Append("{\"id\":\"m").Append(i).Append("\",\"threadId\":\"t\",\"from\":\"a\",\"to\":\"b\",\"timestamp\":1")
              .Append(",\"payload\":{\"n\":").Append(i).Append(",\"s\":\"ünï \\\"q\\\" ").Append(new string('x', i % 50)).Append("\"}")
              .Append(",\"context\":{\"snapshot\":[").Append(i).Append(",{\"k\":\"v\"}],\"threadSummary\":\"\",\"recentMessages\":[")
              .Append("{\"id\":\"r").Append(i).Append("\",\"threadId\":\"t\",\"from\":\"a\",\"to\":\"b\",\"timestamp\":1,")
              .Append("\"payload\":{\"r\":").Append(i).Append("},\"contextSnapshot\":\"plain ").Append(i).Append("\"}],\"tokenCount\":3}}");
        }
        return sb.Append("]}").ToString();
    }

    private static async Task<List<InboxMessage>> ReadAsync(string json, IJsonValueConverter converter, int chunkSize)
    {
        var options = JsonOptions.Create(converter);
        var items = new List<InboxMessage>();
        await foreach (var item in JsonArrayStreamReader<InboxMessage>.ReadAsync(
            new ChunkedStream(Encoding.UTF8.GetBytes(json), chunkSize), "messages", options, null, CancellationToken.None))
        {
            items.Add(item);
        }
        return items;
    }

    [Fact]
    public async Task Objects_and_arrays_are_converted_when_first_read_and_once()
    {
        var converter = new CountingConverter();
        var items = await ReadAsync(Inbox(3), converter, 4096);

        Assert.Equal(3, items.Count);
        // Only the scalars were converted: each item's recent message has a string contextSnapshot.
        Assert.Equal(3, converter.Reads);

        object? payload = items[1].Payload;
        Assert.Equal(4, converter.Reads);
        Assert.Equal(1, ((JsonElement)payload!).GetProperty("n").GetInt32());
        Assert.Same(payload, items[1].Payload);
        Assert.Equal(4, converter.Reads);

        Assert.Equal(JsonValueKind.Array, ((JsonElement)items[1].Context.Snapshot!).ValueKind);
        Assert.Equal(1, ((JsonElement)items[1].Context.RecentMessages[0].Payload!).GetProperty("r").GetInt32());
        Assert.Equal(6, converter.Reads);
    }

    [Fact]
    public async Task Scalars_are_converted_while_the_item_is_read()
    {
        var converter = new CountingConverter();
        var items = await ReadAsync(Inbox(2), converter, 4096);

        // contextSnapshot of each recent message is a string: converted at once, one per item.
        Assert.Equal(2, converter.Reads);
        Assert.Equal("plain 1", ((JsonElement)items[1].Context.RecentMessages[0].ContextSnapshot!).GetString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16 * 1024)]
    public async Task Values_read_after_the_stream_moved_on_are_intact(int chunkSize)
    {
        // The reader's buffer is reused for later items; a deferred value must hold its own copy.
        var items = await ReadAsync(Inbox(400), JsonElementValueConverter.Instance, chunkSize);

        for (int i = 0; i < items.Count; i++)
        {
            var payload = (JsonElement)items[i].Payload!;
            Assert.Equal(i, payload.GetProperty("n").GetInt32());
            Assert.Equal("ünï \"q\" " + new string('x', i % 50), payload.GetProperty("s").GetString());
            Assert.Equal($"[{i},{{\"k\":\"v\"}}]", ((JsonElement)items[i].Context.Snapshot!).GetRawText());
            Assert.Equal(i, ((JsonElement)items[i].Context.RecentMessages[0].Payload!).GetProperty("r").GetInt32());
        }
    }

    [Fact]
    public async Task Concurrent_first_reads_all_get_the_same_object()
    {
        var items = await ReadAsync(Inbox(50), new PSLikeConverter(), 4096);
        foreach (var item in items)
        {
            using var start = new ManualResetEventSlim();
            var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(() => { start.Wait(); return item.Payload; })).ToArray();
            start.Set();
            var seen = await Task.WhenAll(readers);
            Assert.All(seen, s => Assert.Same(seen[0], s));
            Assert.Same(seen[0], item.Payload);
        }
    }

    /// <summary>Converts objects to a fresh reference-type box each time, so a second conversion would be a different object.</summary>
    private sealed class PSLikeConverter : IJsonValueConverter
    {
        public object? Read(ref Utf8JsonReader reader)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            return new List<string> { document.RootElement.GetRawText() };
        }

        public void Write(Utf8JsonWriter writer, object? value) => throw new NotSupportedException();
    }

    [Fact]
    public void A_value_read_outside_a_streamed_list_is_converted_at_once()
    {
        var converter = new CountingConverter();
        var message = JsonSerializer.Deserialize<Message>(
            "{\"id\":\"m\",\"threadId\":\"t\",\"from\":\"a\",\"to\":\"b\",\"timestamp\":1,\"payload\":{\"n\":1}}", JsonOptions.Create(converter))!;

        Assert.Equal(1, converter.Reads);
        Assert.Equal(1, ((JsonElement)message.Payload!).GetProperty("n").GetInt32());
    }

    /// <summary>
    /// Every free-form property of a public model resolves a deferred value in its getter; a plain auto-property would
    /// hand the internal <see cref="DeferredJsonValue"/> to callers.
    /// </summary>
    [Fact]
    public void Every_free_form_model_property_resolves_deferred_values()
    {
        var properties = typeof(AgentMailboxClient).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsAbstract)
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => (Type: t, Property: p)))
            .Where(x => x.Property.PropertyType == typeof(object) && x.Property.SetMethod is { IsAssembly: true })
            .ToList();
        Assert.Contains(properties, x => x.Type == typeof(InboxMessage) && x.Property.Name == nameof(InboxMessage.Payload));
        Assert.Contains(properties, x => x.Type == typeof(ThreadContext) && x.Property.Name == nameof(ThreadContext.Snapshot));
        Assert.Contains(properties, x => x.Type == typeof(IndexEntry) && x.Property.Name == nameof(IndexEntry.Metadata));

        byte[] item = Encoding.UTF8.GetBytes("{\"v\":{\"deep\":[1,2]}}");
        foreach (var (type, property) in properties)
        {
            var instance = Activator.CreateInstance(type, nonPublic: true)!;
            property.SetValue(instance, Capture(item));
            var value = property.GetValue(instance);
            Assert.False(value is DeferredJsonValue, $"{type.Name}.{property.Name} returns the deferred value itself.");
            Assert.Equal("{\"deep\":[1,2]}", ((JsonElement)value!).GetRawText());
            Assert.Same(value, property.GetValue(instance));
        }
    }

    private static DeferredJsonValue Capture(byte[] item)
    {
        using var scope = DeferredJsonValue.OpenSource(item, 0, item.Length);
        var reader = new Utf8JsonReader(item);
        reader.Read();
        reader.Read();
        reader.Read();
        Assert.True(DeferredJsonValue.TryCapture(ref reader, JsonElementValueConverter.Instance, out var value));
        return value!;
    }
}
