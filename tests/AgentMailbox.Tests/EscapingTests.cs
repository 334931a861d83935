using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Agent and thread ids travel as RFC 3986-encoded path segments and query values.</summary>
public sealed class EscapingTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public EscapingTests(MockServerFixture fixture) : base(fixture) { }

    public static TheoryData<string> Ids => new()
    {
        "a/b",
        "50%",
        "a#b",
        "a?b",
        "with space",
        "a+b",
        "a&b=c",
        "ünï😀",
        ".",
        "..",
        "literal%2F",
        "me@x.com",
        " pad ",
        "mix /%#?+&=ünï😀..",
    };

    /// <summary>The path segment the server must see: every byte but the unreserved characters percent-encoded,
    /// and a dot segment encoded so that nothing on the way removes it.</summary>
    private static string Segment(string id) => id switch
    {
        "." => "%2E",
        ".." => "%2E%2E",
        _ => Uri.EscapeDataString(id),
    };

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task Send_then_unread_round_trips_and_the_path_is_percent_encoded(string id)
    {
        var client = NewClient();
        var sent = await SendAsync(client, "sender", id, TestJson.Parse("{\"n\":1}"));
        Assert.Equal(new[] { id }, sent.DeliveredTo);

        var error = await Record.ExceptionAsync(async () => await client.GetUnreadAsync(id).CollectAsync());
        var get = Assert.Single(Server.Requests, r => r.Method == "GET");
        Assert.Equal("/mailbox/" + Segment(id) + "/unread", get.Path);
        Assert.Null(error);

        var unread = await client.GetUnreadAsync(id).CollectAsync();
        var message = Assert.Single(unread);
        Assert.Equal(sent.MessageId, message.Id);
        Assert.Equal(id, message.To);
        Assert.Equal("sender", message.From);
    }

    /// <summary>
    /// The ids whose bare route (<c>/mailbox/..</c>, <c>/threads/..</c>) the reference server answers itself: Express's
    /// static handler redirects a path that ends in a dot-dot segment (301 to the same path with a slash), before any
    /// API route sees it. Deeper routes (<c>/mailbox/../unread</c>) work, and are covered above.
    /// </summary>
    public static TheoryData<string> IdsWithAnApiRoute
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (string id in Ids)
            {
                if (id != "..")
                {
                    data.Add(id);
                }
            }
            return data;
        }
    }

    [Fact]
    public async Task A_bare_dot_dot_route_is_redirected_by_the_server_and_reported_not_followed()
    {
        var client = NewClient();
        var error = await Assert.ThrowsAsync<AgentMailboxException>(() => client.GetThreadAsync("..", null));
        Assert.Equal(System.Net.HttpStatusCode.MovedPermanently, error.StatusCode);
        Assert.Equal("/threads/%2E%2E", Assert.Single(Server.Requests).Path);
    }

    [Theory]
    [MemberData(nameof(IdsWithAnApiRoute))]
    public async Task Mailbox_and_mark_read_reach_the_same_agent(string id)
    {
        var client = NewClient();
        var sent = await SendAsync(client, "sender", id, "hello");

        var threads = await client.GetThreadsAsync(id).CollectAsync();
        var mailbox = Assert.Single(Server.Requests, r => r.Method == "GET");
        Assert.Equal("/mailbox/" + Segment(id), mailbox.Path);
        Assert.Equal(sent.ThreadId, Assert.Single(threads).Id);

        await client.MarkReadAsync(id, sent.ThreadId);
        var read = Assert.Single(Server.Requests, r => r.Method == "POST" && r.Path.EndsWith("/read", StringComparison.Ordinal));
        Assert.Equal("/mailbox/" + Segment(id) + "/read", read.Path);
        Assert.Empty(await client.GetUnreadAsync(id).CollectAsync());
    }

    [Theory]
    [MemberData(nameof(IdsWithAnApiRoute))]
    public async Task Thread_routes_encode_the_thread_id(string threadId)
    {
        var client = NewClient();

        var thread = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetThreadAsync(threadId, null));
        var sync = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.SyncThreadAsync(threadId, null));
        var participants = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetParticipantsAsync(threadId, null));

        var paths = Server.Requests.Select(r => r.Path).ToArray();
        string segment = Segment(threadId);
        Assert.Equal(new[] { $"/threads/{segment}", $"/threads/{segment}/sync", $"/threads/{segment}/participants" }, paths);
        // The route answered (a JSON 404 of the thread lookup), not Express's HTML 404 for a path that matched nothing.
        Assert.All(new[] { thread, sync, participants }, e => Assert.Equal("thread not found", e.ServerMessage));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task The_as_query_value_is_percent_encoded(string id)
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest { From = id, To = "rcpt", Bcc = ["hidden"], Payload = 1 });

        var asSender = await client.GetThreadAsync(sent.ThreadId, id);
        var asRecipient = await client.GetThreadAsync(sent.ThreadId, "rcpt");

        var first = Server.Requests.First(r => r.Method == "GET");
        Assert.Equal("/threads/" + sent.ThreadId, first.Path);
        Assert.Equal("as=" + Uri.EscapeDataString(id), first.Query.Replace("%2E", ".", StringComparison.Ordinal));
        // The server recognised the sender (a '+' sent raw would have become a space), so it shows the bcc.
        Assert.Equal(new[] { "hidden" }, Assert.Single(asSender.Messages).Bcc);
        Assert.Empty(Assert.Single(asRecipient.Messages).Bcc);
    }

    [Fact]
    public async Task A_literal_percent_2F_is_not_confused_with_a_slash()
    {
        var client = NewClient();
        await SendAsync(client, "sender", "x%2Fy", "to the literal");
        await SendAsync(client, "sender", "x/y", "to the slash");

        var literal = Assert.Single(await client.GetUnreadAsync("x%2Fy").CollectAsync());
        var slash = Assert.Single(await client.GetUnreadAsync("x/y").CollectAsync());

        Assert.Equal("to the literal", ((System.Text.Json.JsonElement)literal.Payload!).GetString());
        Assert.Equal("to the slash", ((System.Text.Json.JsonElement)slash.Payload!).GetString());
        Assert.Contains(Server.Requests, r => r.Path == "/mailbox/x%252Fy/unread");
        Assert.Contains(Server.Requests, r => r.Path == "/mailbox/x%2Fy/unread");
    }

    [Fact]
    public async Task A_server_uri_with_a_path_prefix_keeps_it()
    {
        var client = NewClient(o => o.Server = new Uri(Server.BaseUri, "prefix/"));
        await Assert.ThrowsAnyAsync<AgentMailboxException>(() => client.GetHealthAsync());
        Assert.Equal("/prefix/health", Assert.Single(Server.Requests).Path);
    }
}
