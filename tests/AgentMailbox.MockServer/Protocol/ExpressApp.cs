using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AgentMailbox.MockServer.Json;

namespace AgentMailbox.MockServer.Protocol;

/// <summary>
/// The reference server's Express 4 application, reduced to the mailbox protocol: the same
/// middleware order (body parser, request id, open routes, shared-key check, API routes, 404,
/// error handler), the same route matching (case-insensitive, optional trailing slash, params
/// decoded with decodeURIComponent) and the same response shapes.
/// </summary>
internal sealed partial class ExpressApp
{
    /// <summary>Bodies nested deeper than this make the reference server's JSON.stringify overflow
    /// its stack; the request then fails with a 500.</summary>
    public const int MaxBodyDepth = 3000;

    private const string ServerVersion = "0.5.2";

    private readonly Store _store;
    private readonly string _apiKey;
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly Layer[] _layers;
    private long _metricRequests;
    private long _metricFailures;
    private long _metricLatencyMs;

    public ExpressApp(Store store, string? apiKey)
    {
        _store = store;
        _apiKey = apiKey ?? string.Empty;
        _layers =
        [
            Route("GET", "/health", Health),
            Route("GET", "/ready", Ready),
            Route("GET", "/.well-known/agent-card.json", ServerCard),
            Route("GET", "/.well-known/agent-card/:agentId", AgentCard),
            new Layer(LayerKind.Static, "GET", [], null),
            new Layer(LayerKind.WebUi, "GET", [], WebUi),
            new Layer(LayerKind.Auth, string.Empty, [], null),
            Route("GET", "/metrics", Metrics),
            Route("POST", "/agents/register", RegisterAgent),
            Route("POST", "/messages/send", SendMessage),
            Route("POST", "/messages/reply-all", ReplyAll),
            Route("GET", "/mailbox/:agentId", GetMailbox),
            Route("GET", "/mailbox/:agentId/unread", GetUnread),
            Route("POST", "/mailbox/:agentId/read", MarkRead),
            Route("GET", "/threads/:threadId", GetThread),
            Route("GET", "/threads/:threadId/sync", SyncThread),
            Route("GET", "/threads/:threadId/participants", GetParticipants),
            .. ContextRoutes(),
        ];
    }

    public void ResetMetrics()
    {
        Interlocked.Exchange(ref _metricRequests, 0);
        Interlocked.Exchange(ref _metricFailures, 0);
        Interlocked.Exchange(ref _metricLatencyMs, 0);
    }

    private delegate ProtocolResponse Handler(RequestContext ctx);

    private enum LayerKind
    {
        Route,
        Static,
        WebUi,
        Auth,
    }

    private sealed record Layer(LayerKind Kind, string Method, string[] Segments, Handler? Handle);

    private sealed class RequestContext
    {
        public required IncomingRequest Request { get; init; }

        public required string RequestId { get; init; }

        public required string[] Params { get; init; }

        public QueryValue Query(string name) => JsUri.GetQueryValue(Request.RawQuery, name);
    }

    private static Layer Route(string method, string pattern, Handler handler) =>
        new(LayerKind.Route, method, pattern.Split('/'), handler);

    public ProtocolResponse Handle(IncomingRequest request)
    {
        long started = Environment.TickCount64;
        Interlocked.Increment(ref _metricRequests);
        ProtocolResponse response;
        if (request.BodyError is { } bodyError)
        {
            // Raised by the body parser, before the request id middleware ran.
            response = ProtocolResponse.ErrorWithRequestId(bodyError.Status, bodyError.Message, null);
        }
        else
        {
            string requestId = AssignRequestId(request.Header("X-Request-Id"));
            try
            {
                response = Dispatch(request, requestId);
            }
            catch (Exception e)
            {
                response = ProtocolResponse.ErrorWithRequestId(500, e.Message, requestId);
            }

            response.RequestId = requestId;
            response.Headers.Insert(Math.Min(1, response.Headers.Count), new KeyValuePair<string, string>("X-Request-Id", requestId));
        }

        ApplyFreshness(request, response);
        Interlocked.Add(ref _metricLatencyMs, Environment.TickCount64 - started);
        if (response.Status >= 500)
        {
            Interlocked.Increment(ref _metricFailures);
        }

        return response;
    }

    /// <summary>The request id rule of the reference server's logger: echo 1–128 characters, else a new UUID.</summary>
    internal static string AssignRequestId(string? inbound) =>
        inbound is { Length: > 0 and <= 128 } ? inbound : Guid.NewGuid().ToString();

    /// <summary>Express answers 304 to a GET whose If-None-Match matches the ETag it just computed.</summary>
    private static void ApplyFreshness(IncomingRequest request, ProtocolResponse response)
    {
        if (request.Method is not ("GET" or "HEAD") || response.Status < 200 || response.Status >= 300)
        {
            return;
        }

        string? etag = response.GetHeader("ETag");
        string? noneMatch = request.Header("If-None-Match");
        string? modifiedSince = request.Header("If-Modified-Since");
        if (etag is null || (string.IsNullOrEmpty(noneMatch) && string.IsNullOrEmpty(modifiedSince)))
        {
            return;
        }

        string? cacheControl = request.Header("Cache-Control");
        if (cacheControl is not null && NoCacheRegex().IsMatch(cacheControl))
        {
            return;
        }

        if (!string.IsNullOrEmpty(modifiedSince))
        {
            return;
        }

        if (noneMatch != "*")
        {
            bool matched = false;
            foreach (string token in noneMatch!.Split(','))
            {
                string t = token.Trim(' ');
                if (t == etag || "W/" + t == etag || t == "W/" + etag)
                {
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                return;
            }
        }

        response.Status = 304;
        response.Body = [];
        response.RemoveHeader("Content-Type");
        response.RemoveHeader("Content-Length");
    }

    [GeneratedRegex(@"(?:^|,)\s*?no-cache\s*?(?:,|$)")]
    private static partial Regex NoCacheRegex();

    /// <summary>The web UI catch-all of the reference server (case-sensitive, unlike the API routes).</summary>
    [GeneratedRegex(@"^/(?!api/|auth/|mailbox/|messages/|agents/|threads/|metrics$|usage/|health$|ready$|\.well-known/).*")]
    private static partial Regex WebUiRegex();

    private ProtocolResponse Dispatch(IncomingRequest request, string requestId)
    {
        string method = request.Method;
        string matchMethod = method == "HEAD" ? "GET" : method;
        List<string>? allowed = null;
        foreach (Layer layer in _layers)
        {
            if (layer.Kind == LayerKind.Auth)
            {
                if (!Authorized(request))
                {
                    return ProtocolResponse.Json(401, "{\"error\":\"unauthorized\"}"u8.ToArray());
                }

                continue;
            }

            if (layer.Kind == LayerKind.Static)
            {
                if (matchMethod == "GET" && StaticFiles(request, requestId) is { } served)
                {
                    return served;
                }

                continue;
            }

            string[] parameters = [];
            if (layer.Kind == LayerKind.WebUi)
            {
                if (!WebUiRegex().IsMatch(request.RawPath))
                {
                    continue;
                }
            }
            else
            {
                switch (MatchRoute(layer.Segments, request.RawPath, out parameters, out string? undecodable))
                {
                    case RouteMatch.NoMatch:
                        continue;
                    case RouteMatch.DecodeError:
                        return ProtocolResponse.ErrorWithRequestId(400, $"Failed to decode param '{undecodable}'", requestId);
                }
            }

            if (layer.Method == matchMethod)
            {
                return layer.Handle!(new RequestContext { Request = request, RequestId = requestId, Params = parameters });
            }

            if (method == "OPTIONS")
            {
                allowed ??= [];
                foreach (string m in layer.Method == "GET" ? ["GET", "HEAD"] : new[] { layer.Method })
                {
                    if (!allowed.Contains(m))
                    {
                        allowed.Add(m);
                    }
                }
            }
        }

        if (allowed is not null)
        {
            string allow = string.Join(',', allowed);
            ProtocolResponse options = ProtocolResponse.Send(200, Encoding.UTF8.GetBytes(allow), ProtocolResponse.HtmlContentType);
            options.Headers.Insert(1, new KeyValuePair<string, string>("Allow", allow));
            return options;
        }

        return ProtocolResponse.CannotRoute(method, request.RawPath);
    }

    private enum RouteMatch
    {
        NoMatch,
        Match,
        DecodeError,
    }

    /// <summary>path-to-regexp 0.1 semantics: literal segments match ASCII case-insensitively,
    /// a <c>:param</c> matches one non-empty segment, and one trailing slash is allowed.</summary>
    private static RouteMatch MatchRoute(string[] pattern, string rawPath, out string[] parameters, out string? undecodable)
    {
        parameters = [];
        undecodable = null;
        // A final ":name*" segment is Express's ":name(*)": the rest of the path, slashes and a
        // trailing slash included, possibly empty.
        bool rest = pattern[^1].EndsWith('*');
        string path = !rest && rawPath.Length > 1 && rawPath[^1] == '/' ? rawPath[..^1] : rawPath;
        string[] segments = rest ? path.Split('/', pattern.Length) : path.Split('/');
        if (segments.Length != pattern.Length)
        {
            return RouteMatch.NoMatch;
        }

        List<string>? raw = null;
        for (int i = 0; i < pattern.Length; i++)
        {
            if (pattern[i].StartsWith(':'))
            {
                if (segments[i].Length == 0 && !(rest && i == pattern.Length - 1))
                {
                    return RouteMatch.NoMatch;
                }

                (raw ??= []).Add(segments[i]);
            }
            else if (!AsciiEqualsIgnoreCase(pattern[i], segments[i]))
            {
                return RouteMatch.NoMatch;
            }
        }

        if (raw is null)
        {
            return RouteMatch.Match;
        }

        parameters = new string[raw.Count];
        for (int i = 0; i < raw.Count; i++)
        {
            string? decoded = JsUri.DecodeUriComponent(raw[i]);
            if (decoded is null)
            {
                undecodable = raw[i];
                return RouteMatch.DecodeError;
            }

            parameters[i] = decoded;
        }

        return RouteMatch.Match;
    }

    private static bool AsciiEqualsIgnoreCase(string a, string b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            char x = a[i];
            char y = b[i];
            if (x != y && (!char.IsAsciiLetter(x) || (x | 0x20) != (y | 0x20)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The shared-key check: exactly <c>Bearer &lt;key&gt;</c>; only <c>/health</c> is exempt.</summary>
    private bool Authorized(IncomingRequest request)
    {
        if (_apiKey.Length == 0 || request.RawPath == "/health")
        {
            return true;
        }

        string header = request.Header("Authorization") ?? string.Empty;
        const string prefix = "Bearer ";
        if (!header.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        byte[] token = Encoding.UTF8.GetBytes(header[prefix.Length..]);
        byte[] expected = Encoding.UTF8.GetBytes(_apiKey);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(token, expected);
    }

    private static ProtocolResponse FromStore(StoreResult result, string requestId) =>
        result.InternalError is { } message
            ? ProtocolResponse.ErrorWithRequestId(500, message, requestId)
            : ProtocolResponse.Json(result.Status, result.Body);

    private static ProtocolResponse ZodError(ZodErrors errors) => ProtocolResponse.Json(400, errors.ToResponseBody());

    /// <summary><c>parseQueryInt</c>: <c>Number(raw ?? def)</c>, clamped, or the default when not finite.</summary>
    private static double QueryNumber(QueryValue value, double fallback, double min, double max)
    {
        double n = value.Kind == QueryValueKind.Missing ? fallback : value.ToJsNumber();
        return double.IsFinite(n) ? Math.Min(Math.Max(min, n), max) : fallback;
    }

    // ------------------------------------------------------------------ routes

    private ProtocolResponse Health(RequestContext ctx)
    {
        var b = new ByteBuffer();
        b.Write("{\"ok\":true,\"uptime\":"u8);
        JsJsonWriter.WriteNumber(b, _uptime.Elapsed.TotalSeconds);
        b.Write(",\"memoryMB\":"u8);
        JsJsonWriter.WriteNumber(b, (long)Math.Round(Environment.WorkingSet / 1048576.0, MidpointRounding.AwayFromZero));
        b.WriteByte((byte)'}');
        return ProtocolResponse.Json(200, b.ToArray());
    }

    private static ProtocolResponse Ready(RequestContext ctx) => ProtocolResponse.Json(200, "{\"ready\":true}"u8.ToArray());

    private ProtocolResponse Metrics(RequestContext ctx)
    {
        long requests = Interlocked.Read(ref _metricRequests);
        double average = requests == 0 ? 0 : (double)Interlocked.Read(ref _metricLatencyMs) / requests;
        string text = string.Join(
            "\n",
            "# HELP agentsmcp_http_requests_total Total HTTP requests.",
            "# TYPE agentsmcp_http_requests_total counter",
            $"agentsmcp_http_requests_total {requests}",
            "# HELP agentsmcp_http_failures_total HTTP responses with status 500 or higher.",
            "# TYPE agentsmcp_http_failures_total counter",
            $"agentsmcp_http_failures_total {Interlocked.Read(ref _metricFailures)}",
            "# HELP agentsmcp_http_latency_ms_avg Average HTTP request latency in milliseconds.",
            "# TYPE agentsmcp_http_latency_ms_avg gauge",
            "agentsmcp_http_latency_ms_avg " + average.ToString("F2", CultureInfo.InvariantCulture),
            "# HELP agentsmcp_model_calls_total Total model calls.",
            "# TYPE agentsmcp_model_calls_total counter",
            "agentsmcp_model_calls_total 0",
            "# HELP agentsmcp_model_failures_total Failed model calls.",
            "# TYPE agentsmcp_model_failures_total counter",
            "agentsmcp_model_failures_total 0",
            "# HELP agentsmcp_model_latency_ms_avg Average model latency in milliseconds.",
            "# TYPE agentsmcp_model_latency_ms_avg gauge",
            "agentsmcp_model_latency_ms_avg 0.00",
            string.Empty);
        return ProtocolResponse.Send(200, Encoding.UTF8.GetBytes(text), "text/plain; charset=utf-8");
    }

    /// <summary>
    /// The static file middleware (serve-static) in front of the web UI: a path that decodes and
    /// normalizes to one of the UI's directories gets a 301 to the same path with a slash (or,
    /// with the slash, the UI's index.html), and <c>index.html</c> itself is served. Everything
    /// else falls through. This is why <c>GET /mailbox/..</c> never reaches the mailbox route.
    /// </summary>
    private static ProtocolResponse? StaticFiles(IncomingRequest request, string requestId)
    {
        string? decoded = JsUri.DecodeUriComponent(request.RawPath);
        if (decoded is null || decoded.Contains('\0'))
        {
            return null;
        }

        string normalized = PosixNormalize("./" + decoded);
        if (UpPathRegex().IsMatch(normalized))
        {
            return null;
        }

        bool trailingSlash = request.RawPath.EndsWith('/');
        string target = normalized.Length > 1 && normalized.EndsWith('/') ? normalized[..^1] : normalized;
        if (trailingSlash)
        {
            return target == "." ? UiPage() : null;
        }

        if (target == "index.html")
        {
            return UiPage();
        }

        if (target is not ("." or "assets"))
        {
            return null;
        }

        string path = "/" + request.RawPath.TrimStart('/') + "/";
        string location = JsUri.EncodeUrl(path + (request.RawQuery.Length > 0 ? "?" + request.RawQuery : string.Empty));
        string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Redirecting</title>\n</head>\n<body>\n<pre>Redirecting to "
            + JsUri.EscapeHtml(location) + "</pre>\n</body>\n</html>\n";
        var response = new ProtocolResponse { Status = 301, Body = Encoding.UTF8.GetBytes(html) };
        response.Headers.Add(new KeyValuePair<string, string>("X-Powered-By", "Express"));
        response.Headers.Add(new KeyValuePair<string, string>("Content-Type", "text/html; charset=UTF-8"));
        response.Headers.Add(new KeyValuePair<string, string>("Content-Security-Policy", "default-src 'none'"));
        response.Headers.Add(new KeyValuePair<string, string>("X-Content-Type-Options", "nosniff"));
        response.Headers.Add(new KeyValuePair<string, string>("Location", location));
        return response;
    }

    [GeneratedRegex(@"(?:^|[\\/])\.\.(?:[\\/]|$)")]
    private static partial Regex UpPathRegex();

    /// <summary>Node's <c>path.posix.normalize</c>.</summary>
    private static string PosixNormalize(string path)
    {
        if (path.Length == 0)
        {
            return ".";
        }

        bool absolute = path[0] == '/';
        bool trailing = path[^1] == '/';
        var stack = new List<string>();
        foreach (string part in path.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (stack.Count > 0 && stack[^1] != "..")
                {
                    stack.RemoveAt(stack.Count - 1);
                }
                else if (!absolute)
                {
                    stack.Add("..");
                }

                continue;
            }

            stack.Add(part);
        }

        string result = string.Join('/', stack);
        if (result.Length == 0 && !absolute)
        {
            result = ".";
        }

        if (result.Length > 0 && trailing)
        {
            result += "/";
        }

        return absolute ? "/" + result : result;
    }

    /// <summary>The bundled web UI's index.html, which the reference server serves for any GET outside the API prefixes.</summary>
    private static ProtocolResponse WebUi(RequestContext ctx) => UiPage();

    private static ProtocolResponse UiPage()
    {
        const string html = """
            <!doctype html>
            <html lang="en">
              <head>
                <meta charset="UTF-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1.0" />
                <meta name="theme-color" content="#f7faf7" />
                <meta name="description" content="AgentMailbox legacy system knowledge workspace" />
                <title>AgentMailbox | Mainframe Knowledge</title>
                <script type="module" crossorigin src="/assets/index-CkC-weU1.js"></script>
                <link rel="stylesheet" crossorigin href="/assets/index-xADHwLpF.css">
              </head>
              <body><div id="root"></div></body>
            </html>

            """;
        return ProtocolResponse.Send(200, Encoding.UTF8.GetBytes(html), "text/html; charset=UTF-8");
    }

    private static string BaseUrl(RequestContext ctx)
    {
        string? fromEnv = Environment.GetEnvironmentVariable("AGENTSMCP_BASE_URL");
        if (string.IsNullOrEmpty(fromEnv))
        {
            fromEnv = Environment.GetEnvironmentVariable("AGENTMAILBOX_BASE_URL");
        }

        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv.EndsWith('/') ? fromEnv[..^1] : fromEnv;
        }

        return "http://" + ctx.Request.Header("Host");
    }

    private ProtocolResponse ServerCard(RequestContext ctx)
    {
        var b = new ByteBuffer(4096);
        b.WriteRaw(ServerCardPrefix);
        JsJsonWriter.WriteString(b, BaseUrl(ctx));
        b.WriteRaw(ServerCardMiddle);
        b.Write(_apiKey.Length > 0 ? "\"required\"}"u8 : "\"none\"}"u8);
        return ProtocolResponse.Json(200, b.ToArray());
    }

    private ProtocolResponse AgentCard(RequestContext ctx)
    {
        string agentId = ctx.Params[0];
        if (!_store.TryGetAgentCard(agentId, out long createdAt, out int threadCount, out long unreadCount))
        {
            return ProtocolResponse.Json(404, "{\"error\":\"agent not found\"}"u8.ToArray());
        }

        string baseUrl = BaseUrl(ctx);
        string mailboxUrl = baseUrl + "/mailbox/" + JsUri.EncodeUriComponent(agentId);
        var b = new ByteBuffer();
        b.Write("{\"name\":"u8);
        JsJsonWriter.WriteString(b, agentId);
        b.Write(",\"description\":"u8);
        JsJsonWriter.WriteString(b, $"Registered agent on this AgentMailbox instance ({threadCount} thread(s)).");
        b.Write(",\"url\":"u8);
        JsJsonWriter.WriteString(b, mailboxUrl);
        b.Write(",\"version\":\"0.5.2\",\"capabilities\":{\"messaging\":true,\"threading\":true,\"coldRestart\":true},\"provider\":{\"organization\":\"AgentMailbox\",\"url\":\"https://github.com/RagavRida/agentsmcp\"},\"securitySchemes\":{\"bearerAuth\":{\"type\":\"http\",\"scheme\":\"bearer\"}},\"authentication\":"u8);
        b.Write(_apiKey.Length > 0 ? "\"required\""u8 : "\"none\""u8);
        b.Write(",\"agentId\":"u8);
        JsJsonWriter.WriteString(b, agentId);
        b.Write(",\"createdAt\":"u8);
        JsJsonWriter.WriteNumber(b, createdAt);
        b.Write(",\"threadCount\":"u8);
        JsJsonWriter.WriteNumber(b, threadCount);
        b.Write(",\"unreadCount\":"u8);
        JsJsonWriter.WriteNumber(b, unreadCount);
        b.Write(",\"endpoints\":{\"mailbox\":"u8);
        JsJsonWriter.WriteString(b, mailboxUrl);
        b.Write(",\"unread\":"u8);
        JsJsonWriter.WriteString(b, mailboxUrl + "/unread");
        b.Write(",\"markRead\":"u8);
        JsJsonWriter.WriteString(b, mailboxUrl + "/read");
        b.Write("}}"u8);
        return ProtocolResponse.Json(200, b.ToArray());
    }

    private ProtocolResponse RegisterAgent(RequestContext ctx)
    {
        var errors = new ZodErrors();
        string? agentId = Schemas.ParseRegister(ctx.Request.Body, errors);
        return agentId is null ? ZodError(errors) : FromStore(_store.RegisterAgent(agentId), ctx.RequestId);
    }

    private ProtocolResponse SendMessage(RequestContext ctx)
    {
        var errors = new ZodErrors();
        SendRequest? send = Schemas.ParseSend(ctx.Request.Body, errors);
        if (send is null)
        {
            return ZodError(errors);
        }

        if (ctx.Request.BodyDepth > MaxBodyDepth)
        {
            return ProtocolResponse.ErrorWithRequestId(500, "Maximum call stack size exceeded", ctx.RequestId);
        }

        return FromStore(_store.Send(send), ctx.RequestId);
    }

    private ProtocolResponse ReplyAll(RequestContext ctx)
    {
        var errors = new ZodErrors();
        ReplyAllRequest? reply = Schemas.ParseReplyAll(ctx.Request.Body, errors);
        if (reply is null)
        {
            return ZodError(errors);
        }

        if (ctx.Request.BodyDepth > MaxBodyDepth)
        {
            return ProtocolResponse.ErrorWithRequestId(500, "Maximum call stack size exceeded", ctx.RequestId);
        }

        return FromStore(_store.ReplyAll(reply), ctx.RequestId);
    }

    private ProtocolResponse GetMailbox(RequestContext ctx)
    {
        double limit = QueryNumber(ctx.Query("limit"), 100, 1, 1000);
        double offset = QueryNumber(ctx.Query("offset"), 0, 0, 9007199254740991);
        return FromStore(_store.Mailbox(ctx.Params[0], limit, offset), ctx.RequestId);
    }

    private ProtocolResponse GetUnread(RequestContext ctx)
    {
        double recent = QueryNumber(ctx.Query("recent"), 10, 1, 50);
        return FromStore(_store.Unread(ctx.Params[0], recent), ctx.RequestId);
    }

    private ProtocolResponse MarkRead(RequestContext ctx)
    {
        var errors = new ZodErrors();
        string? threadId = Schemas.ParseMarkRead(ctx.Request.Body, errors);
        return threadId is null ? ZodError(errors) : FromStore(_store.MarkRead(ctx.Params[0], threadId), ctx.RequestId);
    }

    private ProtocolResponse GetThread(RequestContext ctx) =>
        FromStore(_store.Thread(ctx.Params[0], ctx.Query("as").AsString), ctx.RequestId);

    private ProtocolResponse SyncThread(RequestContext ctx)
    {
        double recent = QueryNumber(ctx.Query("recent"), 10, 1, 50);
        return FromStore(_store.Sync(ctx.Params[0], ctx.Query("as").AsString, recent), ctx.RequestId);
    }

    private ProtocolResponse GetParticipants(RequestContext ctx) =>
        FromStore(_store.Participants(ctx.Params[0], ctx.Query("as").AsString), ctx.RequestId);

    private const string ServerCardPrefix =
        "{\"name\":\"AgentMailbox\",\"description\":\"Context-sync protocol for AI agents. Durable threads with cold-restart, context compression, and email-like semantics (TO/CC/BCC/ReplyAll).\",\"url\":";

    private const string ServerCardMiddle =
        ",\"version\":\"" + ServerVersion + "\",\"capabilities\":{\"messaging\":true,\"threading\":true,\"contextCompression\":true,\"coldRestart\":true,\"multiAgent\":true},"
        + "\"skills\":[{\"id\":\"send-message\",\"name\":\"Send Message\",\"description\":\"Send a message to another agent with optional CC/BCC recipients and context snapshot\","
        + "\"inputSchema\":{\"type\":\"object\",\"required\":[\"from\",\"to\",\"payload\"],\"properties\":{\"from\":{\"type\":\"string\",\"minLength\":1},\"to\":{\"type\":\"string\",\"minLength\":1},\"payload\":{},\"contextSnapshot\":{\"type\":\"object\",\"additionalProperties\":true},\"threadId\":{\"type\":\"string\"},\"cc\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1}},\"bcc\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"minLength\":1}},\"replyTo\":{\"type\":\"string\",\"minLength\":1}}},"
        + "\"outputSchema\":{\"type\":\"object\",\"required\":[\"messageId\",\"threadId\",\"deliveredTo\"],\"properties\":{\"messageId\":{\"type\":\"string\"},\"threadId\":{\"type\":\"string\"},\"deliveredTo\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}},"
        + "{\"id\":\"receive-messages\",\"name\":\"Receive Messages\",\"description\":\"Get unread messages with full thread context (snapshot, summary, recent messages)\",\"inputSchema\":{\"type\":\"object\",\"properties\":{}},"
        + "\"outputSchema\":{\"type\":\"object\",\"required\":[\"messages\"],\"properties\":{\"messages\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}}}},"
        + "{\"id\":\"sync-thread\",\"name\":\"Sync Thread\",\"description\":\"Rejoin a thread and get the full assembled context frame\",\"inputSchema\":{\"type\":\"object\",\"required\":[\"threadId\"],\"properties\":{\"threadId\":{\"type\":\"string\"}}},"
        + "\"outputSchema\":{\"type\":\"object\",\"required\":[\"context\"],\"properties\":{\"context\":{\"type\":\"object\"}}}},"
        + "{\"id\":\"reply-all\",\"name\":\"Reply All\",\"description\":\"Reply to every visible participant on a thread\",\"inputSchema\":{\"type\":\"object\",\"required\":[\"from\",\"threadId\",\"payload\"],\"properties\":{\"from\":{\"type\":\"string\",\"minLength\":1},\"threadId\":{\"type\":\"string\",\"minLength\":1},\"payload\":{},\"contextSnapshot\":{\"type\":\"object\",\"additionalProperties\":true}}},"
        + "\"outputSchema\":{\"type\":\"object\",\"required\":[\"messageId\",\"threadId\",\"deliveredTo\"],\"properties\":{\"messageId\":{\"type\":\"string\"},\"threadId\":{\"type\":\"string\"},\"deliveredTo\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}}],"
        + "\"provider\":{\"organization\":\"AgentMailbox\",\"url\":\"https://github.com/RagavRida/agentsmcp\"},\"securitySchemes\":{\"bearerAuth\":{\"type\":\"http\",\"scheme\":\"bearer\"}},\"authentication\":";
}
