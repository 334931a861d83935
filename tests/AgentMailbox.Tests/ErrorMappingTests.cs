using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>Every failure becomes the fitting exception of the AgentMailboxException hierarchy.</summary>
public class ErrorMappingTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public ErrorMappingTests(MockServerFixture fixture) : base(fixture) { }

    private const string ExpressNotFoundPage =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /x</pre>\n</body>\n</html>\n";

    [Fact]
    public async Task Reply_all_to_an_unknown_thread_is_not_found_with_the_servers_message()
    {
        var client = NewClient();
        var error = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(
            () => client.ReplyAllAsync(new ReplyAllRequest { From = "alice", ThreadId = "no-such-thread", Payload = "x" }));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("thread not found", error.ServerMessage);
        Assert.Contains("thread not found", error.Message, StringComparison.Ordinal);
        Assert.Equal("POST", error.Method);
        Assert.Equal("/messages/reply-all", error.Path);
        Assert.Single(Server.Requests);
    }

    [Fact]
    public async Task Send_into_an_unknown_thread_is_not_found()
    {
        var client = NewClient();
        var error = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => SendAsync(client, "alice", "bob", "x", threadId: "t-404"));
        Assert.Equal("thread t-404 not found", error.ServerMessage);
    }

    [Fact]
    public async Task A_zod_error_from_the_server_names_the_field()
    {
        var client = NewClient();
        var handoff = await Assert.ThrowsAsync<AgentMailboxException>(() => client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "bob", Payload = "x", Handoff = new HandoffOptions { MaxContextBytes = 10 },
        }));
        Assert.Equal(HttpStatusCode.BadRequest, handoff.StatusCode);
        Assert.Equal("handoff: Number must be greater than or equal to 256", handoff.ServerMessage);
        Assert.Contains("handoff: Number must be greater than or equal to 256", handoff.Message, StringComparison.Ordinal);

        var snapshot = await Assert.ThrowsAsync<AgentMailboxException>(() => client.SendAsync(new SendMessageRequest
        {
            From = "alice", To = "bob", Payload = "x", ContextSnapshot = TestJson.Parse("[1,2]"),
        }));
        Assert.Contains("contextSnapshot: Expected object, received array", snapshot.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_zod_body_with_several_fields_names_each_of_them()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/messages/send", Status = 400,
            Body = "{\"error\":{\"formErrors\":[],\"fieldErrors\":{\"to\":[\"Required\"],\"from\":[\"Expected string, received number\"]}}}",
        });

        var error = await Assert.ThrowsAsync<AgentMailboxException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("to: Required", error.Message, StringComparison.Ordinal);
        Assert.Contains("from: Expected string, received number", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("fieldErrors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_error_and_request_id_shape_gives_the_error_text()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "GET", Path = "/mailbox/alice", Status = 400,
            Body = "{\"error\":\"Failed to decode param '50%'\",\"requestId\":\"srv-1\"}",
        });

        var error = await Assert.ThrowsAsync<AgentMailboxException>(() => client.GetThreadsAsync("alice").CollectAsync());

        Assert.Equal("Failed to decode param '50%'", error.ServerMessage);
        Assert.DoesNotContain("srv-1\"", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("{", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_express_html_404_gives_its_text()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "GET", Path = "/threads/t1", Status = 404, ContentType = "text/html; charset=utf-8", Body = ExpressNotFoundPage,
        });

        var error = await Assert.ThrowsAsync<AgentMailboxNotFoundException>(() => client.GetThreadAsync("t1", null));

        Assert.Equal("Cannot GET /x", error.ServerMessage);
        Assert.Contains(": Cannot GET /x (", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("<", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_500_is_a_server_exception_and_is_not_retried()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/t1", Status = 500, Count = -1, Body = "{\"error\":\"SQLITE_BUSY\",\"requestId\":\"x\"}" });

        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.GetThreadAsync("t1", null));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Equal("SQLITE_BUSY", error.ServerMessage);
        Assert.Single(Server.Requests);
    }

    [Fact]
    public async Task A_send_that_gets_500_says_the_message_may_have_been_stored()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Status = 500, AfterHandler = true, Count = -1 });

        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.Contains("may have stored the message", error.Message, StringComparison.Ordinal);
        Assert.Single(RequestsTo("POST", "/messages/send"));
        Assert.Equal(1, Server.GetState().Messages);
    }

    [Fact]
    public async Task A_reply_all_that_gets_500_is_not_repeated()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", "x");
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/reply-all", Status = 500, AfterHandler = true, Count = -1 });

        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(
            () => client.ReplyAllAsync(new ReplyAllRequest { From = "bob", ThreadId = sent.ThreadId, Payload = "re" }));

        Assert.Contains("may have stored the message", error.Message, StringComparison.Ordinal);
        Assert.Single(RequestsTo("POST", "/messages/reply-all"));
        Assert.Equal(2, Server.GetState().Messages);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_waited_out_and_the_send_succeeds()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/messages/send", Status = 429, Count = 1,
            Body = "{\"error\":\"Too many requests, please try again later\"}",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
        });

        var watch = Stopwatch.StartNew();
        var result = await SendAsync(client, "alice", "bob", "x");
        watch.Stop();

        Assert.False(string.IsNullOrEmpty(result.MessageId));
        var attempts = RequestsTo("POST", "/messages/send");
        Assert.Equal(2, attempts.Count);
        Assert.Equal(429, attempts[0].Status);
        Assert.Equal(200, attempts[1].Status);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {watch.Elapsed}, before Retry-After");
        Assert.Equal(1, Server.GetState().Messages);
    }

    [Fact]
    public async Task A_429_beyond_the_retry_count_is_a_rate_limit_exception_with_retry_after()
    {
        var client = NewClient(o => o.MaximumRetryCount = 1);
        Server.AddFault(new FaultRule
        {
            Method = "GET", Path = "/mailbox/alice/unread", Status = 429, Count = -1,
            Body = "{\"error\":\"Too many requests, please try again later\"}",
            Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
        });

        var error = await Assert.ThrowsAsync<AgentMailboxRateLimitException>(() => client.GetUnreadAsync("alice").CollectAsync());

        Assert.Equal((HttpStatusCode)429, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
        Assert.Equal("Too many requests, please try again later", error.ServerMessage);
        Assert.Equal(2, Server.Requests.Count);
    }

    [Fact]
    public async Task A_retry_after_longer_than_the_longest_wait_fails_at_once()
    {
        var client = NewClient(o => o.MaximumRetryDelay = TimeSpan.FromSeconds(5));
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/messages/send", Status = 429, Count = -1,
            Headers = new Dictionary<string, string> { ["Retry-After"] = "3600" },
        });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AgentMailboxRateLimitException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        Assert.Equal(TimeSpan.FromHours(1), error.RetryAfter);
        Assert.Single(Server.Requests);
    }

    [Fact]
    public async Task A_free_tier_429_without_retry_after_uses_resets_at()
    {
        var client = NewClient(o => o.MaximumRetryCount = 0);
        string resetsAt = DateTimeOffset.UtcNow.AddMinutes(10).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/messages/send", Status = 429,
            Body = $"{{\"error\":\"rate_limit_exceeded\",\"limit\":500,\"remaining\":0,\"resetsAt\":\"{resetsAt}\",\"upgrade\":\"https://example.invalid\"}}",
        });

        var error = await Assert.ThrowsAsync<AgentMailboxRateLimitException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.NotNull(error.RetryAfter);
        Assert.InRange(error.RetryAfter!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10.1));
        Assert.Equal("rate_limit_exceeded", error.ServerMessage);
    }

    [Fact]
    public async Task A_429_is_retried_when_resets_at_has_passed()
    {
        var client = NewClient();
        string resetsAt = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/messages/send", Status = 429,
            Body = $"{{\"error\":\"rate_limit_exceeded\",\"limit\":60,\"remaining\":0,\"resetsAt\":\"{resetsAt}\"}}",
        });

        var result = await SendAsync(client, "alice", "bob", "x");

        Assert.NotEmpty(result.MessageId);
        Assert.Equal(new int?[] { 429, 200 }, RequestsTo("POST", "/messages/send").Select(r => r.Status).ToArray());
    }

    [Fact]
    public async Task Rate_limit_retries_stop_when_the_time_budget_is_spent()
    {
        // Budget: twice the longest single wait, here 2 s; every answer asks for 1 s.
        var client = NewClient(o =>
        {
            o.MaximumRetryCount = 10;
            o.MaximumRetryDelay = TimeSpan.FromSeconds(1);
        });
        Server.AddFault(new FaultRule
        {
            Method = "GET", Path = "/health", Status = 429, Count = -1,
            Headers = new Dictionary<string, string> { ["Retry-After"] = "1" },
        });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AgentMailboxRateLimitException>(() => client.GetHealthAsync());

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        Assert.InRange(Server.Requests.Count, 2, 3);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
    }

    [Fact]
    public async Task A_503_on_a_get_is_retried_and_succeeds()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", "x");
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + sent.ThreadId, Status = 503, Count = 1 });

        var thread = await client.GetThreadAsync(sent.ThreadId, "bob");

        Assert.Equal(sent.ThreadId, thread.Id);
        var attempts = RequestsTo("GET", "/threads/" + sent.ThreadId);
        Assert.Equal(new int?[] { 503, 200 }, attempts.Select(a => a.Status).ToArray());
    }

    [Fact]
    public async Task A_proxy_502_page_on_a_get_is_retried_and_succeeds()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "GET", Path = "/health", Action = FaultAction.Html, Count = 2 });

        var health = await client.GetHealthAsync();

        Assert.True(health.Ok);
        Assert.Equal(new int?[] { 502, 502, 200 }, Server.Requests.Select(r => r.Status).ToArray());
    }

    [Fact]
    public async Task A_proxy_502_page_beyond_the_retries_names_its_title()
    {
        var client = NewClient(o => o.MaximumRetryCount = 0);
        Server.AddFault(new FaultRule { Method = "GET", Path = "/health", Action = FaultAction.Html, Count = -1 });

        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(() => client.GetHealthAsync());

        Assert.Equal(HttpStatusCode.BadGateway, error.StatusCode);
        Assert.Equal("502 Bad Gateway", error.ServerMessage);
    }

    [Fact]
    public async Task A_503_on_a_send_is_not_retried()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Status = 503, Count = 1 });

        var error = await Assert.ThrowsAsync<AgentMailboxServerException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Single(RequestsTo("POST", "/messages/send"));
        Assert.Equal(0, Server.GetState().Messages);
    }

    [Fact]
    public async Task A_refused_connection_is_a_connection_exception_naming_the_server()
    {
        int port = FreePort();
        var server = new Uri($"http://127.0.0.1:{port}/");
        var client = NewClient(o =>
        {
            o.Server = server;
            o.MaximumRetryCount = 2;
        });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.IsNotType<AgentMailboxTimeoutException>(error);
        Assert.Contains(server.AbsoluteUri, error.Message, StringComparison.Ordinal);
        Assert.False(error.MayHaveBeenDelivered);
        Assert.Null(error.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_non_json_200_is_a_protocol_exception()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "GET", Path = "/threads/t1", Status = 200, ContentType = "text/html; charset=utf-8", Body = "<!doctype html><html><body>Welcome</body></html>",
        });

        var error = await Assert.ThrowsAsync<AgentMailboxProtocolException>(() => client.GetThreadAsync("t1", null));

        Assert.Equal(HttpStatusCode.OK, error.StatusCode);
        Assert.Contains("text/html", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_uri_that_reaches_the_web_ui_is_a_protocol_exception()
    {
        // Unknown GETs outside the API prefixes get the web UI's index.html with 200.
        var client = NewClient(o => o.Server = new Uri(Server.BaseUri, "ui/"));

        await Assert.ThrowsAsync<AgentMailboxProtocolException>(() => client.GetHealthAsync());
        await Assert.ThrowsAsync<AgentMailboxProtocolException>(() => client.GetUnreadAsync("alice").CollectAsync());
    }

    [Fact]
    public async Task Truncated_json_is_a_protocol_exception()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", "x");
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + sent.ThreadId, Action = FaultAction.Truncate });

        var error = await Assert.ThrowsAsync<AgentMailboxProtocolException>(() => client.GetThreadAsync(sent.ThreadId, "bob"));
        Assert.False(error.MayHaveBeenDelivered);
    }

    [Fact]
    public async Task Truncated_json_in_a_stream_is_a_protocol_exception()
    {
        var client = NewClient();
        for (int i = 0; i < 5; i++)
        {
            await SendAsync(client, "alice", "bob", i);
        }
        Server.AddFault(new FaultRule { Method = "GET", Path = "/mailbox/bob/unread", Action = FaultAction.Truncate });

        await Assert.ThrowsAsync<AgentMailboxProtocolException>(() => client.GetUnreadAsync("bob").CollectAsync());
    }

    [Fact]
    public async Task A_truncated_answer_to_a_send_says_it_may_have_been_delivered()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Action = FaultAction.Truncate, AfterHandler = true });

        var error = await Assert.ThrowsAsync<AgentMailboxProtocolException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.True(error.MayHaveBeenDelivered);
        Assert.Single(RequestsTo("POST", "/messages/send"));
    }

    [Fact]
    public async Task A_stalled_body_beyond_the_timeout_is_a_timeout_exception()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(1));
        var sent = await SendAsync(client, "alice", "bob", "x");
        Server.ClearRequests();
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + sent.ThreadId, Action = FaultAction.Stall });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AgentMailboxTimeoutException>(() => client.GetThreadAsync(sent.ThreadId, "bob"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(900), $"gave up after {watch.Elapsed}");
        Assert.Equal(TimeSpan.FromSeconds(1), error.Timeout);
        Assert.False(error.MayHaveBeenDelivered);
        Assert.Equal(200, Assert.Single(Server.Requests).Status);
    }

    [Fact]
    public async Task A_stalled_error_body_beyond_the_timeout_is_a_timeout_exception()
    {
        // The route answers 404 and its body never arrives.
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(1));
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/t1", Action = FaultAction.Stall });

        var watch = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(() => client.GetThreadAsync("t1", null));

        Assert.Equal(404, Assert.Single(Server.Requests).Status);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.IsType<AgentMailboxTimeoutException>(error);
    }

    [Fact]
    public async Task A_404_whose_body_breaks_off_is_not_reported_as_a_server_error()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "GET", Path = "/threads/t1", Status = 404, Action = FaultAction.ResetMidBody,
            Body = "{\"error\":\"thread not found\",\"padding\":\"" + new string('p', 4000) + "\"}",
        });

        var error = await Record.ExceptionAsync(() => client.GetThreadAsync("t1", null));

        Assert.Equal(404, Assert.Single(Server.Requests).Status);
        Assert.IsNotType<AgentMailboxServerException>(error);
        Assert.True(error is AgentMailboxNotFoundException or AgentMailboxConnectionException, $"got {error?.GetType().Name}");
    }

    [Fact]
    public async Task A_stalled_stream_beyond_the_timeout_is_a_timeout_exception()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(1));
        Server.AddFault(new FaultRule { Method = "GET", Path = "/mailbox/bob/unread", Action = FaultAction.Stall });

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<AgentMailboxTimeoutException>(() => client.GetUnreadAsync("bob").CollectAsync());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Headers_later_than_the_timeout_are_a_timeout_exception()
    {
        var client = NewClient(o => o.Timeout = TimeSpan.FromSeconds(1));
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", DelayMs = 10_000 });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<AgentMailboxTimeoutException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.True(error.MayHaveBeenDelivered);
        Assert.Single(Server.Requests);
    }

    [Fact]
    public async Task A_dropped_send_may_have_been_delivered_and_is_not_repeated()
    {
        var client = NewClient();
        await client.GetHealthAsync(); // a pooled connection, as in a long session
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Action = FaultAction.Drop, AfterHandler = true });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.IsNotType<AgentMailboxTimeoutException>(error);
        Assert.True(error.MayHaveBeenDelivered);
        Assert.Contains("may have stored the message", error.Message, StringComparison.Ordinal);
        Assert.Single(RequestsTo("POST", "/messages/send"));
        Assert.Equal(1, Server.GetState().Messages);
    }

    [Fact]
    public async Task A_dropped_send_on_a_fresh_connection_is_not_repeated_either()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule { Method = "POST", Path = "/messages/send", Action = FaultAction.Drop });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.True(error.MayHaveBeenDelivered);
        Assert.Single(RequestsTo("POST", "/messages/send"));
    }

    [Fact]
    public async Task A_connection_reset_mid_body_is_a_connection_exception()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "bob", new string('z', 5000));
        Server.AddFault(new FaultRule { Method = "GET", Path = "/threads/" + sent.ThreadId, Action = FaultAction.ResetMidBody });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => client.GetThreadAsync(sent.ThreadId, "bob"));

        Assert.IsNotType<AgentMailboxTimeoutException>(error);
        Assert.False(error.MayHaveBeenDelivered);
    }

    [Fact]
    public async Task A_client_error_other_than_404_401_403_429_is_the_base_exception()
    {
        var client = NewClient();
        var sent = await SendAsync(client, "alice", "alice", "note to self");

        var error = await Assert.ThrowsAsync<AgentMailboxException>(
            () => client.ReplyAllAsync(new ReplyAllRequest { From = "alice", ThreadId = sent.ThreadId, Payload = "x" }));

        Assert.Equal(typeof(AgentMailboxException), error.GetType());
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("no other visible participants to reply to", error.ServerMessage);
    }

    [Fact]
    public async Task A_403_is_an_authentication_exception()
    {
        var client = NewClient();
        Server.AddFault(new FaultRule
        {
            Method = "POST", Path = "/agents/register", Status = 403,
            Body = "{\"error\":\"plan_limit\",\"resource\":\"agents\",\"current\":4,\"limit\":4}",
        });

        var error = await Assert.ThrowsAsync<AgentMailboxAuthenticationException>(() => client.RegisterAsync("alice"));
        Assert.Equal("plan_limit", error.ServerMessage);
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
