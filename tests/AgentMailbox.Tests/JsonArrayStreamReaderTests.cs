using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xunit;

namespace AgentMailbox.Tests;

public sealed class JsonArrayStreamReaderTests
{
    public sealed class Item
    {
        [JsonPropertyName("n")]
        public int N { get; set; }

        [JsonPropertyName("s")]
        public string? S { get; set; }
    }

    private static readonly JsonSerializerOptions Options = JsonOptions.Create(JsonElementValueConverter.Instance);

    private static async Task<(List<T> Items, Dictionary<string, long>? Numbers)> ReadAllAsync<T>(Stream stream, string property = "messages")
    {
        Dictionary<string, long>? numbers = null;
        var items = new List<T>();
        await foreach (var item in JsonArrayStreamReader<T>.ReadAsync(stream, property, Options, n => numbers = new Dictionary<string, long>(n), CancellationToken.None))
        {
            items.Add(item);
        }
        return (items, numbers);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Reads_one_byte_at_a_time_with_properties_before_and_after_the_array()
    {
        const string json = """
            { "total" : 3, "meta": {"a":[1,{"messages":[9]}], "b":"x\"y"}, "list":[1,2], "note":"ünï😀",
              "messages" : [ {"n":1,"s":"a\"b\\c"}, {"n":2,"s":"ünï😀","extra":{"deep":[[[]]]}} ,{"n":3} ],
              "after": 5, "neg": -7, "frac": 1.5 }
            """;
        var (items, numbers) = await ReadAllAsync<Item>(new ChunkedStream(Utf8(json), 1));

        Assert.Equal(new[] { 1, 2, 3 }, items.Select(i => i.N));
        Assert.Equal("a\"b\\c", items[0].S);
        Assert.Equal("ünï😀", items[1].S);
        Assert.NotNull(numbers);
        Assert.Equal(3, numbers!["total"]);
        Assert.Equal(5, numbers["after"]);
        Assert.Equal(-7, numbers["neg"]);
        Assert.False(numbers.ContainsKey("frac"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task Chunk_size_does_not_change_the_result(int chunkSize)
    {
        var sb = new StringBuilder("{\"messages\":[");
        for (int i = 0; i < 500; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("{\"n\":").Append(i).Append(",\"s\":\"").Append(new string((char)('a' + i % 26), i % 97)).Append("ü\"}");
        }
        sb.Append("],\"total\":500}");
        var (items, numbers) = await ReadAllAsync<Item>(new ChunkedStream(Utf8(sb.ToString()), chunkSize));

        Assert.Equal(Enumerable.Range(0, 500), items.Select(i => i.N));
        Assert.All(items, i => Assert.EndsWith("ü", i.S));
        Assert.Equal(500, numbers!["total"]);
    }

    [Fact]
    public async Task An_item_larger_than_the_initial_buffer_is_read_whole()
    {
        string big = new string('x', 100_000);
        string json = "{\"messages\":[{\"n\":1,\"s\":\"" + big + "\"},{\"n\":2}]}";
        var (items, _) = await ReadAllAsync<Item>(new ChunkedStream(Utf8(json), 1000));

        Assert.Equal(2, items.Count);
        Assert.Equal(big, items[0].S);
        Assert.Equal(2, items[1].N);
    }

    [Fact]
    public async Task An_empty_array_and_a_null_array_yield_nothing()
    {
        Assert.Empty((await ReadAllAsync<Item>(new MemoryStream(Utf8("{\"messages\":[]}")))).Items);
        Assert.Empty((await ReadAllAsync<Item>(new MemoryStream(Utf8("{\"messages\":null}")))).Items);
    }

    [Theory]
    [InlineData("{\"messages\":[{\"n\":1},{\"n\":2")]
    [InlineData("{\"messages\":[{\"n\":1},")]
    [InlineData("{\"messages\":[{\"n\":1}]")]
    [InlineData("{\"messages\":[{\"n\":1}")]
    [InlineData("{\"total\":3,\"mess")]
    [InlineData("")]
    public async Task A_body_cut_short_throws_JsonException(string json)
    {
        var stream = new ChunkedStream(Utf8(json), 2);
        var seen = new List<int>();
        await Assert.ThrowsAnyAsync<JsonException>(async () =>
        {
            await foreach (var item in JsonArrayStreamReader<Item>.ReadAsync(stream, "messages", Options, null, CancellationToken.None))
            {
                seen.Add(item.N);
            }
        });
        Assert.DoesNotContain(2, seen);
    }

    [Theory]
    [InlineData("[{\"n\":1}]")]
    [InlineData("{\"messages\":\"nope\"}")]
    [InlineData("{\"messages\":{\"n\":1}}")]
    public async Task A_body_of_the_wrong_shape_throws_JsonException(string json)
    {
        await Assert.ThrowsAnyAsync<JsonException>(() => ReadAllAsync<Item>(new MemoryStream(Utf8(json))));
    }

    [Fact]
    public async Task The_first_item_is_yielded_before_the_body_has_ended()
    {
        // The server has sent the first item and part of the second, then pauses.
        string head = "{\"messages\":[{\"n\":1,\"s\":\"first\"},{\"n\":2,";
        string json = head + "\"s\":\"second\"}]}";
        var stream = new ChunkedStream(Utf8(json), 4, pauseAt: Encoding.UTF8.GetByteCount(head));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var items = JsonArrayStreamReader<Item>.ReadAsync(stream, "messages", Options, null, cts.Token).GetAsyncEnumerator(cts.Token);

        var first = items.MoveNextAsync().AsTask();
        var winner = await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(3)));
        bool yieldedWhilePaused = winner == first && !stream.Finished;
        stream.Release();
        bool any = await first;

        Assert.True(yieldedWhilePaused, "The first item was held back until more of the body arrived.");
        Assert.True(any);
        Assert.Equal(1, items.Current.N);
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("second", items.Current.S);
        Assert.False(await items.MoveNextAsync());
    }

    [Fact]
    public async Task An_item_that_completes_mid_body_is_yielded_while_the_body_pauses()
    {
        // Several items have arrived (a few hundred bytes, well under any buffer size) and the rest is late.
        var sb = new StringBuilder("{\"messages\":[");
        for (int i = 1; i <= 5; i++)
        {
            sb.Append(i == 1 ? "" : ",").Append("{\"n\":").Append(i).Append('}');
        }
        int pause = Encoding.UTF8.GetByteCount(sb.ToString());
        sb.Append(",{\"n\":6}]}");
        var stream = new ChunkedStream(Utf8(sb.ToString()), 1, pauseAt: pause);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var items = JsonArrayStreamReader<Item>.ReadAsync(stream, "messages", Options, null, cts.Token).GetAsyncEnumerator(cts.Token);

        int got = 0;
        var collect = Task.Run(async () =>
        {
            while (Volatile.Read(ref got) < 5 && await items.MoveNextAsync())
            {
                Assert.Equal(got + 1, items.Current.N);
                Interlocked.Increment(ref got);
            }
        });
        await Task.WhenAny(collect, Task.Delay(TimeSpan.FromSeconds(3)));
        int whilePaused = Volatile.Read(ref got);
        stream.Release();
        await collect;

        Assert.True(whilePaused == 5, $"Only {whilePaused} of the 5 complete items were yielded while the body paused.");
        Assert.True(await items.MoveNextAsync());
        Assert.Equal(6, items.Current.N);
    }

    [Fact]
    public async Task Cancellation_ends_a_read_that_waits_for_data()
    {
        var stream = new ChunkedStream(Utf8("{\"messages\":[{\"n\":1}]}"), 64, pauseAt: 5);
        using var cts = new CancellationTokenSource();
        var task = Task.Run(async () =>
        {
            await foreach (var _ in JsonArrayStreamReader<Item>.ReadAsync(stream, "messages", Options, null, cts.Token))
            {
            }
        });
        await stream.Paused.WaitAsync(TimeSpan.FromSeconds(10));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
