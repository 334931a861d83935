using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Every object about a thread carries its ThreadId, so it pipes into the thread cmdlets by property name.</summary>
public sealed class ThreadIdModelTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public ThreadIdModelTests(MockServerFixture fixture) : base(fixture) { }

    [Fact]
    public async Task Context_participants_and_unread_frames_carry_the_thread_id()
    {
        var client = NewClient();
        string me = "tid-" + Guid.NewGuid().ToString("N"), peer = "tid-peer-" + Guid.NewGuid().ToString("N");
        var first = await SendAsync(client, peer, me, "one", cc: ["tid-cc-" + Guid.NewGuid().ToString("N")]);
        var second = await SendAsync(client, peer, me, "two");
        Assert.NotEqual(first.ThreadId, second.ThreadId);

        Assert.Equal(second.ThreadId, (await client.SyncThreadAsync(second.ThreadId, me)).ThreadId);
        var participants = await client.GetParticipantsAsync(first.ThreadId, me);
        Assert.NotEmpty(participants);
        Assert.All(participants, p => Assert.Equal(first.ThreadId, p.ThreadId));

        var frames = await client.GetUnreadAsync(me).CollectAsync();
        Assert.Equal(2, frames.Count);
        Assert.All(frames, f => Assert.Equal(f.ThreadId, f.Context.ThreadId));
        Assert.Equal(new[] { first.ThreadId, second.ThreadId }.OrderBy(t => t), frames.Select(f => f.Context.ThreadId).OrderBy(t => t));
    }

    [Fact]
    public void A_message_built_from_a_thread_message_gives_its_context_the_thread_id()
    {
        var message = new Message { ThreadId = "t-1" };
        var inbox = InboxMessage.FromMessage(message, new ThreadContext());
        Assert.Equal("t-1", inbox.Context.ThreadId);
    }
}
