using System.Net;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>A body over <see cref="AgentMailboxClientOptions.MaximumRequestBodyBytes"/> is refused before sending.</summary>
public sealed class RequestSizeTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public RequestSizeTests(MockServerFixture fixture) : base(fixture) { }

    [Fact]
    public async Task A_send_over_the_limit_throws_before_any_request()
    {
        var client = NewClient(o => o.MaximumRequestBodyBytes = 1024);

        var error = await Assert.ThrowsAnyAsync<AgentMailboxException>(() => SendAsync(client, "alice", "bob", new string('x', 2000)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.StatusCode);
        Assert.Contains("nothing was sent", error.Message, StringComparison.Ordinal);
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public async Task A_reply_all_over_the_limit_throws_before_any_request()
    {
        var client = NewClient(o => o.MaximumRequestBodyBytes = 1024);

        var error = await Assert.ThrowsAnyAsync<AgentMailboxException>(
            () => client.ReplyAllAsync(new ReplyAllRequest { From = "alice", ThreadId = "t1", Payload = "p", ContextSnapshot = new Dictionary<string, string> { ["blob"] = new string('y', 5000) } }));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.StatusCode);
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public async Task A_send_under_the_limit_goes_through()
    {
        var client = NewClient(o => o.MaximumRequestBodyBytes = 1024);
        await SendAsync(client, "alice", "bob", new string('x', 500));
        Assert.Single(Server.Requests);
    }

    [Fact]
    public async Task The_servers_413_is_reported_when_the_check_is_off()
    {
        await using var small = await AgentMailbox.MockServer.MockAgentMailboxServer.StartAsync(new AgentMailbox.MockServer.MockServerOptions { JsonLimitBytes = 1024 });
        var client = NewClient(o =>
        {
            o.Server = small.BaseUri;
            o.MaximumRequestBodyBytes = 0;
        });

        var error = await Assert.ThrowsAnyAsync<AgentMailboxException>(() => SendAsync(client, "alice", "bob", new string('x', 2000)));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.StatusCode);
        Assert.Equal("request entity too large", error.ServerMessage);
        Assert.Single(small.Requests);
    }
}
