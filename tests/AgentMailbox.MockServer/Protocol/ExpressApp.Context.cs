using AgentMailbox.MockServer.Json;

namespace AgentMailbox.MockServer.Protocol;

/// <summary>
/// The context routes of the reference server (graph, git-style commits, codebase index), in its
/// registration order, with its hand-written validation: string errors without a request id,
/// JavaScript truthiness and <c>Number()</c> coercion where the server uses them.
/// </summary>
internal sealed partial class ExpressApp
{
    private static readonly string[] NodeTypes = ["message", "file", "symbol", "decision", "task"];
    private static readonly string[] IndexCategories = ["file", "symbol", "api", "config", "architecture", "module", "overview"];
    private static readonly string[] MergeStrategies = ["union", "ours", "theirs"];

    /// <summary>
    /// The reference server hands a node or index entry to its database worker with
    /// <c>postMessage</c>, whose serializer recurses: metadata nested too deep overflows the stack
    /// (a 500, nothing stored). Measured on the reference server, an object level costs about 20
    /// units and an array level 19: 3066 nested objects pass and 3067 fail, 3226 arrays under one
    /// object pass and 3227 fail, 3145 alternating levels pass and 3146 fail.
    /// </summary>
    private const int WorkerStackBudget = 61330;

    /// <summary>The stack the worker's serializer needs for <paramref name="value"/>: the costliest
    /// path of nested objects (20) and arrays (19).</summary>
    private static int WorkerStackCost(object? value)
    {
        int costliest = 0;
        var stack = new Stack<(object? Value, int Cost)>();
        stack.Push((value, 0));
        while (stack.Count > 0)
        {
            (object? v, int cost) = stack.Pop();
            switch (v)
            {
                case JsObject o:
                    costliest = Math.Max(costliest, cost + 20);
                    foreach (KeyValuePair<string, object?> e in o.Entries)
                    {
                        stack.Push((e.Value, cost + 20));
                    }

                    break;
                case JsArray a:
                    costliest = Math.Max(costliest, cost + 19);
                    foreach (object? e in a)
                    {
                        stack.Push((e, cost + 19));
                    }

                    break;
            }
        }

        return costliest;
    }

    /// <summary>JavaScript <c>undefined</c>: a property the body does not have.</summary>
    private static readonly object Undefined = new();

    private Layer[] ContextRoutes() =>
    [
        Route("POST", "/mailbox/:agentId/graph/nodes", UpsertGraphNode),
        Route("POST", "/mailbox/:agentId/graph/edges", UpsertGraphEdge),
        Route("GET", "/mailbox/:agentId/graph/query", QueryGraph),
        Route("DELETE", "/mailbox/:agentId/graph/nodes/:nodeId", DeleteGraphNode),
        Route("DELETE", "/mailbox/:agentId/graph/edges", DeleteGraphEdge),
        Route("POST", "/mailbox/:agentId/git/commit", GitCommit),
        Route("DELETE", "/mailbox/:agentId/git/commits/:commitId", GitDeleteCommit),
        Route("GET", "/mailbox/:agentId/git/log", GitLog),
        Route("GET", "/mailbox/:agentId/git/commits/:commitId", GitGetCommit),
        Route("POST", "/mailbox/:agentId/git/restore/:commitId", GitRestore),
        Route("POST", "/mailbox/:agentId/git/merge", GitMerge),
        Route("GET", "/mailbox/:agentId/git/diff", GitDiff),
        Route("POST", "/mailbox/:agentId/index", UpsertIndexEntry),
        Route("GET", "/mailbox/:agentId/index/:key*", GetIndexEntry),
        Route("GET", "/mailbox/:agentId/index", SearchIndex),
        Route("DELETE", "/mailbox/:agentId/index/:key*", DeleteIndexEntry),
        Route("POST", "/mailbox/:agentId/index/check-staleness", CheckStaleness),
        Route("POST", "/mailbox/:agentId/index/rollup", RollupIndex),
    ];

    private static ProtocolResponse StringError(int status, string message)
    {
        var b = new ByteBuffer();
        b.Write("{\"error\":"u8);
        JsJsonWriter.WriteString(b, message);
        b.WriteByte((byte)'}');
        return ProtocolResponse.Json(status, b.ToArray());
    }

    private static ProtocolResponse Ok() => ProtocolResponse.Json(200, "{\"ok\":true}"u8.ToArray());

    /// <summary><c>(req.body ?? {})[name]</c>.</summary>
    private static object? Field(RequestContext ctx, string name) =>
        ctx.Request.Body is JsObject o && o.TryGetValue(name, out object? v) ? v : Undefined;

    private static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        double d => !(d == 0 || double.IsNaN(d)),
        string s => s.Length > 0,
        _ => !ReferenceEquals(v, Undefined),
    };

    /// <summary>JavaScript <c>Number(v)</c>.</summary>
    private static double ToNumber(object? v) => v switch
    {
        null => 0,
        bool b => b ? 1 : 0,
        double d => d,
        string s => JsNumber.FromString(s),
        JsArray a => JsNumber.FromString(ArrayToString(a)),
        _ => double.NaN,
    };

    /// <summary>JavaScript <c>String(v)</c> for the values a body can hold.</summary>
    private static string ToJsString(object? v) => v switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => JsNumber.ToJsString(d),
        string s => s,
        JsArray a => ArrayToString(a),
        _ => "[object Object]",
    };

    private static string ArrayToString(JsArray a) =>
        string.Join(",", a.Select(e => e is null ? string.Empty : ToJsString(e)));

    /// <summary><c>typeof v</c>.</summary>
    private static string TypeOf(object? v) => v switch
    {
        bool => "boolean",
        double => "number",
        string => "string",
        _ when ReferenceEquals(v, Undefined) => "undefined",
        _ => "object",
    };

    /// <summary>The server's metadata rule: absent, <c>null</c> (stored as {}) or a non-array object.</summary>
    private static bool BadMetadata(object? metadata) =>
        !ReferenceEquals(metadata, Undefined) && metadata is not null && metadata is not JsObject;

    private static byte[] MetadataJson(object? metadata) =>
        metadata is JsObject o ? JsJsonWriter.Serialize(o) : "{}"u8.ToArray();

    /// <summary>What Express's query parser (qs) made of parameter <paramref name="name"/>: null when
    /// absent, a string, a <see cref="JsArray"/> of strings (repeated keys, <c>x[]=</c>, <c>x[0]=</c>)
    /// or a <see cref="JsObject"/> (<c>x[key]=</c>).</summary>
    private static object? QueryShape(RequestContext ctx, string name)
    {
        QueryValue value = ctx.Query(name);
        switch (value.Kind)
        {
            case QueryValueKind.Missing:
                return null;
            case QueryValueKind.String:
                return value.Value;
            case QueryValueKind.SingleElementArray:
                return new JsArray { value.Value };
        }

        var values = new JsArray();
        foreach (string part in ctx.Request.RawQuery.Split('&'))
        {
            int eq = part.IndexOf('=');
            string key = QsDecode(eq < 0 ? part : part[..eq]);
            string text = eq < 0 ? string.Empty : QsDecode(part[(eq + 1)..]);
            if (key == name || key == name + "[]" || (key.StartsWith(name + "[", StringComparison.Ordinal) && key.EndsWith(']') && key[(name.Length + 1)..^1].All(char.IsAsciiDigit)))
            {
                values.Add(text);
            }
            else if (key.StartsWith(name + "[", StringComparison.Ordinal))
            {
                return new JsObject();
            }
        }

        return values;
    }

    private static string QsDecode(string s)
    {
        string withoutPlus = s.Replace('+', ' ');
        return JsUri.DecodeUriComponent(withoutPlus) ?? withoutPlus;
    }

    /// <summary>A query value as the server interpolates it into a string (<c>`${q}`</c>).</summary>
    private static string QueryText(RequestContext ctx, string name) => QueryShape(ctx, name) switch
    {
        null => string.Empty,
        object value => ToJsString(value),
    };

    // ------------------------------------------------------------------ graph

    private ProtocolResponse UpsertGraphNode(RequestContext ctx)
    {
        object? id = Field(ctx, "id");
        object? type = Field(ctx, "type");
        object? name = Field(ctx, "name");
        object? description = Field(ctx, "description");
        object? metadata = Field(ctx, "metadata");
        if (!Truthy(id) || id is not string nodeId)
        {
            return StringError(400, "id (string) is required");
        }

        if (type is not string nodeType || !NodeTypes.Contains(nodeType))
        {
            return StringError(400, "type must be one of: " + string.Join(", ", NodeTypes));
        }

        if (!Truthy(name) || name is not string nodeName)
        {
            return StringError(400, "name (string) is required");
        }

        if (BadMetadata(metadata))
        {
            return StringError(400, "metadata must be a JSON object");
        }

        if (ctx.Request.BodyDepth > WorkerStackBudget / 20 && WorkerStackCost(metadata) > WorkerStackBudget)
        {
            return ProtocolResponse.ErrorWithRequestId(500, "Maximum call stack size exceeded", ctx.RequestId);
        }

        _store.UpsertNode(ctx.Params[0], nodeId, nodeType, nodeName, description as string, MetadataJson(metadata));
        var b = new ByteBuffer();
        b.Write("{\"ok\":true,\"nodeId\":"u8);
        JsJsonWriter.WriteString(b, nodeId);
        b.WriteByte((byte)'}');
        return ProtocolResponse.Json(200, b.ToArray());
    }

    private ProtocolResponse UpsertGraphEdge(RequestContext ctx)
    {
        object? source = Field(ctx, "sourceId");
        object? target = Field(ctx, "targetId");
        object? type = Field(ctx, "type");
        object? weight = Field(ctx, "weight");
        if (!Truthy(source) || source is not string sourceId)
        {
            return StringError(400, "sourceId (string) is required");
        }

        if (!Truthy(target) || target is not string targetId)
        {
            return StringError(400, "targetId (string) is required");
        }

        if (!Truthy(type) || type is not string edgeType)
        {
            return StringError(400, "type (string) is required");
        }

        double w = ReferenceEquals(weight, Undefined) ? 1.0 : ToNumber(weight);
        if (!double.IsFinite(w) || w <= 0)
        {
            return StringError(400, "weight must be a positive finite number");
        }

        _store.AddEdge(sourceId, targetId, edgeType, w);
        return Ok();
    }

    private ProtocolResponse QueryGraph(RequestContext ctx)
    {
        string q = QueryText(ctx, "q");
        if (q.Length == 0)
        {
            return StringError(400, "q query parameter is required");
        }

        double limit = QueryNumber(ctx.Query("limit"), 30, 1, 200);
        double depth = QueryNumber(ctx.Query("depth"), 2, 1, 5);
        return FromStore(_store.QueryGraph(ctx.Params[0], q, limit, depth), ctx.RequestId);
    }

    private ProtocolResponse DeleteGraphNode(RequestContext ctx)
    {
        _store.DeleteNode(ctx.Params[0], ctx.Params[1]);
        return Ok();
    }

    private ProtocolResponse DeleteGraphEdge(RequestContext ctx)
    {
        object? source = Field(ctx, "sourceId");
        object? target = Field(ctx, "targetId");
        object? type = Field(ctx, "type");
        if (!Truthy(source) || !Truthy(target) || !Truthy(type))
        {
            return StringError(400, "sourceId, targetId, and type are required");
        }

        SqlArg s = SqlArg.FromJs(source), t = SqlArg.FromJs(target), ty = SqlArg.FromJs(type);
        if ((s.BindError ?? t.BindError ?? ty.BindError) is { } bindError)
        {
            return ProtocolResponse.ErrorWithRequestId(500, bindError, ctx.RequestId);
        }

        _store.DeleteEdge(s.Text, t.Text, ty.Text);
        return Ok();
    }

    // ------------------------------------------------------------------ git

    private ProtocolResponse GitCommit(RequestContext ctx)
    {
        object? message = Field(ctx, "message");
        object? branch = Field(ctx, "branch");
        object? keepLast = Field(ctx, "keepLast");
        if (!Truthy(message) || message is not string text)
        {
            return StringError(400, "message (string) is required");
        }

        double? keep = ReferenceEquals(keepLast, Undefined) ? null : ToNumber(keepLast);
        if (keep is { } k && (!double.IsFinite(k) || k < 1))
        {
            return StringError(400, "keepLast must be a positive integer");
        }

        SqlArg branchArg = ReferenceEquals(branch, Undefined) || branch is null ? SqlArg.From("main") : SqlArg.FromJs(branch);
        return FromStore(_store.CreateCommit(ctx.Params[0], SqlArg.From(text), branchArg, keep), ctx.RequestId);
    }

    private ProtocolResponse GitDeleteCommit(RequestContext ctx) =>
        FromStore(_store.DeleteCommit(ctx.Params[0], ctx.Params[1]), ctx.RequestId);

    private ProtocolResponse GitLog(RequestContext ctx)
    {
        object? branch = QueryShape(ctx, "branch");
        QueryValue rawLimit = ctx.Query("limit");
        double raw = rawLimit.Kind == QueryValueKind.Missing ? 20 : rawLimit.ToJsNumber();
        double limit = double.IsFinite(raw) ? Math.Max(1, Math.Min(raw, 100)) : 20;
        string? branchName = null;
        if (branch is not null and not "")
        {
            SqlArg arg = SqlArg.FromJs(branch);
            if (arg.BindError is { } bindError)
            {
                return ProtocolResponse.ErrorWithRequestId(500, bindError, ctx.RequestId);
            }

            branchName = arg.Text;
        }

        return FromStore(_store.ListCommits(ctx.Params[0], branchName, limit), ctx.RequestId);
    }

    private ProtocolResponse GitGetCommit(RequestContext ctx) =>
        FromStore(_store.GetCommit(ctx.Params[0], ctx.Params[1]), ctx.RequestId);

    private ProtocolResponse GitRestore(RequestContext ctx) =>
        FromStore(_store.RestoreCommit(ctx.Params[0], ctx.Params[1]), ctx.RequestId);

    private ProtocolResponse GitMerge(RequestContext ctx)
    {
        object? from = Field(ctx, "fromBranch");
        object? to = Field(ctx, "toBranch");
        object? strategy = Field(ctx, "strategy");
        object? message = Field(ctx, "message");
        if (!Truthy(from) || from is not string fromBranch)
        {
            return StringError(400, "fromBranch (string) is required");
        }

        if (!Truthy(to) || to is not string toBranch)
        {
            return StringError(400, "toBranch (string) is required");
        }

        if (Truthy(strategy) && !(strategy is string s && MergeStrategies.Contains(s)))
        {
            return StringError(400, "strategy must be one of: " + string.Join(", ", MergeStrategies));
        }

        string strategyName = ReferenceEquals(strategy, Undefined) || strategy is null ? "union" : ToJsString(strategy);
        SqlArg? text = ReferenceEquals(message, Undefined) || message is null ? null : SqlArg.FromJs(message);
        return FromStore(_store.Merge(ctx.Params[0], fromBranch, toBranch, strategyName, text), ctx.RequestId);
    }

    private ProtocolResponse GitDiff(RequestContext ctx)
    {
        object? from = QueryShape(ctx, "from");
        if (from is null or "")
        {
            return StringError(400, "from query parameter is required");
        }

        object? to = QueryShape(ctx, "to");
        SqlArg fromArg = SqlArg.FromJs(from);
        SqlArg? toArg = to is null or "" or "live" ? null : SqlArg.FromJs(to);
        if ((fromArg.BindError ?? toArg?.BindError) is { } bindError)
        {
            return ProtocolResponse.ErrorWithRequestId(500, bindError, ctx.RequestId);
        }

        // The server's "not found" message interpolates the raw value (an array prints as its elements).
        return FromStore(_store.Diff(ctx.Params[0], fromArg.Text, toArg?.Text), ctx.RequestId);
    }

    // ------------------------------------------------------------------ index

    private ProtocolResponse UpsertIndexEntry(RequestContext ctx)
    {
        object? key = Field(ctx, "key");
        object? category = Field(ctx, "category");
        object? summary = Field(ctx, "summary");
        object? metadata = Field(ctx, "metadata");
        if (!Truthy(key) || key is not string entryKey)
        {
            return StringError(400, "key (string) is required");
        }

        if (category is not string entryCategory || !IndexCategories.Contains(entryCategory))
        {
            return StringError(400, "category must be one of: " + string.Join(", ", IndexCategories));
        }

        if (!Truthy(summary) || summary is not string entrySummary)
        {
            return StringError(400, "summary (string) is required");
        }

        if (BadMetadata(metadata))
        {
            return StringError(400, "metadata must be a JSON object");
        }

        if (ctx.Request.BodyDepth > WorkerStackBudget / 20 && WorkerStackCost(metadata) > WorkerStackBudget)
        {
            return ProtocolResponse.ErrorWithRequestId(500, "Maximum call stack size exceeded", ctx.RequestId);
        }

        _store.UpsertIndex(ctx.Params[0], entryKey, entryCategory, entrySummary, MetadataJson(metadata));
        var b = new ByteBuffer();
        b.Write("{\"ok\":true,\"key\":"u8);
        JsJsonWriter.WriteString(b, entryKey);
        b.WriteByte((byte)'}');
        return ProtocolResponse.Json(200, b.ToArray());
    }

    private ProtocolResponse GetIndexEntry(RequestContext ctx) =>
        FromStore(_store.GetIndex(ctx.Params[0], ctx.Params[1]), ctx.RequestId);

    private ProtocolResponse SearchIndex(RequestContext ctx)
    {
        string q = QueryText(ctx, "q");
        if (q.Length == 0)
        {
            return StringError(400, "q query parameter is required");
        }

        QueryValue category = ctx.Query("category");
        string? categoryFilter = category.Kind == QueryValueKind.String && category.Value.Length > 0 ? category.Value : null;
        bool categoryGiven = category.Kind is QueryValueKind.SingleElementArray or QueryValueKind.Other || categoryFilter is not null;
        if (categoryGiven && (categoryFilter is null || !IndexCategories.Contains(categoryFilter)))
        {
            return StringError(400, "category must be one of: " + string.Join(", ", IndexCategories));
        }

        double limit = QueryNumber(ctx.Query("limit"), 20, 1, 200);
        return FromStore(_store.SearchIndex(ctx.Params[0], q, categoryFilter, limit), ctx.RequestId);
    }

    private ProtocolResponse DeleteIndexEntry(RequestContext ctx)
    {
        _store.DeleteIndex(ctx.Params[0], ctx.Params[1]);
        return Ok();
    }

    private ProtocolResponse CheckStaleness(RequestContext ctx)
    {
        if (Field(ctx, "entries") is not JsArray entries)
        {
            return StringError(400, "entries must be an array");
        }

        if (entries.Count > 500)
        {
            return StringError(400, $"entries array too large ({entries.Count}). Maximum is 500.");
        }

        var keys = new List<string>(entries.Count);
        foreach (object? e in entries)
        {
            if (e is not JsObject o
                || !o.TryGetValue("key", out object? key) || key is not string k
                || !o.TryGetValue("currentHash", out object? hash) || hash is not string)
            {
                return StringError(400, "each entry must have key (string) and currentHash (string)");
            }

            keys.Add(k);
        }

        return FromStore(_store.CheckStaleness(ctx.Params[0], keys), ctx.RequestId);
    }

    private ProtocolResponse RollupIndex(RequestContext ctx)
    {
        object? module = Field(ctx, "moduleKey");
        object? files = Field(ctx, "fileKeys");
        if (module is not string moduleKey || moduleKey.Length == 0)
        {
            return StringError(400, "moduleKey is required (string)");
        }

        if (files is not JsArray fileKeys || fileKeys.Count == 0)
        {
            return StringError(400, "fileKeys must be a non-empty array");
        }

        if (fileKeys.Count > 500)
        {
            return StringError(400, $"fileKeys array too large ({fileKeys.Count}). Maximum is 500.");
        }

        var keys = new List<string>(fileKeys.Count);
        for (int i = 0; i < fileKeys.Count; i++)
        {
            if (fileKeys[i] is not string k)
            {
                return StringError(400, $"fileKeys[{i}] must be a string, got {TypeOf(fileKeys[i])}");
            }

            keys.Add(k);
        }

        _store.Rollup(ctx.Params[0], moduleKey, keys);
        var b = new ByteBuffer();
        b.Write("{\"ok\":true,\"key\":"u8);
        JsJsonWriter.WriteString(b, moduleKey);
        b.Write(",\"fileCount\":"u8);
        JsJsonWriter.WriteNumber(b, keys.Count);
        b.WriteByte((byte)'}');
        return ProtocolResponse.Json(200, b.ToArray());
    }
}
