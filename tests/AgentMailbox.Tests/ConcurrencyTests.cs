using Xunit;

namespace AgentMailbox.Tests;

/// <summary>One client serves many concurrent calls.</summary>
public class ConcurrencyTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public ConcurrencyTests(MockServerFixture fixture) : base(fixture) { }

    [Fact]
    public async Task Twenty_concurrent_sends_all_succeed_with_distinct_ids()
    {
        var client = NewClient();
        using var start = new ManualResetEventSlim();

        var sends = Enumerable.Range(0, 20)
            .Select(i => Task.Run(() =>
            {
                start.Wait();
                return SendAsync(client, "sender-" + i, "hub", i);
            }))
            .ToArray();
        start.Set();
        var results = await Task.WhenAll(sends);

        Assert.Equal(20, results.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal(20, results.Select(r => r.ThreadId).Distinct().Count());
        Assert.All(results, r => Assert.Equal(new[] { "hub" }, r.DeliveredTo));
        var posts = RequestsTo("POST", "/messages/send");
        Assert.Equal(20, posts.Count);
        Assert.Equal(20, posts.Select(p => p.Headers["X-Request-Id"]).Distinct().Count());
        Assert.Equal(20, (await client.GetUnreadAsync("hub").CollectAsync()).Count);
    }

    [Fact]
    public async Task Concurrent_sends_into_one_conversation_share_a_thread()
    {
        var client = NewClient();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => SendAsync(client, "alice", "bob", i)));

        Assert.Equal(20, results.Select(r => r.MessageId).Distinct().Count());
        Assert.Single(results.Select(r => r.ThreadId).Distinct());
        Assert.Equal(20, (await client.GetThreadAsync(results[0].ThreadId, "bob")).Messages.Length);
    }

    [Fact]
    public async Task Concurrent_reads_and_writes_do_not_interfere()
    {
        var client = NewClient();
        for (int i = 0; i < 20; i++)
        {
            await SendAsync(client, "alice", "bob", i);
        }

        var reads = Enumerable.Range(0, 10).Select(_ => client.GetUnreadAsync("bob", recent: 1).CollectAsync()).ToArray();
        var writes = Enumerable.Range(0, 10).Select(i => SendAsync(client, "carol", "dave", i)).ToArray();
        await Task.WhenAll(Task.WhenAll(reads), Task.WhenAll(writes));

        Assert.All(reads, r => Assert.Equal(20, r.Result.Count));
        Assert.Equal(10, (await client.GetUnreadAsync("dave").CollectAsync()).Count);
    }

    [Fact]
    public async Task A_disposed_client_refuses_calls()
    {
        var client = NewClient();
        client.Dispose();
        client.Dispose();

        Assert.True(client.IsDisposed);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetHealthAsync());
        Assert.Empty(Server.Requests);
    }
}
