using System.Net;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>A server with a shared API key: 401 maps to the authentication exception, and the key never leaks.</summary>
public sealed class AuthenticationTests : MockServerTestBase, IClassFixture<AuthMockServerFixture>
{
    private const string WrongKey = "sk-wrong-key-0815-also-secret";

    public AuthenticationTests(AuthMockServerFixture fixture) : base(fixture) { }

    [Fact]
    public async Task The_right_key_is_sent_as_a_bearer_token_and_works()
    {
        var client = NewClient(o => o.ApiKey = AuthMockServerFixture.ApiKey);
        var sent = await SendAsync(client, "alice", "bob", "x");
        Assert.Single(await client.GetUnreadAsync("bob").CollectAsync());
        Assert.All(Server.Requests, r => Assert.Equal("Bearer " + AuthMockServerFixture.ApiKey, r.Headers["Authorization"]));
        Assert.True(client.HasApiKey);
        Assert.DoesNotContain(AuthMockServerFixture.ApiKey, client.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(sent.MessageId);
    }

    [Fact]
    public async Task No_key_is_an_authentication_exception()
    {
        var client = NewClient();
        var error = await Assert.ThrowsAsync<AgentMailboxAuthenticationException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("unauthorized", error.ServerMessage);
        Assert.False(Server.Requests.Single().Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task A_wrong_key_is_an_authentication_exception_that_never_shows_a_key()
    {
        var client = NewClient(o => o.ApiKey = WrongKey);

        var errors = new List<AgentMailboxException>
        {
            await Assert.ThrowsAsync<AgentMailboxAuthenticationException>(() => SendAsync(client, "alice", "bob", "x")),
            await Assert.ThrowsAsync<AgentMailboxAuthenticationException>(() => client.GetUnreadAsync("bob").CollectAsync()),
            await Assert.ThrowsAsync<AgentMailboxAuthenticationException>(() => client.GetThreadAsync("t1", "bob")),
            await Assert.ThrowsAsync<AgentMailboxAuthenticationException>(() => client.RegisterAsync("alice")),
        };

        Assert.All(errors, e =>
        {
            Assert.Equal("unauthorized", e.ServerMessage);
            foreach (string text in new[] { e.Message, e.ToString() })
            {
                Assert.DoesNotContain(WrongKey, text, StringComparison.Ordinal);
                Assert.DoesNotContain(AuthMockServerFixture.ApiKey, text, StringComparison.Ordinal);
                Assert.DoesNotContain("Bearer", text, StringComparison.Ordinal);
            }
        });
        // A 401 is final: no retry.
        Assert.Equal(4, Server.Requests.Count);
    }

    [Fact]
    public async Task Health_needs_no_key()
    {
        var client = NewClient();
        Assert.True((await client.GetHealthAsync()).Ok);
    }

    [Fact]
    public void A_key_over_plain_http_to_another_host_is_refused_before_any_request()
    {
        var error = Assert.Throws<ArgumentException>(() => new AgentMailboxClient(new AgentMailboxClientOptions
        {
            Server = new Uri("http://mailbox.example.invalid/"),
            ApiKey = AuthMockServerFixture.ApiKey,
        }));
        Assert.DoesNotContain(AuthMockServerFixture.ApiKey, error.Message, StringComparison.Ordinal);

        using var allowed = new AgentMailboxClient(new AgentMailboxClientOptions
        {
            Server = new Uri("http://mailbox.example.invalid/"),
            ApiKey = AuthMockServerFixture.ApiKey,
            AllowUnencryptedAuthentication = true,
        });
        using var loopback = new AgentMailboxClient(new AgentMailboxClientOptions { Server = Server.BaseUri, ApiKey = AuthMockServerFixture.ApiKey });
        Assert.Empty(Server.Requests);
    }
}
