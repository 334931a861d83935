namespace AgentMailbox.MockServer;

/// <summary>Settings of a <see cref="MockAgentMailboxServer"/>.</summary>
public sealed class MockServerOptions
{
    /// <summary>Default body limit of the reference server (<c>25mb</c>).</summary>
    public const long DefaultJsonLimitBytes = 25L * 1024 * 1024;

    /// <summary>When set, every route except <c>/health</c> and <c>/ready</c> needs
    /// <c>Authorization: Bearer &lt;key&gt;</c>. <c>/_mock/</c> never does.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Largest accepted JSON body in bytes; larger bodies get 413.</summary>
    public long JsonLimitBytes { get; set; } = DefaultJsonLimitBytes;

    /// <summary>How many requests the request log keeps (the oldest are dropped first); 0 turns it off.</summary>
    public int MaxRecordedRequests { get; set; } = 50_000;

    /// <summary>Listen address. Port 0 picks a free port. Only http, with an IP address or localhost.</summary>
    public string Url { get; set; } = "http://127.0.0.1:0";
}

/// <summary>What a fault rule does to the response.</summary>
public enum FaultAction
{
    /// <summary>Answer normally (or with the rule's status and body).</summary>
    None,

    /// <summary>Abort the connection without sending anything.</summary>
    Drop,

    /// <summary>Send the headers and half of the body, then abort the connection.</summary>
    ResetMidBody,

    /// <summary>Send a 200 with the first half of the body and a Content-Length that matches it.</summary>
    Truncate,

    /// <summary>Answer with an HTML error page, as a proxy in front of the server would (502 unless a status is given).</summary>
    Html,

    /// <summary>Send the headers, then never finish the body until the client goes away (at most 5 minutes).</summary>
    Stall,

    /// <summary>Send the headers and half of the body, then hold the rest until the client goes away (at most 5 minutes).</summary>
    StallMidBody,
}

/// <summary>A rule that makes matching requests fail in a chosen way.</summary>
public sealed class FaultRule
{
    /// <summary>HTTP method to match (case-insensitive); null matches any.</summary>
    public string? Method { get; set; }

    /// <summary>Request path to match, case-insensitively against the raw (still percent-encoded)
    /// path; a trailing <c>*</c> makes it a prefix. <c>*</c> matches everything.</summary>
    public string Path { get; set; } = "*";

    /// <summary>How many matching requests the rule hits; -1 means forever.</summary>
    public int Count { get; set; } = 1;

    /// <summary>Answer with this status instead of (or, with <see cref="AfterHandler"/>, after) running the route.</summary>
    public int? Status { get; set; }

    /// <summary>Body of the <see cref="Status"/> answer; defaults to <c>{"error":"mock fault","requestId":…}</c>.</summary>
    public string? Body { get; set; }

    /// <summary>Content type of the <see cref="Status"/> answer.</summary>
    public string? ContentType { get; set; }

    /// <summary>Headers added to the response (e.g. <c>Retry-After</c>).</summary>
    public IDictionary<string, string>? Headers { get; set; }

    /// <summary>Delay before answering; cut short when the client goes away.</summary>
    public int DelayMs { get; set; }

    public FaultAction Action { get; set; } = FaultAction.None;

    /// <summary>Run the real route first (its state changes happen) and then apply the fault.</summary>
    public bool AfterHandler { get; set; }
}

/// <summary>A fault rule as registered, with the number of hits left.</summary>
public sealed record FaultRuleInfo(string Id, FaultRule Rule, int Remaining, int Hits);

/// <summary>A request the mock received (control requests under <c>/_mock/</c> excluded).</summary>
public sealed class RecordedRequest
{
    public required string Method { get; init; }

    /// <summary>The raw path, still percent-encoded.</summary>
    public required string Path { get; init; }

    /// <summary>The raw query string without the leading <c>?</c> ("" when there is none).</summary>
    public required string Query { get; init; }

    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>The body as text, cut to 64 K characters.</summary>
    public string Body { get; internal set; } = string.Empty;

    public bool BodyTruncated { get; internal set; }

    /// <summary>The X-Request-Id of the response (null when none was sent).</summary>
    public string? RequestId { get; internal set; }

    /// <summary>Status sent; 0 when the connection was dropped, null while the request is in flight.</summary>
    public int? Status { get; internal set; }

    /// <summary>Id of the fault rule that hit this request, if any.</summary>
    public string? FaultId { get; internal set; }

    public DateTimeOffset ReceivedAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// Reproduces the mark-read race of the reference server: on the next
/// <c>POST /mailbox/:agentId/read</c> (for <see cref="AgentId"/> when set), the mock first stores
/// this message as <c>/messages/send</c> would and then performs the mark-read, which covers it.
/// </summary>
public sealed class BeforeReadHook
{
    /// <summary>Only fire for this agent's mark-read; null fires on the next one for anybody.</summary>
    public string? AgentId { get; init; }

    public required string From { get; init; }

    public required string To { get; init; }

    public string? ThreadId { get; init; }

    /// <summary>The payload as JSON text; null leaves it out (stored as null).</summary>
    public string? PayloadJson { get; init; }

    public IReadOnlyList<string>? Cc { get; init; }

    public IReadOnlyList<string>? Bcc { get; init; }

    public string? ReplyTo { get; init; }

    /// <summary>The context snapshot as JSON object text.</summary>
    public string? ContextSnapshotJson { get; init; }
}

/// <summary>Counts of stored entities.</summary>
public sealed record MockStateCounts(int Agents, int Threads, long Messages);
