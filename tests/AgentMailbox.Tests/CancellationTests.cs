using System.Diagnostics;
using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Cancelling the token ends a call promptly wherever it waits.</summary>
public class CancellationTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    /// <summary>The README's promise: Ctrl+C ends any cmdlet within a second.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(1);

    public CancellationTests(MockServerFixture fixture) : base(fixture) { }

    /// <summary>Starts the call, waits until its request is at the server and a little longer, then cancels it.</summary>
    private async Task<TimeSpan> CancelledAfterAsync(Func<CancellationToken, Task> call, TimeSpan cancelAfter, string method, string path)
    {
        using var cts = new CancellationTokenSource();
        var task = Start(() => call(cts.Token));
        var deadline = Stopwatch.StartNew();
        while (RequestsTo(method, path).Count == 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        await Task.Delay(cancelAfter);
        Assert.False(task.IsCompleted, "the call ended before it was cancelled");
        var watch = Stopwatch.StartNew();
        cts.Cancel();
        var error = await Record.ExceptionAsync(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        watch.Stop();
        Assert.IsAssignableFrom<OperationCanceledException>(error);
        return watch.Elapsed;
    }

    [Fact]
    public async Task Cancelling_during_a_stalled_body_ends_the_call()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        var sent = await SendAsync(client, "alice", "bob", "x");
        Server.ClearRequests();
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + sent.ThreadId, Action = FaultAction.Stall });

        var elapsed = await CancelledAfterAsync(ct => client.GetThreadAsync(sent.ThreadId, "bob", ct), TimeSpan.FromMilliseconds(300), "GET", "/threads/" + sent.ThreadId);

        Assert.True(elapsed < Prompt, $"took {elapsed}");
        Assert.Equal(200, Assert.Single(RequestsTo("GET", "/threads/" + sent.ThreadId)).Status);
    }

    [Fact]
    public async Task Cancelling_during_a_stalled_error_body_ends_the_call()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        string thread = "t-" + Guid.NewGuid().ToString("N");
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + thread, Action = FaultAction.Stall });

        var elapsed = await CancelledAfterAsync(ct => client.GetThreadAsync(thread, null, ct), TimeSpan.FromMilliseconds(300), "GET", "/threads/" + thread);

        Assert.True(elapsed < Prompt, $"took {elapsed}");
        Assert.Equal(404, Assert.Single(RequestsTo("GET", "/threads/" + thread)).Status);
    }

    [Fact]
    public async Task Cancelling_a_stalled_stream_ends_the_enumeration()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        // An unknown agent's unread list is a 200 with an empty list, so the body that stalls is a success body.
        Server.AddFault(new FaultRule { Method = "GET", Path = "/mailbox/bob/unread", Action = FaultAction.Stall });

        var elapsed = await CancelledAfterAsync(ct => client.GetUnreadAsync("bob", null, ct).CollectAsync(), TimeSpan.FromMilliseconds(300), "GET", "/mailbox/bob/unread");

        Assert.True(elapsed < Prompt, $"took {elapsed}");
    }

    [Fact]
    public async Task Cancelling_a_stalled_stream_through_WithCancellation_ends_the_enumeration()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        Server.AddFault(new FaultRule { Method = "GET", Path = "/mailbox/bob", Action = FaultAction.Stall });

        var elapsed = await CancelledAfterAsync(async ct =>
        {
            await foreach (var _ in client.GetThreadsAsync("bob").WithCancellation(ct))
            {
            }
        }, TimeSpan.FromMilliseconds(300), "GET", "/mailbox/bob");

        Assert.True(elapsed < Prompt, $"took {elapsed}");
    }

    [Fact]
    public async Task Cancelling_while_waiting_for_headers_ends_the_call()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        string thread = "t-" + Guid.NewGuid().ToString("N");
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + thread, DelayMs = 30_000 });

        var elapsed = await CancelledAfterAsync(ct => client.GetThreadAsync(thread, null, ct), TimeSpan.FromMilliseconds(300), "GET", "/threads/" + thread);

        Assert.True(elapsed < Prompt, $"took {elapsed}");
    }

    [Fact]
    public async Task Cancelling_a_send_that_waits_for_headers_ends_it()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", DelayMs = 30_000 });

        var elapsed = await CancelledAfterAsync(ct => SendAsync(client, "alice", "bob", "x", cancellationToken: ct), TimeSpan.FromMilliseconds(300), "POST", "/messages/send");

        Assert.True(elapsed < Prompt, $"took {elapsed}");
        Assert.Single(RequestsTo("POST", "/messages/send"));
    }

    [Fact]
    public async Task Cancelling_during_a_retry_wait_ends_the_call()
    {
        var client = NewClient(o => o.RetryInterval = TimeSpan.FromSeconds(20));
        string thread = "t-" + Guid.NewGuid().ToString("N");
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + thread, Status = 503, Count = -1 });

        var elapsed = await CancelledAfterAsync(ct => client.GetThreadAsync(thread, null, ct), TimeSpan.FromMilliseconds(300), "GET", "/threads/" + thread);

        Assert.True(elapsed < Prompt, $"took {elapsed}");
        Assert.Single(RequestsTo("GET", "/threads/" + thread));
    }

    [Fact]
    public async Task Cancelling_during_a_retry_after_wait_ends_the_call()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/messages/send", Status = 429, Count = -1,
            Headers = new Dictionary<string, string> { ["Retry-After"] = "30" },
        });

        var elapsed = await CancelledAfterAsync(ct => SendAsync(client, "alice", "bob", "x", cancellationToken: ct), TimeSpan.FromMilliseconds(300), "POST", "/messages/send");

        Assert.True(elapsed < Prompt, $"took {elapsed}");
    }

    [Fact]
    public async Task An_already_cancelled_token_sends_nothing()
    {
        var client = NewClient();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SendAsync(client, "alice", "bob", "x", cancellationToken: cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetUnreadAsync("bob", null, cts.Token).CollectAsync());
        Assert.Empty(Server.Requests);
    }

    [Fact]
    public async Task Cancelling_is_not_reported_as_a_timeout_or_connection_failure()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(60));
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Action = FaultAction.Stall, AfterHandler = true });

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var error = await Record.ExceptionAsync(() => SendAsync(client, "alice", "bob", "x", cancellationToken: cts.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.IsNotAssignableFrom<AgentMailboxException>(error);
    }

    /// <summary>Starts the call, waits until its request is at the server, then closes (disposes) the client.</summary>
    private async Task<(Exception? Error, TimeSpan Elapsed)> ClosedUnderAsync(AgentMailboxClient client, Func<Task> call, string method, string path, TimeSpan after)
    {
        var task = Start(call);
        var deadline = Stopwatch.StartNew();
        while (RequestsTo(method, path).Count == 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        await Task.Delay(after);
        Assert.False(task.IsCompleted, "the call ended before the client was closed");
        var watch = Stopwatch.StartNew();
        client.Dispose();
        var error = await Record.ExceptionAsync(() => task.WaitAsync(TimeSpan.FromSeconds(10)));
        return (error, watch.Elapsed);
    }

    [Theory]
    [InlineData("waiting for headers")]
    [InlineData("a stalled body")]
    [InlineData("a wait before a retry")]
    public async Task Closing_the_client_ends_a_call_in_flight_as_a_connection_failure_without_a_retry(string where)
    {
        // Disconnect-AgentMailbox or Remove-Module in another runspace: the call must end at once with a failure the
        // module maps to ConnectionClosed, not run on, retry, or surface as a bare cancellation.
        var client = NewClient(o => { o.Timeout = TimeSpan.FromSeconds(60); o.MaximumRetryCount = 3; });
        const string path = "/mailbox/bob/unread";
        Server.AddFault(where switch
        {
            "waiting for headers" => new FaultRule { Method = "GET", Path = path, DelayMs = 30000 },
            "a stalled body" => new FaultRule { Method = "GET", Path = path, Action = FaultAction.Stall },
            _ => new FaultRule { Method = "GET", Path = path, Status = 429, Headers = new Dictionary<string, string> { ["Retry-After"] = "30" } },
        });

        var (error, elapsed) = await ClosedUnderAsync(client, () => client.GetUnreadAsync("bob").CollectAsync(), "GET", path, TimeSpan.FromMilliseconds(300));

        Assert.True(error is AgentMailboxException || error is ObjectDisposedException, $"got {error?.GetType().FullName ?? "no error"}: {error?.Message}");
        Assert.True(elapsed < Prompt, $"took {elapsed}");
        Assert.Single(RequestsTo("GET", path));
    }
}
