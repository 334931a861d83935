using System.Text.Json;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>What goes on the wire: bodies, headers, and the checks made before anything is sent.</summary>
public sealed class RequestShapeTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public RequestShapeTests(MockServerFixture fixture) : base(fixture) { }

    [Fact]
    public async Task A_send_carries_every_field_the_protocol_names()
    {
        var client = NewClient(o => o.UserAgent = "AgentMailboxTests/1.0");
        var first = await SendAsync(client, "alice", "bob", 1);
        Server.ClearRequests();

        await client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "bob", Cc = ["carol"], Bcc = ["dave"], Payload = TestJson.Parse("{\"task\":\"x\"}"),
            ContextSnapshot = TestJson.Parse("{\"step\":2}"), ThreadId = first.ThreadId, ReplyTo = "alice-inbox",
            Handoff = new HandoffOptions { Goal = "g", NextAction = "n", IncludeFields = ["step"], MaxContextBytes = 300 },
        });

        var request = Assert.Single(Server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/messages/send", request.Path);
        Assert.Equal("application/json; charset=utf-8", request.Headers["Content-Type"]);
        Assert.Contains("application/json", request.Headers["Accept"], StringComparison.Ordinal);
        Assert.Equal("AgentMailboxTests/1.0", request.Headers["User-Agent"]);
        Assert.False(request.Headers.ContainsKey("Authorization"));

        var body = TestJson.Parse(request.Body);
        Assert.Equal("alice", body.GetProperty("from").GetString());
        Assert.Equal("bob", body.GetProperty("to").GetString());
        Assert.Equal("[\"carol\"]", body.GetProperty("cc").GetRawText());
        Assert.Equal("[\"dave\"]", body.GetProperty("bcc").GetRawText());
        Assert.Equal("{\"task\":\"x\"}", body.GetProperty("payload").GetRawText());
        Assert.Equal("{\"step\":2}", body.GetProperty("contextSnapshot").GetRawText());
        Assert.Equal(first.ThreadId, body.GetProperty("threadId").GetString());
        Assert.Equal("alice-inbox", body.GetProperty("replyTo").GetString());
        Assert.Equal("{\"goal\":\"g\",\"nextAction\":\"n\",\"includeFields\":[\"step\"],\"maxContextBytes\":300}", body.GetProperty("handoff").GetRawText());
    }

    [Fact]
    public async Task Optional_fields_are_left_out_when_not_given()
    {
        var client = NewClient();
        await client.SendAsync(new SendMessageRequest { From = "alice", To = "bob", Cc = [], Bcc = [], Payload = "p" });

        var body = TestJson.Parse(Assert.Single(Server.Requests).Body);
        var names = body.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(new[] { "from", "to", "payload" }, names);
    }

    [Fact]
    public async Task A_reply_all_carries_no_recipients()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", 1);
        Server.ClearRequests();

        await client.ReplyAllAsync(new ReplyAllRequest { From = "bob", ThreadId = sent.ThreadId, Payload = "re", Handoff = new HandoffOptions() });

        var body = TestJson.Parse(Assert.Single(Server.Requests).Body);
        Assert.Equal(new[] { "from", "threadId", "payload", "handoff" }, body.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("{}", body.GetProperty("handoff").GetRawText());
    }

    [Fact]
    public async Task Register_and_mark_read_send_their_bodies()
    {
        var client = NewClient();
        await client.RegisterAsync("alice");
        await client.MarkReadAsync("alice", "t-1");

        Assert.Equal("{\"agentId\":\"alice\"}", Server.Requests[0].Body);
        Assert.Equal("/agents/register", Server.Requests[0].Path);
        Assert.Equal("{\"threadId\":\"t-1\"}", Server.Requests[1].Body);
        Assert.Equal("/mailbox/alice/read", Server.Requests[1].Path);
    }

    [Fact]
    public async Task Empty_ids_are_refused_before_any_request_with_the_parameter_named()
    {
        var client = NewClient();

        var empties = new Func<Task>[]
        {
            () => SendAsync(client, "", "bob"),
            () => SendAsync(client, "alice", ""),
            () => SendAsync(client, "alice", "bob", cc: [""]),
            () => client.ReplyAllAsync(new ReplyAllRequest { From = "alice", ThreadId = "" }),
            () => client.GetThreadAsync("", null),
            () => client.MarkReadAsync("alice", ""),
            () => client.RegisterAsync(""),
        };
        foreach (var call in empties)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.False(string.IsNullOrEmpty(error.ParamName));
        }
        Assert.Throws<ArgumentException>(() => client.GetUnreadAsync(""));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetThreadsAsync("alice", pageSize: 0).CollectAsync());
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public void Bad_options_are_refused_with_the_option_named()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AgentMailboxClient(new AgentMailboxClientOptions { Timeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => new AgentMailboxClient(new AgentMailboxClientOptions { Server = new Uri("/relative", UriKind.Relative) }));
        Assert.Throws<ArgumentException>(() => new AgentMailboxClient(new AgentMailboxClientOptions { Server = new Uri("ftp://host/") }));
        Assert.Throws<ArgumentException>(() => new AgentMailboxClient(new AgentMailboxClientOptions { Server = new Uri("http://host/?q=1") }));
        using var infinite = new AgentMailboxClient(new AgentMailboxClientOptions { Timeout = Timeout.InfiniteTimeSpan });
        Assert.Equal(Timeout.InfiniteTimeSpan, infinite.Timeout);
    }

    [Fact]
    public async Task The_request_observer_sees_each_attempt_with_its_id_and_status()
    {
        var client = NewClient();
        Server.AddFault(new AgentMailbox.MockServer.FaultRule { Method = "GET", Path = "/health", Status = 503, Count = 1 });
        var seen = new List<RequestRecord>();

        using (RequestObserver.Observe(r => { lock (seen) { seen.Add(r); } }))
        {
            await client.GetHealthAsync();
        }
        await client.GetHealthAsync();

        Assert.Equal(2, seen.Count);
        Assert.Equal(new int?[] { 503, 200 }, seen.Select(r => r.Status).ToArray());
        Assert.Equal(new[] { 1, 2 }, seen.Select(r => r.Attempt).ToArray());
        Assert.All(seen, r => Assert.Equal(Server.Requests[0].Headers["X-Request-Id"], r.RequestId));
        Assert.All(seen, r => Assert.Equal("/health", r.Path));
        Assert.Equal(3, Server.Requests.Count);
    }
}
