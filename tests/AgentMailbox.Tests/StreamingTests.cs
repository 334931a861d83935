using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Listings are streamed: items in the server's order, exact counts, early exit, and paging.</summary>
public class StreamingTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public StreamingTests(MockServerFixture fixture) : base(fixture) { }

    /// <summary>The ids of an unread listing as the server sent them, read without the client library.</summary>
    private async Task<List<string>> RawUnreadIdsAsync(string agentId)
    {
        using var http = new HttpClient();
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(Server.BaseUri, "mailbox/" + Uri.EscapeDataString(agentId) + "/unread")),
            new JsonDocumentOptions { MaxDepth = 1024 });
        return document.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList();
    }

    [Fact]
    public async Task A_large_inbox_streams_every_message_once_in_server_order()
    {
        var client = NewClient();
        var sent = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            var result = await SendAsync(client, "sender-" + (i % 6), "reader", TestJson.Parse($"{{\"seq\":{i},\"text\":\"{new string('m', i % 40)}\"}}"));
            sent.Add(result.MessageId);
        }

        var unread = await client.GetUnreadAsync("reader").CollectAsync();
        var serverOrder = await RawUnreadIdsAsync("reader");

        Assert.Equal(300, unread.Count);
        Assert.Equal(serverOrder, unread.Select(m => m.Id).ToList());
        Assert.Equal(sent.OrderBy(x => x, StringComparer.Ordinal), unread.Select(m => m.Id).OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(6, unread.Select(m => m.ThreadId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 300), unread.Select(m => ((JsonElement)m.Payload!).GetProperty("seq").GetInt32()));
        Assert.All(unread, m => Assert.Equal(10, m.Context.RecentMessages.Length));
    }

    [Fact]
    public async Task Frames_larger_than_the_read_buffer_are_read_whole()
    {
        var client = NewClient();
        var texts = Enumerable.Range(0, 3).Select(i => new string((char)('a' + i), 100_000 + i)).ToList();
        foreach (string text in texts)
        {
            await SendAsync(client, "alice", "bob", text);
        }

        var unread = await client.GetUnreadAsync("bob", recent: 1).CollectAsync();

        Assert.Equal(texts, unread.Select(m => ((JsonElement)m.Payload!).GetString()));
    }

    [Fact]
    public async Task Stopping_early_releases_the_response_and_the_client_stays_usable()
    {
        var client = NewClient();
        for (int i = 0; i < 50; i++)
        {
            await SendAsync(client, "alice", "bob", new string('p', 2000));
        }

        InboxMessage? first = null;
        await foreach (var message in client.GetUnreadAsync("bob"))
        {
            first = message;
            break;
        }

        Assert.NotNull(first);
        Assert.Equal(50, (await client.GetUnreadAsync("bob", recent: 1).CollectAsync()).Count);
    }

    [Fact]
    public async Task Recent_is_sent_and_bounds_each_context()
    {
        var client = NewClient();
        for (int i = 0; i < 5; i++)
        {
            await SendAsync(client, "alice", "bob", i);
        }

        var unread = await client.GetUnreadAsync("bob", recent: 2).CollectAsync();

        Assert.Equal("recent=2", Assert.Single(Server.Requests, r => r.Method == "GET").Query);
        Assert.All(unread, m => Assert.Equal(2, m.Context.RecentMessages.Length));
    }

    [Fact]
    public async Task The_first_message_arrives_before_the_rest_of_the_body()
    {
        // A server that sends the first frames and then pauses before the rest of a large inbox.
        string Frame(int i) =>
            $"{{\"id\":\"m{i}\",\"threadId\":\"t1\",\"from\":\"alice\",\"to\":\"bob\",\"timestamp\":{1795823483929 + i},\"payload\":{i},"
            + "\"context\":{\"snapshot\":{},\"threadSummary\":\"\",\"recentMessages\":[],\"tokenCount\":1}}";
        string head = "{\"messages\":[" + Frame(1) + "," + Frame(2) + ",";
        string tail = Frame(3) + "]}";

        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = ScriptedHttpServer.Start(async write =>
        {
            await write(head);
            await resume.Task;
            await write(tail);
        });
        var client = NewClient(o => o.Server = server.BaseUri);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var items = client.GetUnreadAsync("bob", null, cts.Token).GetAsyncEnumerator(cts.Token);

        var first = items.MoveNextAsync().AsTask();
        bool arrivedWhilePaused = await Task.WhenAny(first, Task.Delay(TimeSpan.FromSeconds(3))) == first;
        resume.TrySetResult();
        Assert.True(await first);

        Assert.True(arrivedWhilePaused, "the first message was held back until more of the body arrived");
        Assert.Equal("m1", items.Current.Id);
        Assert.True(await items.MoveNextAsync());
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("m3", items.Current.Id);
        Assert.False(await items.MoveNextAsync());
    }

    [Fact]
    public async Task A_body_that_keeps_arriving_slowly_does_not_time_out()
    {
        // Sixteen pieces, 250 ms apart: 3.75 s in all, never more than 0.25 s without data, against a 2 s timeout
        // (a wide margin: the machines that run this are shared and a 250 ms pause can stretch).
        string body = "{\"messages\":[" + string.Join(",", Enumerable.Range(1, 8).Select(i =>
            $"{{\"id\":\"m{i}\",\"threadId\":\"t1\",\"from\":\"alice\",\"to\":\"bob\",\"timestamp\":{i},\"payload\":\"{new string('x', 100)}\"}}")) + "]}";
        var pieces = Enumerable.Range(0, 16).Select(i => body.Substring(i * body.Length / 16, (i + 1) * body.Length / 16 - i * body.Length / 16)).ToList();
        Func<Func<string, Task>, Task> trickle = async write =>
        {
            foreach (string piece in pieces)
            {
                await write(piece);
                await Task.Delay(250);
            }
        };

        await using (var server = ScriptedHttpServer.Start(trickle))
        {
            var client = NewClient(o => { o.Server = server.BaseUri; o.Timeout = TimeSpan.FromSeconds(2); });
            Assert.Equal(8, (await client.GetUnreadAsync("bob").CollectAsync()).Count);
        }

        string threadBody = "{\"thread\":{\"id\":\"t1\",\"participants\":[\"alice\",\"bob\"],\"silentParticipants\":[],\"messages\":"
                            + body.Substring(body.IndexOf('[', StringComparison.Ordinal), body.Length - body.IndexOf('[', StringComparison.Ordinal) - 1)
                            + ",\"createdAt\":1,\"updatedAt\":8}}";
        pieces = Enumerable.Range(0, 16).Select(i => threadBody.Substring(i * threadBody.Length / 16, (i + 1) * threadBody.Length / 16 - i * threadBody.Length / 16)).ToList();
        await using (var server = ScriptedHttpServer.Start(trickle))
        {
            var client = NewClient(o => { o.Server = server.BaseUri; o.Timeout = TimeSpan.FromSeconds(2); });
            Assert.Equal(8, (await client.GetThreadAsync("t1", "bob")).Messages.Length);
        }
    }

    [Fact]
    public async Task Threads_are_walked_over_every_page_exactly_once()
    {
        var client = NewClient();
        var created = new HashSet<string>();
        for (int i = 0; i < 260; i++)
        {
            created.Add((await SendAsync(client, "pager", $"peer-{i:000}", i)).ThreadId);
        }
        Assert.Equal(260, created.Count);
        Server.ClearRequests();

        var totals = new List<long>();
        var threads = await client.GetThreadsAsync("pager", pageSize: 100, onTotal: totals.Add).CollectAsync();

        Assert.Equal(new long[] { 260 }, totals);
        Assert.Equal(260, threads.Count);
        Assert.Equal(created.OrderBy(x => x, StringComparer.Ordinal), threads.Select(t => t.Id).OrderBy(x => x, StringComparer.Ordinal));
        var queries = Server.Requests.Where(r => r.Path == "/mailbox/pager").Select(r => r.Query).ToList();
        Assert.Equal(new[] { "limit=100&offset=0", "limit=100&offset=100", "limit=100&offset=200" }, queries.Take(3));
        Assert.All(queries.Skip(3), q => Assert.Equal("limit=100&offset=300", q));
    }

    [Fact]
    public async Task A_full_last_page_does_not_lose_or_repeat_threads()
    {
        var client = NewClient();
        for (int i = 0; i < 200; i++)
        {
            await SendAsync(client, "pager", $"peer-{i:000}", i);
        }

        var threads = await client.GetThreadsAsync("pager", pageSize: 100).CollectAsync();

        Assert.Equal(200, threads.Select(t => t.Id).Distinct().Count());
        Assert.Equal(200, threads.Count);
    }

    [Fact]
    public async Task Paging_can_start_at_an_offset()
    {
        var client = NewClient();
        for (int i = 0; i < 30; i++)
        {
            await SendAsync(client, "pager", $"peer-{i:000}", i);
        }

        var all = await client.GetThreadsAsync("pager", pageSize: 7).CollectAsync();
        var tail = await client.GetThreadsAsync("pager", pageSize: 7, offset: 25).CollectAsync();

        Assert.Equal(30, all.Select(t => t.Id).Distinct().Count());
        Assert.Equal(all.Skip(25).Select(t => t.Id), tail.Select(t => t.Id));
    }
}
