using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Every request carries an X-Request-Id, and failures name the id the server logged.</summary>
public sealed class RequestIdTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public RequestIdTests(MockServerFixture fixture) : base(fixture) { }

    private static string? SentId(RecordedRequest request)
        => request.Headers.TryGetValue("X-Request-Id", out var id) ? id : null;

    [Fact]
    public async Task Every_request_carries_its_own_request_id()
    {
        var client = NewClient();
        await client.RegisterAsync("alice");
        var sent = await SendAsync(client, "alice", "bob", "hi");
        await client.ReplyAllAsync(new ReplyAllRequest { From = "bob", ThreadId = sent.ThreadId, Payload = "re" });
        await client.GetUnreadAsync("bob").CollectAsync();
        await client.GetThreadsAsync("bob").CollectAsync();
        await client.GetThreadAsync(sent.ThreadId, "bob");
        await client.SyncThreadAsync(sent.ThreadId, "bob", 5);
        await client.GetParticipantsAsync(sent.ThreadId, "bob");
        await client.MarkReadAsync("bob", sent.ThreadId);
        await client.GetHealthAsync();

        var requests = Server.Requests;
        Assert.Equal(10, requests.Count);
        Assert.All(requests, r =>
        {
            string? id = SentId(r);
            Assert.False(string.IsNullOrWhiteSpace(id), $"{r.Method} {r.Path} has no X-Request-Id");
            Assert.InRange(id!.Length, 1, 128);
            // The server echoes an id it accepted; that is the id in its log.
            Assert.Equal(id, r.RequestId);
        });
        Assert.Equal(requests.Count, requests.Select(SentId).Distinct().Count());
    }

    [Fact]
    public async Task A_not_found_error_names_the_request_id_the_server_logged()
    {
        var client = NewClient();
        var error = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetThreadAsync("missing-thread", "alice"));

        var request = Assert.Single(Server.Requests);
        Assert.NotNull(error.RequestId);
        Assert.Equal(request.RequestId, error.RequestId);
        Assert.Equal(SentId(request), error.RequestId);
        Assert.Contains(error.RequestId!, error.Message, StringComparison.Ordinal);
        Assert.Equal("GET", error.Method);
        Assert.Equal("/threads/missing-thread", error.Path);
    }

    [Fact]
    public async Task A_dropped_connection_names_the_request_id_that_was_sent()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Action = FaultAction.Drop });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => SendAsync(client, "alice", "bob", "hi"));

        var request = Assert.Single(Server.Requests);
        Assert.Equal(SentId(request), error.RequestId);
        Assert.Contains(error.RequestId!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retries_of_one_call_share_its_request_id_and_the_error_names_it()
    {
        var client = NewClient(o => o.MaximumRetryCount = 2);
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/t1", Status = 503, Count = -1 });

        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.GetThreadAsync("t1", null));

        var attempts = Server.Requests;
        Assert.Equal(3, attempts.Count);
        Assert.Single(attempts.Select(SentId).Distinct());
        Assert.Equal(SentId(attempts[^1]), error.RequestId);
        Assert.Equal(attempts[^1].RequestId, error.RequestId);
    }

    [Fact]
    public async Task Two_calls_never_share_a_request_id()
    {
        var client = NewClient();
        await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetThreadAsync("missing", null));
        await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetThreadAsync("missing", null));
        var ids = Server.Requests.Select(SentId).ToArray();
        Assert.Equal(2, ids.Length);
        Assert.NotEqual(ids[0], ids[1]);
    }
}
