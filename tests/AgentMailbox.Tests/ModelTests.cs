using System.Text.Json;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>The typed objects carry what the server sent: empty lists, UTC times, roles, recipient order, bcc rules.</summary>
public sealed class ModelTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public ModelTests(MockServerFixture fixture) : base(fixture) { }

    private async Task<JsonElement> RawGetAsync(string relative)
    {
        using var http = new HttpClient();
        return TestJson.Parse(await http.GetStringAsync(new Uri(Server.BaseUri, relative)));
    }

    [Fact]
    public async Task Cc_and_bcc_are_empty_arrays_when_absent()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", "plain");

        var message = Assert.Single((await client.GetThreadAsync(sent.ThreadId, "alice")).Messages);
        var frame = Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());
        var context = await client.SyncThreadAsync(sent.ThreadId, null);

        foreach (var (cc, bcc) in new[] { (message.Cc, message.Bcc), (frame.Cc, frame.Bcc), (context.RecentMessages[0].Cc, context.RecentMessages[0].Bcc) })
        {
            Assert.NotNull(cc);
            Assert.Empty(cc);
            Assert.NotNull(bcc);
            Assert.Empty(bcc);
        }
        Assert.Null(message.ReplyTo);
        Assert.Null(frame.ReplyTo);
        Assert.Empty((await client.GetThreadAsync(sent.ThreadId, "bob")).SilentParticipants);
    }

    [Fact]
    public async Task Cc_and_reply_to_are_read()
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest { From = "alice", To = "bob", Cc = ["carol"], ReplyTo = "alice-inbox", Payload = 1 });

        var frame = Assert.Single(await client.GetUnreadAsync("carol").CollectAsync());

        Assert.Equal(new[] { "carol" }, frame.Cc);
        Assert.Equal("alice-inbox", frame.ReplyTo);
        Assert.Equal(sent.ThreadId, frame.ThreadId);
        Assert.Equal("alice", frame.From);
        Assert.Equal("bob", frame.To);
    }

    [Fact]
    public async Task Times_are_utc_and_equal_the_epoch_milliseconds_on_the_wire()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", "t");
        await Task.Delay(5);
        await SendAsync(client, "bob", "alice", "t2", threadId: sent.ThreadId);

        var thread = await client.GetThreadAsync(sent.ThreadId, "alice");
        var raw = (await RawGetAsync($"threads/{sent.ThreadId}?as=alice")).GetProperty("thread");
        var participants = await client.GetParticipantsAsync(sent.ThreadId, "alice");
        var rawParticipants = (await RawGetAsync($"threads/{sent.ThreadId}/participants?as=alice")).GetProperty("participants");
        var frame = Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(raw.GetProperty("createdAt").GetInt64()), thread.CreatedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(raw.GetProperty("updatedAt").GetInt64()), thread.UpdatedAt);
        for (int i = 0; i < 2; i++)
        {
            long ms = raw.GetProperty("messages")[i].GetProperty("timestamp").GetInt64();
            Assert.Equal(ms, thread.Messages[i].Timestamp.ToUnixTimeMilliseconds());
            Assert.Equal(TimeSpan.Zero, thread.Messages[i].Timestamp.Offset);
        }
        Assert.Equal(rawParticipants[0].GetProperty("joinedAt").GetInt64(), participants[0].JoinedAt.ToUnixTimeMilliseconds());
        Assert.Equal(thread.Messages[0].Timestamp, frame.Timestamp);
        Assert.All(new[] { thread.CreatedAt, thread.UpdatedAt, frame.Timestamp, participants[0].JoinedAt }, t => Assert.Equal(TimeSpan.Zero, t.Offset));
        Assert.InRange(frame.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.True(thread.UpdatedAt >= thread.CreatedAt);
    }

    [Fact]
    public async Task Participant_roles_parse()
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest { From = "alice", To = "bob", Cc = ["carol"], Bcc = ["dave"], Payload = 1 });

        var asSender = await client.GetParticipantsAsync(sent.ThreadId, "alice");
        var asBob = await client.GetParticipantsAsync(sent.ThreadId, "bob");
        var asDave = await client.GetParticipantsAsync(sent.ThreadId, "dave");

        var roles = asSender.ToDictionary(p => p.AgentId, p => p.Role);
        Assert.Equal(ParticipantRole.To, roles["alice"]);
        Assert.Equal(ParticipantRole.To, roles["bob"]);
        Assert.Equal(ParticipantRole.Cc, roles["carol"]);
        Assert.Equal(ParticipantRole.Bcc, roles["dave"]);
        Assert.DoesNotContain(asBob, p => p.AgentId == "dave");
        Assert.Equal(ParticipantRole.Bcc, Assert.Single(asDave, p => p.AgentId == "dave").Role);
    }

    [Fact]
    public async Task Delivered_to_is_to_then_cc_then_bcc_without_duplicates_or_the_sender()
    {
        var client = NewClient();
        var result = await client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "zed", Cc = ["mid", "alpha", "zed", "alice"], Bcc = ["bee", "mid", "aaa"], Payload = 1,
        });

        Assert.Equal(new[] { "zed", "mid", "alpha", "bee", "aaa" }, result.DeliveredTo);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", result.MessageId);
        Assert.Equal(result.MessageId, result.ToString());
    }

    [Fact]
    public async Task A_self_send_is_delivered_to_nobody()
    {
        var client = NewClient();
        var result = await SendAsync(client, "alice", "alice", "memo");
        Assert.NotNull(result.DeliveredTo);
        Assert.Empty(result.DeliveredTo);
    }

    [Fact]
    public async Task Bcc_is_visible_only_to_the_sender()
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest { From = "alice", To = "bob", Cc = ["carol"], Bcc = ["dave"], Payload = "plan" });
        // bob answers inside the thread, so alice gets an unread frame whose context holds her own message.
        await SendAsync(client, "bob", "alice", "ack", threadId: sent.ThreadId);

        Assert.Equal(new[] { "dave" }, (await client.GetThreadAsync(sent.ThreadId, "alice")).Messages[0].Bcc);
        foreach (string? viewer in new[] { "bob", "carol", "dave", null })
        {
            var thread = await client.GetThreadAsync(sent.ThreadId, viewer);
            Assert.Empty(thread.Messages[0].Bcc);
            Assert.Equal(new[] { "alice", "bob", "carol" }, thread.Participants);
        }

        var bobFrame = Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());
        Assert.Empty(bobFrame.Bcc);
        Assert.All(bobFrame.Context.RecentMessages, m => Assert.Empty(m.Bcc));

        var daveFrame = Assert.Single(await client.GetUnreadAsync("dave").CollectAsync());
        Assert.Equal(sent.MessageId, daveFrame.Id);
        Assert.Empty(daveFrame.Bcc);

        var aliceFrame = Assert.Single(await client.GetUnreadAsync("alice").CollectAsync());
        Assert.Empty(aliceFrame.Bcc);
        Assert.Equal(new[] { "dave" }, Assert.Single(aliceFrame.Context.RecentMessages, m => m.Id == sent.MessageId).Bcc);

        // The silent list: the bcc recipient sees it, the sender and the others do not.
        Assert.Equal(new[] { "dave" }, (await client.GetThreadAsync(sent.ThreadId, "dave")).SilentParticipants);
        Assert.Empty((await client.GetThreadAsync(sent.ThreadId, "alice")).SilentParticipants);
        Assert.Empty((await client.GetThreadAsync(sent.ThreadId, "bob")).SilentParticipants);

        var bobMailbox = Assert.Single(await client.GetThreadsAsync("bob").CollectAsync());
        Assert.Empty(bobMailbox.Messages[0].Bcc);
        var aliceMailbox = Assert.Single(await client.GetThreadsAsync("alice").CollectAsync());
        Assert.Equal(new[] { "dave" }, aliceMailbox.Messages[0].Bcc);
    }

    [Fact]
    public async Task Thread_context_and_snapshot_are_read()
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "bob", Payload = "secret plan", ContextSnapshot = TestJson.Parse("{\"step\":1,\"files\":[\"a.cs\"]}"),
        });

        var context = await client.SyncThreadAsync(sent.ThreadId, "bob", recent: 5);
        var thread = await client.GetThreadAsync(sent.ThreadId, "bob");

        Assert.Equal(1, ((JsonElement)context.Snapshot!).GetProperty("step").GetInt32());
        Assert.Equal("", context.ThreadSummary);
        Assert.Equal(3, context.TokenCount);
        Assert.Equal(sent.MessageId, Assert.Single(context.RecentMessages).Id);
        Assert.Equal("a.cs", ((JsonElement)thread.Messages[0].ContextSnapshot!).GetProperty("files")[0].GetString());
        Assert.Equal(thread.Id, thread.ThreadId);
        Assert.Contains(Server.Requests, r => r.Path.EndsWith("/sync", StringComparison.Ordinal) && r.Query == "as=bob&recent=5");
    }

    [Fact]
    public async Task Handoff_replaces_the_snapshot_with_the_servers_packet()
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "bob", Payload = "go",
            ContextSnapshot = TestJson.Parse("{\"repo\":\"x\",\"_private\":1,\"keep\":2}"),
            Handoff = new HandoffOptions { Goal = "build the parser", NextAction = "review PR", IncludeFields = ["repo", "_private"], MaxContextBytes = 1000 },
        });

        var snapshot = (JsonElement)Assert.Single((await client.GetThreadAsync(sent.ThreadId, "bob")).Messages).ContextSnapshot!;

        Assert.Equal("build the parser", snapshot.GetProperty("goal").GetString());
        Assert.Equal("review PR", snapshot.GetProperty("nextAction").GetString());
        Assert.Equal("{\"repo\":\"x\"}", snapshot.GetProperty("context").GetRawText());
        Assert.Equal(sent.ThreadId, snapshot.GetProperty("sourceThreadId").GetString());
    }

    [Fact]
    public async Task Reply_all_goes_to_every_other_visible_participant()
    {
        var client = NewClient();
        var sent = await client.SendAsync(new SendMessageRequest { From = "alice", To = "carol", Cc = ["bob"], Bcc = ["dave"], Payload = 1 });

        var reply = await client.ReplyAllAsync(new ReplyAllRequest { From = "carol", ThreadId = sent.ThreadId, Payload = "re" });

        Assert.Equal(sent.ThreadId, reply.ThreadId);
        Assert.Equal(new[] { "alice", "bob" }, reply.DeliveredTo);
        var frame = Assert.Single(await client.GetUnreadAsync("alice").CollectAsync());
        Assert.Equal("alice", frame.To);
        Assert.Equal(new[] { "bob" }, frame.Cc);
    }

    [Fact]
    public async Task Register_reports_whether_the_agent_is_new()
    {
        var client = NewClient();
        var first = await client.RegisterAsync("ünï😀/agent");
        var second = await client.RegisterAsync("ünï😀/agent");

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal("ünï😀/agent", second.AgentId);
    }

    [Fact]
    public async Task Mark_read_clears_the_threads_unread_messages()
    {
        var client = NewClient();
        var one = await SendAsync(client, "alice", "bob", 1);
        await SendAsync(client, "carol", "bob", 2);

        await client.MarkReadAsync("bob", one.ThreadId);

        var left = Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());
        Assert.Equal("carol", left.From);
        var read = Assert.Single(Server.Requests, r => r.Path == "/mailbox/bob/read");
        Assert.Equal($"{{\"threadId\":\"{one.ThreadId}\"}}", read.Body);
    }
}
