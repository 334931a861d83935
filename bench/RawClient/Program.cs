// The benchmark's raw client: one shared HttpClient and System.Text.Json in a plain loop, the client-side limit the
// module is measured against. It runs as a worker: one JSON command per stdin line, one JSON result per stdout line,
// so the harness can alternate it with the other clients while every process stays warm.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentMailbox.Bench;

public static class Program
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private static bool s_library;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--oneshot")
        {
            return await OneShotAsync(args);
        }
        s_library = args.Contains("--library");
        string? line;
        while ((line = Console.ReadLine()) is not null)
        {
            if (line.Length == 0)
            {
                continue;
            }
            Dictionary<string, object?> result;
            try
            {
                using var command = JsonDocument.Parse(line);
                result = await RunAsync(command.RootElement);
                result["ok"] = true;
            }
            catch (Exception ex)
            {
                result = new Dictionary<string, object?> { ["ok"] = false, ["error"] = ex.GetBaseException().Message };
            }
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            Console.Out.Flush();
        }
        return 0;
    }

    private static async Task<Dictionary<string, object?>> RunAsync(JsonElement command)
    {
        string op = command.GetProperty("op").GetString()!;
        if (op == "quit")
        {
            Environment.Exit(0);
        }
        if (op == "hello")
        {
            return new Dictionary<string, object?> { ["pid"] = Environment.ProcessId };
        }
        if (op == "relay")
        {
            return Relay.Start(command.GetProperty("server").GetString()!,
                command.TryGetProperty("delayMs", out var delay) ? delay.GetDouble() : 0);
        }
        if (op == "relayLast")
        {
            return Relay.Last();
        }
        if (s_library && op != "seed3")
        {
            return await LibraryClient.RunAsync(op, command);
        }
        string server = command.GetProperty("server").GetString()!.TrimEnd('/');
        string prefix = command.TryGetProperty("prefix", out var p) ? p.GetString()! : "";
        int n = command.TryGetProperty("n", out var nn) ? nn.GetInt32() : 0;
        return op switch
        {
            "W1" => await W1Async(server, prefix, n),
            "W2" => await W2Async(server, prefix, n),
            "W3" => await W3Async(server, command.GetProperty("reader").GetString()!),
            "W4" => await W4Async(server, prefix, n),
            "W5" => await W5Async(server, prefix, n, command.TryGetProperty("inFlight", out var f) ? f.GetInt32() : 1),
            "seed3" => await Seed3Async(server, command.GetProperty("reader").GetString()!, command.GetProperty("threads").GetInt32(),
                command.GetProperty("perThread").GetInt32()),
            _ => throw new InvalidOperationException($"unknown op {op}"),
        };
    }

    /// <summary>
    /// One run of a one-shot job in this fresh process (bench/OneShot.ps1): <c>--oneshot read|send server agent [to]</c>.
    /// Prints one JSON line: jobMs (the read from its start to the last object, or register + send) and count.
    /// </summary>
    private static async Task<int> OneShotAsync(string[] args)
    {
        string job = args[1], server = args[2].TrimEnd('/'), agent = args[3];
        double ms;
        int count;
        if (job == "read")
        {
            await RegisterAsync(server, agent);
            var sw = Stopwatch.StartNew();
            var inbox = await ReadUnreadAsync(server, agent, null);
            ms = sw.Elapsed.TotalMilliseconds;
            count = inbox.Messages.Count;
        }
        else
        {
            var sw = Stopwatch.StartNew();
            await RegisterAsync(server, agent);
            var sent = await SendAsync(server, new SendBody(agent, args[4], new Payload("nightly report", 1), new Snapshot("scheduled", 1)));
            ms = sw.Elapsed.TotalMilliseconds;
            count = sent.DeliveredTo.Length;
        }
        Console.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"importMs\":0,\"jobMs\":{ms},\"count\":{count}}}"));
        return 0;
    }

    #region Workloads

    /// <summary>W1: n sequential sends a -> b, a small payload and a context snapshot each.</summary>
    private static async Task<Dictionary<string, object?>> W1Async(string server, string prefix, int n)
    {
        string a = prefix + "-a", b = prefix + "-b";
        await RegisterAsync(server, a);
        var sw = StartWatch();
        for (int i = 0; i < n; i++)
        {
            await SendAsync(server, new SendBody(a, b, new Payload("summarize", i), new Snapshot("research", i)));
        }
        return Elapsed(sw);
    }

    /// <summary>W2: n sends a -> b with cc c, d and bcc e, then b reads its inbox (every message, with context).</summary>
    private static async Task<Dictionary<string, object?>> W2Async(string server, string prefix, int n)
    {
        string a = prefix + "-a", b = prefix + "-b";
        string[] cc = [prefix + "-c", prefix + "-d"], bcc = [prefix + "-e"];
        await RegisterAsync(server, a);
        await RegisterAsync(server, b);
        var sw = StartWatch();
        for (int i = 0; i < n; i++)
        {
            await SendAsync(server, new SendBody(a, b, new Payload("summarize", i), new Snapshot("research", i)) { Cc = cc, Bcc = bcc });
        }
        var inbox = await ReadUnreadAsync(server, b, null);
        var result = Elapsed(sw);
        result["count"] = inbox.Messages.Count;
        return result;
    }

    /// <summary>W3: one read of a large inbox: time to headers, to the last body byte, to the decoded list; peak memory.</summary>
    private static async Task<Dictionary<string, object?>> W3Async(string server, string reader)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Memory.ResetPeak();
        long baseline = Memory.Read("VmRSS");
        long allocated = GC.GetTotalAllocatedBytes(true);
        var timing = new Timing();
        var sw = StartWatch();
        var inbox = await ReadUnreadAsync(server, reader, timing, sw);
        var result = Elapsed(sw);
        long peak = Memory.Read("VmHWM");
        result["firstMs"] = result["ms"];
        result["headersMs"] = timing.HeadersMs;
        result["lastByteMs"] = timing.LastByteMs;
        result["bytes"] = timing.Bytes;
        result["count"] = inbox.Messages.Count;
        result["baselineKB"] = baseline;
        result["peakKB"] = peak;
        result["allocatedKB"] = (GC.GetTotalAllocatedBytes(true) - allocated) / 1024.0;
        GC.KeepAlive(inbox);
        return result;
    }

    /// <summary>W4: n reply-alls by b on one thread a -> b cc c, d.</summary>
    private static async Task<Dictionary<string, object?>> W4Async(string server, string prefix, int n)
    {
        string a = prefix + "-a", b = prefix + "-b";
        await RegisterAsync(server, b);
        var first = await SendAsync(server, new SendBody(a, b, new Payload("start", 0), new Snapshot("research", 0)) { Cc = [prefix + "-c", prefix + "-d"] });
        var sw = StartWatch();
        for (int i = 0; i < n; i++)
        {
            await PostAsync<SendResult>(server + "/messages/reply-all", new ReplyAllBody(b, first.ThreadId, new Payload("ack", i), new Snapshot("review", i)));
        }
        return Elapsed(sw);
    }

    /// <summary>
    /// W5, fan-out: n sends from a to 50 agents (message i to agent i mod 50, so 50 threads), a small payload and
    /// snapshot each, with up to <paramref name="inFlight"/> requests at once (workers take the next message in turn).
    /// </summary>
    private static async Task<Dictionary<string, object?>> W5Async(string server, string prefix, int n, int inFlight)
    {
        string a = prefix + "-a";
        await RegisterAsync(server, a);
        int next = -1;
        async Task WorkAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n)
            {
                await SendAsync(server, new SendBody(a, $"{prefix}-r{i % 50:00}", new Payload("summarize", i), new Snapshot("research", i)));
            }
        }
        var sw = StartWatch();
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, inFlight)).Select(_ => WorkAsync()));
        return Elapsed(sw);
    }

    /// <summary>Fills the W3 inbox: `threads` senders each send `perThread` messages to the reader (one thread each).</summary>
    private static async Task<Dictionary<string, object?>> Seed3Async(string server, string reader, int threads, int perThread)
    {
        var sw = StartWatch();
        await RegisterAsync(server, reader);
        // Round-robin over the threads, so unread messages interleave in time across threads as a real inbox does.
        for (int m = 0; m < perThread; m++)
        {
            var batch = new List<Task>(threads);
            for (int t = 0; t < threads; t++)
            {
                string sender = $"{reader}-s{t:00}";
                batch.Add(SendAsync(server, new SendBody(sender, reader,
                    new SeedPayload($"review section {m} of thread {t}", m, "Check the figures against the source tables and note any disagreement."),
                    new SeedSnapshot("draft", m, t, "the summary of the previous sections, kept short"))));
            }
            await Task.WhenAll(batch);
        }
        return Elapsed(sw);
    }

    #endregion

    #region HTTP

    private static Task RegisterAsync(string server, string agentId) => PostAsync<JsonElement>(server + "/agents/register", new RegisterBody(agentId));

    private static Task<SendResult> SendAsync(string server, object body) => PostAsync<SendResult>(server + "/messages/send", body);

    private static async Task<T> PostAsync<T>(string uri, object body)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), Json));
        content.Headers.ContentType = JsonType;
        using var response = await Http.PostAsync(uri, content);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"POST {uri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        await using var stream = await response.Content.ReadAsStreamAsync();
        return (await JsonSerializer.DeserializeAsync<T>(stream, Json))!;
    }

    private static async Task<UnreadResponse> ReadUnreadAsync(string server, string agentId, Timing? timing, Stopwatch? sw = null)
    {
        using var response = await Http.GetAsync($"{server}/mailbox/{Uri.EscapeDataString(agentId)}/unread", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        if (timing is not null)
        {
            timing.HeadersMs = sw!.Elapsed.TotalMilliseconds;
        }
        await using var body = await response.Content.ReadAsStreamAsync();
        Stream stream = timing is null ? body : new TimingStream(body, timing, sw!);
        return (await JsonSerializer.DeserializeAsync<UnreadResponse>(stream, Json))!;
    }

    /// <summary>A started stopwatch; the process's CPU time is noted with it, for <see cref="Elapsed"/>.</summary>
    internal static Stopwatch StartWatch()
    {
        s_cpuStart = CpuMs();
        return Stopwatch.StartNew();
    }

    /// <summary>Wall time, and the CPU time this process spent (every thread), since <see cref="StartWatch"/>.</summary>
    internal static Dictionary<string, object?> Elapsed(Stopwatch sw)
    {
        double ms = sw.Elapsed.TotalMilliseconds;
        return new() { ["ms"] = ms, ["cpuMs"] = CpuMs() - s_cpuStart };
    }

    private static double s_cpuStart;

    private static double CpuMs()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalMilliseconds;
    }

    #endregion
}

internal sealed class Timing
{
    public double HeadersMs;
    public double LastByteMs;
    public long Bytes;
}

/// <summary>Notes when the last byte of the body has been read, while the deserializer reads through it.</summary>
internal sealed class TimingStream(Stream inner, Timing timing, Stopwatch sw) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Note(inner.Read(buffer, offset, count));
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Note(await inner.ReadAsync(buffer, cancellationToken));
    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => Note(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Note(int read)
    {
        timing.Bytes += read;
        if (read > 0)
        {
            timing.LastByteMs = sw.Elapsed.TotalMilliseconds;
        }
        return read;
    }
}

/// <summary>Peak resident memory on Linux: VmHWM after resetting it through /proc/self/clear_refs.</summary>
internal static class Memory
{
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static long Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim());
            }
        }
        return -1;
    }
}

#region Wire shapes

internal sealed record RegisterBody([property: JsonPropertyName("agentId")] string AgentId);

internal sealed record Payload([property: JsonPropertyName("task")] string Task, [property: JsonPropertyName("n")] int N);

internal sealed record Snapshot([property: JsonPropertyName("step")] string Step, [property: JsonPropertyName("count")] int Count);

internal sealed record SeedPayload([property: JsonPropertyName("task")] string Task, [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("notes")] string Notes);

internal sealed record SeedSnapshot([property: JsonPropertyName("step")] string Step, [property: JsonPropertyName("section")] int Section,
    [property: JsonPropertyName("thread")] int Thread, [property: JsonPropertyName("summary")] string Summary);

internal sealed record SendBody(
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("to")] string To,
    [property: JsonPropertyName("payload")] object Payload,
    [property: JsonPropertyName("contextSnapshot")] object ContextSnapshot)
{
    [JsonPropertyName("cc")] public string[]? Cc { get; init; }
    [JsonPropertyName("bcc")] public string[]? Bcc { get; init; }
}

internal sealed record ReplyAllBody(
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("threadId")] string ThreadId,
    [property: JsonPropertyName("payload")] object Payload,
    [property: JsonPropertyName("contextSnapshot")] object ContextSnapshot);

internal sealed class SendResult
{
    [JsonPropertyName("messageId")] public string MessageId { get; set; } = "";
    [JsonPropertyName("threadId")] public string ThreadId { get; set; } = "";
    [JsonPropertyName("deliveredTo")] public string[] DeliveredTo { get; set; } = [];
}

internal sealed class UnreadResponse
{
    [JsonPropertyName("messages")] public List<Frame> Messages { get; set; } = [];
}

internal sealed class Frame
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("threadId")] public string ThreadId { get; set; } = "";
    [JsonPropertyName("from")] public string From { get; set; } = "";
    [JsonPropertyName("to")] public string To { get; set; } = "";
    [JsonPropertyName("cc")] public string[]? Cc { get; set; }
    [JsonPropertyName("bcc")] public string[]? Bcc { get; set; }
    [JsonPropertyName("replyTo")] public string? ReplyTo { get; set; }
    [JsonPropertyName("timestamp")] public long Timestamp { get; set; }
    [JsonPropertyName("payload")] public JsonElement Payload { get; set; }
    [JsonPropertyName("context")] public FrameContext? Context { get; set; }
}

internal sealed class FrameContext
{
    [JsonPropertyName("snapshot")] public JsonElement Snapshot { get; set; }
    [JsonPropertyName("threadSummary")] public string? ThreadSummary { get; set; }
    [JsonPropertyName("recentMessages")] public List<StoredMessage> RecentMessages { get; set; } = [];
    [JsonPropertyName("tokenCount")] public int TokenCount { get; set; }
    [JsonPropertyName("threadSummaryStructured")] public JsonElement ThreadSummaryStructured { get; set; }
}

internal sealed class StoredMessage
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("threadId")] public string ThreadId { get; set; } = "";
    [JsonPropertyName("from")] public string From { get; set; } = "";
    [JsonPropertyName("to")] public string To { get; set; } = "";
    [JsonPropertyName("cc")] public string[]? Cc { get; set; }
    [JsonPropertyName("bcc")] public string[]? Bcc { get; set; }
    [JsonPropertyName("replyTo")] public string? ReplyTo { get; set; }
    [JsonPropertyName("timestamp")] public long Timestamp { get; set; }
    [JsonPropertyName("payload")] public JsonElement Payload { get; set; }
    [JsonPropertyName("contextSnapshot")] public JsonElement ContextSnapshot { get; set; }
}

#endregion
