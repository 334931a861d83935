using System.Text.Json;
using AgentMailbox.MockServer;
using Xunit;

namespace AgentMailbox.Tests;

/// <summary>One mock server per test class.</summary>
public class MockServerFixture : IAsyncLifetime
{
    public MockAgentMailboxServer Server { get; private set; } = null!;

    protected virtual MockServerOptions CreateOptions() => new();

    public async Task InitializeAsync() => Server = await MockAgentMailboxServer.StartAsync(CreateOptions());

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

/// <summary>A mock server that requires a shared API key.</summary>
public sealed class AuthMockServerFixture : MockServerFixture
{
    public const string ApiKey = "sk-Zq8-very-secret-key-4711";

    protected override MockServerOptions CreateOptions() => new() { ApiKey = ApiKey };
}

/// <summary>
/// Base of the tests that talk to the shared mock server: resets it before each test and disposes the clients
/// each test made.
/// </summary>
public abstract class MockServerTestBase : IDisposable
{
    private readonly List<AgentMailboxClient> _clients = [];

    protected MockServerTestBase(MockServerFixture fixture)
    {
        Server = fixture.Server;
        Server.Reset();
    }

    protected MockAgentMailboxServer Server { get; }

    /// <summary>Whether the clients of this test class do their I/O on the calling thread (as the module's do).</summary>
    protected virtual bool BlockingIO => false;

    /// <summary>
    /// Starts a call whose completion the test waits for while it acts (cancels, checks the server): a blocking client
    /// would run the whole call before returning its task, so it runs on another thread, as under a cmdlet.
    /// </summary>
    protected Task Start(Func<Task> call) => BlockingIO ? Task.Run(call) : call();

    /// <summary>A client with short retry delays, so retry tests stay fast.</summary>
    protected AgentMailboxClient NewClient(Action<AgentMailboxClientOptions>? configure = null)
    {
        var options = new AgentMailboxClientOptions
        {
            Server = Server.BaseUri,
            Timeout = TimeSpan.FromSeconds(20),
            RetryInterval = TimeSpan.FromMilliseconds(20),
            BlockingIO = BlockingIO,
        };
        configure?.Invoke(options);
        var client = new AgentMailboxClient(options);
        lock (_clients)
        {
            _clients.Add(client);
        }
        return client;
    }

    protected IReadOnlyList<RecordedRequest> RequestsTo(string method, string path)
        => Server.Requests.Where(r => r.Method == method && r.Path == path).ToList();

    protected static Task<SendResult> SendAsync(AgentMailboxClient client, string from, string to, object? payload = null,
        string[]? cc = null, string[]? bcc = null, string? threadId = null, CancellationToken cancellationToken = default)
        => client.SendAsync(new SendMessageRequest { From = from, To = to, Payload = payload, Cc = cc, Bcc = bcc, ThreadId = threadId }, cancellationToken);

    public void Dispose()
    {
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
            _clients.Clear();
        }
        GC.SuppressFinalize(this);
    }
}

internal static class TestJson
{
    /// <summary>A JSON value as the default value converter hands it out.</summary>
    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1024 });
        return document.RootElement.Clone();
    }

    public static string Canonical(object? value)
        => value is JsonElement element ? element.GetRawText() : JsonSerializer.Serialize(value);

    public static async Task<List<T>> CollectAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        // Not on the test framework's few threads, which blocking-client tests may be holding.
        await foreach (var item in source.ConfigureAwait(false))
        {
            list.Add(item);
        }
        return list;
    }
}
