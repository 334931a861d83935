using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>
/// The test classes whose clients block the calling thread. They run one at a time: a blocking call holds one of the
/// test framework's few threads, and several at once would starve the asynchronous tests that run beside them.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BlockingIOCollection
{
    public const string Name = "Blocking I/O";
}

/// <summary>
/// <see cref="AgentMailboxClientOptions.BlockingIO"/>, the mode the module's cmdlets use: the I/O runs on the calling
/// thread, and timeouts and cancellation still end a call wherever it waits, the connect included.
/// </summary>
[Collection(BlockingIOCollection.Name)]
public sealed class BlockingIOTests : MockServerTestBase, IClassFixture<MockServerFixture>
{
    public BlockingIOTests(MockServerFixture fixture) : base(fixture) { }

    protected override bool BlockingIO => true;

    [Fact]
    public async Task A_call_has_finished_when_it_returns()
    {
        var client = NewClient();
        await client.RegisterAsync("alice");

        var send = SendAsync(client, "alice", "bob", "x");
        Assert.True(send.IsCompleted, "the send returned before its answer arrived");
        var sent = await send;
        var read = client.GetThreadAsync(sent.ThreadId, "bob");
        Assert.True(read.IsCompleted, "the read returned before its answer arrived");
        Assert.Equal(sent.MessageId, Assert.Single((await read).Messages).Id);
    }

    [Fact]
    public async Task Without_it_a_call_returns_before_its_answer()
    {
        // The control for the test above: the same call on an asynchronous client is still running when it returns.
        var client = NewClient(o => o.BlockingIO = false);
        await client.RegisterAsync("alice");
        Server.AddFault(new MockServer.FaultRule { Method = "POST", Path = "/messages/send", DelayMs = 300 });

        var send = SendAsync(client, "alice", "bob", "x");
        Assert.False(send.IsCompleted);
        await send;
    }

    [Fact]
    public async Task Streams_decode_as_the_body_arrives()
    {
        // The server sends the first message and holds the rest of the body until the test releases it: the first
        // message must be out while the body is still open (a client that buffered the body would wait for the rest).
        string Frame(int i) =>
            $"{{\"id\":\"m{i}\",\"threadId\":\"t1\",\"from\":\"alice\",\"to\":\"bob\",\"timestamp\":{1795823483929 + i},\"payload\":{i},"
            + "\"context\":{\"snapshot\":{},\"threadSummary\":\"\",\"recentMessages\":[],\"tokenCount\":1}}";
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool bodyEnded = false;
        await using var server = ScriptedHttpServer.Start(async write =>
        {
            await write("{\"messages\":[" + Frame(0) + ",");
            await Task.WhenAny(release.Task, Task.Delay(TimeSpan.FromSeconds(20)));
            Volatile.Write(ref bodyEnded, true);
            await write(Frame(1) + "," + Frame(2) + "]}");
        });
        var client = NewClient(o => o.Server = server.BaseUri);

        var payloads = new List<string>();
        bool openAtFirst = false;
        // On a thread of its own: in this mode each step blocks the thread that takes it.
        await Task.Run(async () =>
        {
            await foreach (var message in client.GetUnreadAsync("bob"))
            {
                if (payloads.Count == 0)
                {
                    openAtFirst = !Volatile.Read(ref bodyEnded);
                    release.TrySetResult();
                }
                payloads.Add(TestJson.Canonical(message.Payload));
            }
        }).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(openAtFirst, "the first message was held back until the body ended");
        Assert.Equal(["0", "1", "2"], payloads);
    }

    [Fact]
    public async Task A_connect_that_gets_no_answer_ends_at_the_timeout()
    {
        using var blackhole = Blackhole.Start();
        var client = NewClient(o => { o.Server = blackhole.BaseUri; o.Timeout = TimeSpan.FromSeconds(1); o.MaximumRetryCount = 0; });

        var watch = Stopwatch.StartNew();
        var error = await Record.ExceptionAsync(() => Task.Run(() => SendAsync(client, "alice", "bob", "x")));

        Assert.IsType<AgentMailboxTimeoutException>(error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Cancelling_a_connect_that_gets_no_answer_ends_the_call()
    {
        using var blackhole = Blackhole.Start();
        var client = NewClient(o => { o.Server = blackhole.BaseUri; o.Timeout = TimeSpan.FromSeconds(60); });
        using var cts = new CancellationTokenSource();

        var call = Start(() => client.GetThreadAsync("t1", null, cts.Token));
        await Task.Delay(500);
        Assert.False(call.IsCompleted, "the call ended before it was cancelled");
        var watch = Stopwatch.StartNew();
        cts.Cancel();
        var error = await Record.ExceptionAsync(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        // The README's promise: Ctrl+C ends any cmdlet within a second.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_refused_connection_is_reported_as_one()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var client = NewClient(o => { o.Server = new Uri($"http://127.0.0.1:{port}/"); o.MaximumRetryCount = 1; });

        var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => SendAsync(client, "alice", "bob", "x"));

        Assert.False(error.MayHaveBeenDelivered, "a refused connection sent nothing");
        Assert.IsType<SocketException>(error.InnerException?.GetBaseException());
        Assert.Equal(SocketError.ConnectionRefused, ((SocketException)error.InnerException!.GetBaseException()).SocketErrorCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_self_signed_https_server_is_reached_only_with_SkipCertificateCheck(bool blocking)
    {
        using var certificate = SelfSigned();
        const string body = "{\"messages\":[{\"id\":\"m1\",\"threadId\":\"t1\",\"from\":\"alice\",\"to\":\"bob\",\"timestamp\":1,\"payload\":\"x\"}]}";
        Func<Func<string, Task>, Task> answer = write => write(body);

        await using (var server = ScriptedHttpServer.Start(answer, certificate))
        {
            var client = NewClient(o => { o.Server = server.BaseUri; o.SkipCertificateCheck = true; o.BlockingIO = blocking; });
            Assert.Equal("m1", Assert.Single(await client.GetUnreadAsync("bob").CollectAsync()).Id);
        }
        await using (var server = ScriptedHttpServer.Start(answer, certificate))
        {
            var client = NewClient(o => { o.Server = server.BaseUri; o.BlockingIO = blocking; });
            var error = await Assert.ThrowsAsync<AgentMailboxConnectionException>(() => client.GetUnreadAsync("bob").CollectAsync());
            Assert.Contains(error.GetBaseException().GetType().Name, new[] { "AuthenticationException", "Win32Exception", "CryptographicException" });
        }
    }

    /// <summary>A certificate for 127.0.0.1 that no machine trusts.</summary>
    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A loopback port whose connects get no answer: a listener with a backlog of 0 that accepts nothing, its one
    /// queue place taken, so the system drops further connection requests and the connecting side keeps waiting.
    /// </summary>
    private sealed class Blackhole : IDisposable
    {
        private readonly Socket _listener;
        private readonly Socket _filler;

        private Blackhole(Socket listener, Socket filler)
        {
            _listener = listener;
            _filler = filler;
        }

        public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}/");

        public static Blackhole Start()
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(0);
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            filler.Connect(listener.LocalEndPoint!);
            return new Blackhole(listener, filler);
        }

        public void Dispose()
        {
            _filler.Dispose();
            _listener.Dispose();
        }
    }
}

/// <summary>The cancellation tests again, on clients that do their I/O on the calling thread.</summary>
[Collection(BlockingIOCollection.Name)]
public sealed class CancellationTestsWithBlockingIO(MockServerFixture fixture) : CancellationTests(fixture)
{
    protected override bool BlockingIO => true;
}

/// <summary>The error mapping tests again, on clients that do their I/O on the calling thread.</summary>
[Collection(BlockingIOCollection.Name)]
public sealed class ErrorMappingTestsWithBlockingIO(MockServerFixture fixture) : ErrorMappingTests(fixture)
{
    protected override bool BlockingIO => true;
}

/// <summary>The streaming tests again, on clients that do their I/O on the calling thread.</summary>
[Collection(BlockingIOCollection.Name)]
public sealed class StreamingTestsWithBlockingIO(MockServerFixture fixture) : StreamingTests(fixture)
{
    protected override bool BlockingIO => true;
}

/// <summary>The per-call timeout tests again, on clients that do their I/O on the calling thread.</summary>
[Collection(BlockingIOCollection.Name)]
public sealed class RequestTimeoutTestsWithBlockingIO : RequestTimeoutTests
{
    protected override bool BlockingIO => true;
}

/// <summary>The concurrency tests again: sends from many threads at once share one blocking client (as runspaces
/// of ForEach-Object -Parallel share a connection).</summary>
[Collection(BlockingIOCollection.Name)]
public sealed class ConcurrencyTestsWithBlockingIO(MockServerFixture fixture) : ConcurrencyTests(fixture)
{
    protected override bool BlockingIO => true;
}
