using System.Text;
using AgentMailbox.MockServer.Protocol;
using Microsoft.AspNetCore.Http;

namespace AgentMailbox.MockServer;

/// <summary>The registered fault rules. Thread-safe; matching consumes one hit.</summary>
internal sealed class FaultRegistry
{
    private readonly object _gate = new();
    private readonly List<Entry> _rules = [];
    private int _nextId;

    private sealed class Entry(string id, FaultRule rule)
    {
        public string Id { get; } = id;

        public FaultRule Rule { get; } = rule;

        public int Remaining { get; set; } = rule.Count;

        public int Hits { get; set; }
    }

    public string Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (string.IsNullOrEmpty(rule.Path))
        {
            throw new ArgumentException("A fault rule needs a path.", nameof(rule));
        }

        if (rule.Count == 0 || rule.Count < -1)
        {
            throw new ArgumentException("Count must be positive, or -1 for forever.", nameof(rule));
        }

        var copy = new FaultRule
        {
            Method = rule.Method,
            Path = rule.Path,
            Count = rule.Count,
            Status = rule.Status,
            Body = rule.Body,
            ContentType = rule.ContentType,
            Headers = rule.Headers is null ? null : new Dictionary<string, string>(rule.Headers, StringComparer.OrdinalIgnoreCase),
            DelayMs = rule.DelayMs,
            Action = rule.Action,
            AfterHandler = rule.AfterHandler,
        };
        lock (_gate)
        {
            string id = "fault-" + (++_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _rules.Add(new Entry(id, copy));
            return id;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    public IReadOnlyList<FaultRuleInfo> List()
    {
        lock (_gate)
        {
            return _rules.Select(e => new FaultRuleInfo(e.Id, e.Rule, e.Remaining, e.Hits)).ToList();
        }
    }

    /// <summary>The first live rule that matches, with one hit consumed.</summary>
    public (string Id, FaultRule Rule)? Match(string method, string rawPath)
    {
        lock (_gate)
        {
            foreach (Entry e in _rules)
            {
                if (e.Remaining == 0)
                {
                    continue;
                }

                if (e.Rule.Method is { Length: > 0 } m && !string.Equals(m, method, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (!PathMatches(e.Rule.Path, rawPath))
                {
                    continue;
                }

                if (e.Remaining > 0)
                {
                    e.Remaining--;
                }

                e.Hits++;
                return (e.Id, e.Rule);
            }

            return null;
        }
    }

    private static bool PathMatches(string pattern, string rawPath) =>
        pattern.EndsWith('*')
            ? rawPath.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase)
            : string.Equals(pattern, rawPath, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Runs a request through the protocol pipeline and writes the answer, applying a fault rule.</summary>
internal static class FaultExecutor
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan ResetGrace = TimeSpan.FromMilliseconds(100);

    /// <param name="http">The request.</param>
    /// <param name="fault">The fault rule that matched, if any.</param>
    /// <param name="handler">Runs the protocol pipeline.</param>
    /// <param name="requestId">The request id to put on a response the fault makes up.</param>
    /// <param name="record">The request log entry to complete.</param>
    /// <param name="stopping">Signalled when the server shuts down; ends delays and stalls early.</param>
    public static async Task RunAsync(
        HttpContext http,
        (string Id, FaultRule Rule)? fault,
        Func<ProtocolResponse> handler,
        string requestId,
        RecordedRequest record,
        CancellationToken stopping)
    {
        FaultRule? rule = fault?.Rule;
        record.FaultId = fault?.Id;
        if (rule is { DelayMs: > 0 })
        {
            try
            {
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
                await Task.Delay(rule.DelayMs, delay.Token);
            }
            catch (OperationCanceledException)
            {
                record.Status = 0;
                return;
            }
        }

        bool replaces = rule is not null && (rule.Status is not null || rule.Action == FaultAction.Html);
        if (rule is { AfterHandler: false, Action: FaultAction.Drop })
        {
            record.Status = 0;
            http.Abort();
            return;
        }

        ProtocolResponse response;
        if (rule is { AfterHandler: false } && replaces)
        {
            response = BuildFaultResponse(rule, requestId);
        }
        else
        {
            response = handler();
            if (rule is { AfterHandler: true } && replaces)
            {
                response = BuildFaultResponse(rule, response.RequestId ?? requestId);
            }
        }

        if (rule?.Headers is { } extra)
        {
            foreach (KeyValuePair<string, string> h in extra)
            {
                response.SetHeader(h.Key, h.Value);
            }
        }

        record.RequestId = response.RequestId;
        await WriteAsync(http, response, rule?.Action ?? FaultAction.None, record, stopping);
    }

    private static ProtocolResponse BuildFaultResponse(FaultRule rule, string requestId)
    {
        bool html = rule.Action == FaultAction.Html;
        int status = rule.Status ?? 502;
        byte[] body;
        string contentType;
        if (rule.Body is not null)
        {
            body = Encoding.UTF8.GetBytes(rule.Body);
            contentType = rule.ContentType ?? (html ? "text/html" : ProtocolResponse.JsonContentType);
        }
        else if (html)
        {
            string reason = ReasonPhrase(status);
            body = Encoding.UTF8.GetBytes(
                $"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
            contentType = rule.ContentType ?? "text/html";
        }
        else
        {
            body = ProtocolResponse.ErrorWithRequestId(status, "mock fault", requestId).Body;
            contentType = rule.ContentType ?? ProtocolResponse.JsonContentType;
        }

        var response = new ProtocolResponse { Status = status, Body = body };
        response.Headers.Add(new KeyValuePair<string, string>("Content-Type", contentType));
        if (!html)
        {
            response.RequestId = requestId;
            response.Headers.Add(new KeyValuePair<string, string>("X-Request-Id", requestId));
        }

        return response;
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

    /// <summary>Writes a buffered response, possibly broken in the way <paramref name="action"/> says.</summary>
    public static async Task WriteAsync(
        HttpContext http, ProtocolResponse response, FaultAction action, RecordedRequest record, CancellationToken stopping)
    {
        if (action == FaultAction.Drop)
        {
            record.Status = 0;
            http.Abort();
            return;
        }

        byte[] body = response.Body;
        int status = action == FaultAction.Truncate ? 200 : response.Status;
        if (action == FaultAction.Truncate)
        {
            body = body.AsSpan(0, body.Length / 2).ToArray();
        }

        HttpResponse res = http.Response;
        res.StatusCode = status;
        foreach (KeyValuePair<string, string> h in response.Headers)
        {
            res.Headers.Append(h.Key, h.Value);
        }

        bool bodyAllowed = status is not (204 or 304) && status >= 200;
        if (bodyAllowed)
        {
            res.ContentLength = body.Length;
        }

        record.Status = status;
        bool writeBody = bodyAllowed && !HttpMethods.IsHead(http.Request.Method);
        try
        {
            switch (action)
            {
                case FaultAction.ResetMidBody:
                    if (writeBody)
                    {
                        await res.Body.WriteAsync(body.AsMemory(0, body.Length / 2), http.RequestAborted);
                    }

                    await res.Body.FlushAsync(http.RequestAborted);

                    // Give the transport a moment to put the partial body on the wire; an
                    // immediate abort discards whatever is still buffered.
                    await Task.Delay(ResetGrace, http.RequestAborted);
                    http.Abort();
                    break;
                case FaultAction.Stall:
                case FaultAction.StallMidBody:
                    await res.StartAsync(http.RequestAborted);
                    if (action == FaultAction.StallMidBody && writeBody)
                    {
                        await res.Body.WriteAsync(body.AsMemory(0, body.Length / 2), http.RequestAborted);
                    }
                    await res.Body.FlushAsync(http.RequestAborted);
                    try
                    {
                        using var stall = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
                        await Task.Delay(StallLimit, stall.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    http.Abort();
                    break;
                default:
                    if (writeBody && body.Length > 0)
                    {
                        await res.Body.WriteAsync(body, http.RequestAborted);
                    }

                    break;
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The client went away.
        }
    }
}
