using System.Diagnostics;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>The per-call timeout (a cmdlet's -TimeoutSec): it replaces the connection's for the calls in its scope,
/// and like it bounds the wait for headers and each stall of the body, never a body that keeps arriving.</summary>
public class RequestTimeoutTests
{
    private const string Frame = "{\"id\":\"m1\",\"threadId\":\"t1\",\"from\":\"alice\",\"to\":\"bob\",\"timestamp\":1,\"payload\":\"x\"}";

    /// <summary>Whether the clients do their I/O on the calling thread (as the module's do).</summary>
    protected virtual bool BlockingIO => false;

    private AgentMailboxClient NewClient(Uri server, TimeSpan timeout)
        => new(new AgentMailboxClientOptions { Server = server, Timeout = timeout, MaximumRetryCount = 0, BlockingIO = BlockingIO });

    [Fact]
    public async Task A_call_timeout_replaces_the_connection_timeout_for_a_stalled_body()
    {
        await using var server = ScriptedHttpServer.Start(async write =>
        {
            await write("{\"messages\":[");
            await Task.Delay(Timeout.Infinite);
        });
        using var client = NewClient(server.BaseUri, TimeSpan.FromSeconds(100));
        var watch = Stopwatch.StartNew();
        AgentMailboxTimeoutException timeout;
        using (RequestTimeout.Override(TimeSpan.FromSeconds(1)))
        {
            timeout = await Assert.ThrowsAsync<AgentMailboxTimeoutException>(() => client.GetUnreadAsync("bob").CollectAsync());
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Equal(TimeSpan.FromSeconds(1), timeout.Timeout);
        Assert.Contains("1 s", timeout.Message, StringComparison.Ordinal);
        Assert.NotNull(timeout.RequestId);
    }

    [Fact]
    public async Task A_call_timeout_lets_a_body_that_keeps_arriving_finish()
    {
        // Twelve pieces 250 ms apart (about 3 s in all) under a 2 s call timeout.
        string body = "{\"messages\":[" + string.Join(",", Enumerable.Repeat(Frame, 6)) + "]}";
        var pieces = Enumerable.Range(0, 12).Select(i => body.Substring(i * body.Length / 12, (i + 1) * body.Length / 12 - i * body.Length / 12)).ToList();
        await using var server = ScriptedHttpServer.Start(async write =>
        {
            foreach (string piece in pieces)
            {
                await write(piece);
                await Task.Delay(250);
            }
        });
        using var client = NewClient(server.BaseUri, TimeSpan.FromMilliseconds(300));
        using (RequestTimeout.Override(TimeSpan.FromSeconds(2)))
        {
            Assert.Equal(6, (await client.GetUnreadAsync("bob").CollectAsync()).Count);
        }
    }

    [Fact]
    public async Task The_scope_ends_with_its_disposal_and_scopes_nest()
    {
        await using var server = ScriptedHttpServer.Start(async write =>
        {
            await write("{\"messages\":[");
            await Task.Delay(Timeout.Infinite);
        });
        using var client = NewClient(server.BaseUri, TimeSpan.FromSeconds(1));
        using (RequestTimeout.Override(TimeSpan.FromSeconds(30)))
        {
            using (RequestTimeout.Override(TimeSpan.FromMilliseconds(500)))
            {
            }
            // Back to the outer scope's 30 s, not the inner 500 ms and not the connection's 1 s.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetUnreadAsync("bob", null, cts.Token).CollectAsync());
        }
    }

    [Fact]
    public void A_timeout_that_is_not_positive_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RequestTimeout.Override(TimeSpan.Zero));
        using (RequestTimeout.Override(Timeout.InfiniteTimeSpan))
        {
        }
    }
}
