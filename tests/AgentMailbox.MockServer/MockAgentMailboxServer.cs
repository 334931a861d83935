using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMailbox.MockServer.Json;
using AgentMailbox.MockServer.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentMailbox.MockServer;

/// <summary>
/// An in-memory AgentMailbox server that answers like the reference server (agentsmcp 0.5.2),
/// plus a test-only control API under <c>/_mock/</c> (request log, fault injection, a hook for
/// the mark-read race, state counts). Start it in process with <see cref="StartAsync"/>, or as
/// a process through its entry point.
/// </summary>
public sealed class MockAgentMailboxServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions ControlJson = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly WebApplication _app;
    private readonly MockServerOptions _options;
    private readonly Store _store = new();
    private readonly FaultRegistry _faults = new();
    private readonly RequestLog _log;
    private readonly ExpressApp _express;
    private int _disposed;

    private MockAgentMailboxServer(WebApplication app, MockServerOptions options)
    {
        _app = app;
        _options = options;
        _log = new RequestLog(options.MaxRecordedRequests);
        _express = new ExpressApp(_store, string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey);
    }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The requests received so far (control requests excluded), in arrival order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _log.Snapshot();

    /// <summary>The registered fault rules with their remaining hits.</summary>
    public IReadOnlyList<FaultRuleInfo> Faults => _faults.List();

    /// <summary>Starts a server (by default on a free loopback port) and returns once it listens.</summary>
    public static Task<MockAgentMailboxServer> StartAsync(MockServerOptions? options = null, CancellationToken cancellationToken = default) =>
        StartCoreAsync(options ?? new MockServerOptions(), handleSignals: false, cancellationToken);

    internal static async Task<MockAgentMailboxServer> StartCoreAsync(MockServerOptions options, bool handleSignals, CancellationToken cancellationToken)
    {
        if (options.JsonLimitBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "JsonLimitBytes must not be negative.");
        }

        IPEndPoint endpoint = ParseListenUrl(options.Url);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Listen(endpoint);
        });
        if (!handleSignals)
        {
            builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        }

        WebApplication app = builder.Build();
        var server = new MockAgentMailboxServer(app, options);
        server.Configure();
        await app.StartAsync(cancellationToken);

        string address = app.Urls.First();
        var bound = new Uri(address);
        string host = bound.Host is "0.0.0.0" or "[::]" ? "127.0.0.1" : bound.Host;
        server.BaseUri = new Uri($"http://{host}:{bound.Port}/");
        return server;
    }

    private static IPEndPoint ParseListenUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            // Kestrel's "http://*:port" and "http://+:port" forms do not parse as URIs.
            string rest = url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? url[7..].TrimEnd('/') : url;
            int colon = rest.LastIndexOf(':');
            if (colon > 0 && rest[..colon] is "*" or "+" && int.TryParse(rest[(colon + 1)..], out int anyPort))
            {
                return new IPEndPoint(IPAddress.Any, anyPort);
            }

            throw new ArgumentException($"Unsupported listen URL '{url}'; use http://<ip>:<port>.", nameof(url));
        }

        IPAddress ip = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(uri.Host, out IPAddress? parsed) => parsed,
            _ => throw new ArgumentException($"Unsupported listen host '{uri.Host}'; use an IP address.", nameof(url)),
        };
        return new IPEndPoint(ip, uri.Port);
    }

    private void Configure()
    {
        _app.Use(async (HttpContext http, RequestDelegate next) =>
        {
            (string rawPath, string rawQuery) = RawTarget(http);
            if (rawPath.StartsWith("/_mock/", StringComparison.OrdinalIgnoreCase) || rawPath.Equals("/_mock", StringComparison.OrdinalIgnoreCase))
            {
                await next(http);
                return;
            }

            await HandleProtocolAsync(http, rawPath, rawQuery);
        });

        _app.MapPost("/_mock/reset", ResetEndpoint);
        _app.MapGet("/_mock/requests", RequestsEndpoint);
        _app.MapDelete("/_mock/requests", ClearRequestsEndpoint);
        _app.MapGet("/_mock/faults", ListFaultsEndpoint);
        _app.MapPost("/_mock/faults", AddFaultEndpoint);
        _app.MapDelete("/_mock/faults", ClearFaultsEndpoint);
        _app.MapGet("/_mock/hooks", HooksEndpoint);
        _app.MapPost("/_mock/hooks/before-read", SetBeforeReadHookEndpoint);
        _app.MapDelete("/_mock/hooks", ClearHooksEndpoint);
        _app.MapGet("/_mock/state", StateEndpoint);
    }

    private static (string Path, string Query) RawTarget(HttpContext http)
    {
        string target = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (http.Request.PathBase + http.Request.Path + http.Request.QueryString);
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            int slash = target.IndexOf('/', target.IndexOf("//", StringComparison.Ordinal) + 2);
            target = slash < 0 ? "/" : target[slash..];
        }

        int hash = target.IndexOf('#');
        if (hash >= 0)
        {
            target = target[..hash];
        }

        int question = target.IndexOf('?');
        return question < 0 ? (target, string.Empty) : (target[..question], target[(question + 1)..]);
    }

    private async Task HandleProtocolAsync(HttpContext http, string rawPath, string rawQuery)
    {
        HttpRequest request = http.Request;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> h in request.Headers)
        {
            headers[h.Key] = string.Join(", ", h.Value.ToArray());
        }

        var record = new RecordedRequest { Method = request.Method, Path = rawPath, Query = rawQuery, Headers = headers };
        _log.Add(record);

        BodyReadResult body;
        try
        {
            body = await BodyParser.ReadAsync(http, _options.JsonLimitBytes);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            record.Status = 0;
            http.Abort();
            return;
        }

        record.Body = body.LogText;
        record.BodyTruncated = body.LogTruncated;

        var incoming = new IncomingRequest
        {
            Method = request.Method,
            RawPath = rawPath,
            RawQuery = rawQuery,
            Header = name => HeaderValue(request, name),
            Body = body.Body,
            BodyDepth = body.Depth,
            BodyError = body.Error,
        };
        (string Id, FaultRule Rule)? fault = _faults.Match(request.Method, rawPath);
        string requestId = ExpressApp.AssignRequestId(HeaderValue(request, "X-Request-Id"));
        await FaultExecutor.RunAsync(http, fault, () => _express.Handle(incoming), requestId, record, _app.Lifetime.ApplicationStopping);
    }

    /// <summary>A request header as Node.js presents it: repeated headers joined with ", ",
    /// except those Node keeps only once.</summary>
    private static string? HeaderValue(HttpRequest request, string name)
    {
        if (!request.Headers.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues values) || values.Count == 0)
        {
            return null;
        }

        return name.ToLowerInvariant() switch
        {
            "authorization" or "host" or "content-type" or "if-modified-since" => values[0],
            _ => string.Join(", ", values.ToArray()),
        };
    }

    // ------------------------------------------------------------------ C# control API

    /// <summary>Clears all state, fault rules, hooks and the request log.</summary>
    public void Reset()
    {
        _store.Reset();
        _faults.Clear();
        _log.Clear();
        _express.ResetMetrics();
    }

    /// <summary>Adds a fault rule and returns its id.</summary>
    public string AddFault(FaultRule rule) => _faults.Add(rule);

    public void ClearFaults() => _faults.Clear();

    public void ClearRequests() => _log.Clear();

    /// <summary>Arms the one-shot mark-read race hook (see <see cref="BeforeReadHook"/>).</summary>
    public void SetBeforeReadHook(BeforeReadHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        var body = new JsObject();
        body.Set("from", hook.From);
        body.Set("to", hook.To);
        if (hook.ThreadId is not null)
        {
            body.Set("threadId", hook.ThreadId);
        }

        if (hook.PayloadJson is not null)
        {
            body.Set("payload", JsJsonParser.Parse(hook.PayloadJson));
        }

        if (hook.Cc is not null)
        {
            body.Set("cc", ToJsArray(hook.Cc));
        }

        if (hook.Bcc is not null)
        {
            body.Set("bcc", ToJsArray(hook.Bcc));
        }

        if (hook.ReplyTo is not null)
        {
            body.Set("replyTo", hook.ReplyTo);
        }

        if (hook.ContextSnapshotJson is not null)
        {
            body.Set("contextSnapshot", JsJsonParser.Parse(hook.ContextSnapshotJson));
        }

        var errors = new ZodErrors();
        SendRequest send = Schemas.ParseSend(body, errors) ?? throw new ArgumentException($"Invalid hook message: {errors}", nameof(hook));
        _store.SetBeforeReadHook(new BeforeReadHookState(hook.AgentId, send));
    }

    /// <summary>Arms the mark-read race hook from a <c>/messages/send</c> body (JSON text).</summary>
    public void SetBeforeReadHook(string sendBodyJson, string? agentId = null)
    {
        var errors = new ZodErrors();
        SendRequest send = Schemas.ParseSend(JsJsonParser.Parse(sendBodyJson), errors)
            ?? throw new ArgumentException($"Invalid hook message: {errors}", nameof(sendBodyJson));
        _store.SetBeforeReadHook(new BeforeReadHookState(agentId, send));
    }

    public void ClearHooks() => _store.SetBeforeReadHook(null);

    public MockStateCounts GetState()
    {
        (int agents, int threads, long messages) = _store.Counts();
        return new MockStateCounts(agents, threads, messages);
    }

    private static JsArray ToJsArray(IEnumerable<string> items)
    {
        var array = new JsArray();
        foreach (string item in items)
        {
            array.Add(item);
        }

        return array;
    }

    /// <summary>Completes when the server stops (a signal, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }

    // ------------------------------------------------------------------ HTTP control API

    private static Task WriteControlJson(HttpContext http, JsonNode? node, int status = 200)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        return http.Response.WriteAsync(node?.ToJsonString(ControlJson) ?? "null");
    }

    private static JsonObject Ok() => new() { ["ok"] = true };

    private static Task ControlError(HttpContext http, string message) =>
        WriteControlJson(http, new JsonObject { ["error"] = message }, 400);

    private static async Task<string> ReadBodyText(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(http.RequestAborted);
    }

    private Task ResetEndpoint(HttpContext http)
    {
        Reset();
        return WriteControlJson(http, Ok());
    }

    private Task RequestsEndpoint(HttpContext http)
    {
        var array = new JsonArray();
        foreach (RecordedRequest r in _log.Snapshot())
        {
            var headers = new JsonObject();
            foreach (KeyValuePair<string, string> h in r.Headers)
            {
                headers[h.Key] = h.Value;
            }

            array.Add(new JsonObject
            {
                ["method"] = r.Method,
                ["path"] = r.Path,
                ["query"] = r.Query,
                ["headers"] = headers,
                ["body"] = r.Body,
                ["bodyTruncated"] = r.BodyTruncated,
                ["requestId"] = r.RequestId,
                ["status"] = r.Status,
                ["faultId"] = r.FaultId,
                ["receivedAt"] = r.ReceivedAt.ToUnixTimeMilliseconds(),
            });
        }

        return WriteControlJson(http, array);
    }

    private Task ClearRequestsEndpoint(HttpContext http)
    {
        _log.Clear();
        return WriteControlJson(http, Ok());
    }

    private Task ListFaultsEndpoint(HttpContext http)
    {
        var array = new JsonArray();
        foreach (FaultRuleInfo info in _faults.List())
        {
            JsonObject? headers = null;
            if (info.Rule.Headers is { } h)
            {
                headers = [];
                foreach (KeyValuePair<string, string> kv in h)
                {
                    headers[kv.Key] = kv.Value;
                }
            }

            array.Add(new JsonObject
            {
                ["id"] = info.Id,
                ["method"] = info.Rule.Method,
                ["path"] = info.Rule.Path,
                ["count"] = info.Rule.Count,
                ["remaining"] = info.Remaining,
                ["hits"] = info.Hits,
                ["status"] = info.Rule.Status,
                ["body"] = info.Rule.Body,
                ["contentType"] = info.Rule.ContentType,
                ["headers"] = headers,
                ["delayMs"] = info.Rule.DelayMs,
                ["action"] = ActionName(info.Rule.Action),
                ["afterHandler"] = info.Rule.AfterHandler,
            });
        }

        return WriteControlJson(http, array);
    }

    private static string ActionName(FaultAction action) => action switch
    {
        FaultAction.Drop => "drop",
        FaultAction.ResetMidBody => "reset-mid-body",
        FaultAction.Truncate => "truncate",
        FaultAction.Html => "html",
        FaultAction.Stall => "stall",
        FaultAction.StallMidBody => "stall-mid-body",
        _ => "none",
    };

    private static FaultAction? ParseAction(string? name) => name?.ToLowerInvariant() switch
    {
        null or "" or "none" => FaultAction.None,
        "drop" => FaultAction.Drop,
        "reset-mid-body" or "resetmidbody" or "reset" => FaultAction.ResetMidBody,
        "truncate" => FaultAction.Truncate,
        "html" => FaultAction.Html,
        "stall" => FaultAction.Stall,
        "stall-mid-body" => FaultAction.StallMidBody,
        _ => null,
    };

    private async Task AddFaultEndpoint(HttpContext http)
    {
        string text = await ReadBodyText(http);
        FaultRule rule;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                await ControlError(http, "the fault rule must be a JSON object");
                return;
            }

            rule = new FaultRule();
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                switch (p.Name.ToLowerInvariant())
                {
                    case "method":
                        rule.Method = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString();
                        break;
                    case "path":
                        rule.Path = p.Value.GetString() ?? "*";
                        break;
                    case "count":
                        rule.Count = p.Value.GetInt32();
                        break;
                    case "status":
                        rule.Status = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetInt32();
                        break;
                    case "body":
                        rule.Body = p.Value.ValueKind switch
                        {
                            JsonValueKind.Null => null,
                            JsonValueKind.String => p.Value.GetString(),
                            _ => p.Value.GetRawText(),
                        };
                        break;
                    case "contenttype":
                        rule.ContentType = p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString();
                        break;
                    case "headers":
                        if (p.Value.ValueKind == JsonValueKind.Object)
                        {
                            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                            foreach (JsonProperty h in p.Value.EnumerateObject())
                            {
                                headers[h.Name] = h.Value.ValueKind == JsonValueKind.String ? h.Value.GetString()! : h.Value.GetRawText();
                            }

                            rule.Headers = headers;
                        }

                        break;
                    case "delayms":
                        rule.DelayMs = p.Value.GetInt32();
                        break;
                    case "action":
                        FaultAction? action = ParseAction(p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString());
                        if (action is null)
                        {
                            await ControlError(http, $"unknown action '{p.Value}' (none, drop, reset-mid-body, truncate, html, stall, stall-mid-body)");
                            return;
                        }

                        rule.Action = action.Value;
                        break;
                    case "afterhandler":
                        rule.AfterHandler = p.Value.GetBoolean();
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            await ControlError(http, "invalid fault rule: " + e.Message);
            return;
        }

        try
        {
            string id = _faults.Add(rule);
            await WriteControlJson(http, new JsonObject { ["ok"] = true, ["id"] = id });
        }
        catch (ArgumentException e)
        {
            await ControlError(http, e.Message);
        }
    }

    private Task ClearFaultsEndpoint(HttpContext http)
    {
        _faults.Clear();
        return WriteControlJson(http, Ok());
    }

    private Task HooksEndpoint(HttpContext http)
    {
        (bool pending, string? agentId, string? lastOutcome) = _store.HookState();
        return WriteControlJson(http, new JsonObject
        {
            ["beforeRead"] = new JsonObject
            {
                ["pending"] = pending,
                ["agentId"] = agentId,
                ["lastOutcome"] = lastOutcome,
            },
        });
    }

    private async Task SetBeforeReadHookEndpoint(HttpContext http)
    {
        string text = await ReadBodyText(http);
        object? body;
        try
        {
            body = JsJsonParser.Parse(text);
        }
        catch (JsJsonException e)
        {
            await ControlError(http, e.Message);
            return;
        }

        string? agentId = null;
        if (body is JsObject obj && obj.TryGetValue("agentId", out object? rawAgent))
        {
            if (rawAgent is not (string or null))
            {
                await ControlError(http, "agentId must be a string");
                return;
            }

            agentId = rawAgent as string;
        }

        var errors = new ZodErrors();
        SendRequest? send = Schemas.ParseSend(body, errors);
        if (send is null)
        {
            http.Response.StatusCode = 400;
            http.Response.ContentType = "application/json; charset=utf-8";
            await http.Response.Body.WriteAsync(errors.ToResponseBody());
            return;
        }

        _store.SetBeforeReadHook(new BeforeReadHookState(agentId, send));
        await WriteControlJson(http, Ok());
    }

    private Task ClearHooksEndpoint(HttpContext http)
    {
        ClearHooks();
        return WriteControlJson(http, Ok());
    }

    private Task StateEndpoint(HttpContext http)
    {
        MockStateCounts counts = GetState();
        return WriteControlJson(http, new JsonObject
        {
            ["agents"] = counts.Agents,
            ["threads"] = counts.Threads,
            ["messages"] = counts.Messages,
        });
    }

    /// <summary>A host lifetime that leaves process signals alone (for servers started inside tests).</summary>
    private sealed class PassiveLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
