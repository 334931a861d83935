using AgentMailbox.MockServer.Json;

namespace AgentMailbox.MockServer.Protocol;

/// <summary>Issues collected while validating a body, rendered like zod's <c>error.flatten()</c>.</summary>
internal sealed class ZodErrors
{
    private readonly List<string> _formErrors = [];
    private readonly List<KeyValuePair<string, List<string>>> _fieldErrors = [];

    public bool HasErrors => _formErrors.Count > 0 || _fieldErrors.Count > 0;

    public void Form(string message) => _formErrors.Add(message);

    public void Field(string field, string message)
    {
        foreach (KeyValuePair<string, List<string>> entry in _fieldErrors)
        {
            if (entry.Key == field)
            {
                entry.Value.Add(message);
                return;
            }
        }

        _fieldErrors.Add(new KeyValuePair<string, List<string>>(field, [message]));
    }

    /// <summary>The 400 body: <c>{"error":{"formErrors":[…],"fieldErrors":{…}}}</c>.</summary>
    public byte[] ToResponseBody()
    {
        var b = new ByteBuffer();
        b.Write("{\"error\":{\"formErrors\":"u8);
        JsJsonWriter.WriteStringArray(b, _formErrors);
        b.Write(",\"fieldErrors\":{"u8);
        for (int i = 0; i < _fieldErrors.Count; i++)
        {
            if (i > 0)
            {
                b.WriteByte((byte)',');
            }

            JsJsonWriter.WriteString(b, _fieldErrors[i].Key);
            b.WriteByte((byte)':');
            JsJsonWriter.WriteStringArray(b, _fieldErrors[i].Value);
        }

        b.Write("}}}"u8);
        return b.ToArray();
    }

    public override string ToString() => System.Text.Encoding.UTF8.GetString(ToResponseBody());
}

internal sealed record HandoffOptions(string? Goal, string? NextAction, IReadOnlyList<string>? IncludeFields, double? MaxContextBytes);

internal sealed class SendRequest
{
    public required string From { get; init; }

    public required string To { get; init; }

    /// <summary>The payload; JavaScript <c>undefined</c> (absent) is stored as null.</summary>
    public object? Payload { get; init; }

    public JsObject? ContextSnapshot { get; init; }

    public string? ThreadId { get; init; }

    public IReadOnlyList<string>? Cc { get; init; }

    public IReadOnlyList<string>? Bcc { get; init; }

    public string? ReplyTo { get; init; }

    public HandoffOptions? Handoff { get; init; }
}

internal sealed class ReplyAllRequest
{
    public required string From { get; init; }

    public required string ThreadId { get; init; }

    public object? Payload { get; init; }

    public JsObject? ContextSnapshot { get; init; }

    public HandoffOptions? Handoff { get; init; }
}

/// <summary>The reference server's zod schemas (zod 3.25), with zod's messages and issue order.</summary>
internal static class Schemas
{
    private const string MinOneMessage = "String must contain at least 1 character(s)";

    public static string? ParseRegister(object? body, ZodErrors errors)
    {
        if (!RequireObject(body, errors, out JsObject obj))
        {
            return null;
        }

        return String(obj, "agentId", optional: false, minOne: true, errors);
    }

    public static string? ParseMarkRead(object? body, ZodErrors errors)
    {
        if (!RequireObject(body, errors, out JsObject obj))
        {
            return null;
        }

        return String(obj, "threadId", optional: false, minOne: true, errors);
    }

    public static SendRequest? ParseSend(object? body, ZodErrors errors)
    {
        if (!RequireObject(body, errors, out JsObject obj))
        {
            return null;
        }

        string? from = String(obj, "from", optional: false, minOne: true, errors);
        string? to = String(obj, "to", optional: false, minOne: true, errors);
        obj.TryGetValue("payload", out object? payload);
        JsObject? snapshot = Record(obj, "contextSnapshot", errors);
        string? threadId = String(obj, "threadId", optional: true, minOne: false, errors);
        List<string>? cc = StringArray(obj, "cc", "cc", null, errors);
        List<string>? bcc = StringArray(obj, "bcc", "bcc", null, errors);
        string? replyTo = String(obj, "replyTo", optional: true, minOne: true, errors);
        HandoffOptions? handoff = Handoff(obj, errors);
        if (errors.HasErrors)
        {
            return null;
        }

        return new SendRequest
        {
            From = from!,
            To = to!,
            Payload = payload,
            ContextSnapshot = snapshot,
            ThreadId = threadId,
            Cc = cc,
            Bcc = bcc,
            ReplyTo = replyTo,
            Handoff = handoff,
        };
    }

    public static ReplyAllRequest? ParseReplyAll(object? body, ZodErrors errors)
    {
        if (!RequireObject(body, errors, out JsObject obj))
        {
            return null;
        }

        string? from = String(obj, "from", optional: false, minOne: true, errors);
        string? threadId = String(obj, "threadId", optional: false, minOne: true, errors);
        obj.TryGetValue("payload", out object? payload);
        JsObject? snapshot = Record(obj, "contextSnapshot", errors);
        HandoffOptions? handoff = Handoff(obj, errors);
        if (errors.HasErrors)
        {
            return null;
        }

        return new ReplyAllRequest
        {
            From = from!,
            ThreadId = threadId!,
            Payload = payload,
            ContextSnapshot = snapshot,
            Handoff = handoff,
        };
    }

    private static bool RequireObject(object? body, ZodErrors errors, out JsObject obj)
    {
        if (body is JsObject o)
        {
            obj = o;
            return true;
        }

        errors.Form($"Expected object, received {JsValue.ZodTypeName(body)}");
        obj = null!;
        return false;
    }

    private static string? String(JsObject obj, string key, bool optional, bool minOne, ZodErrors errors, string? field = null)
    {
        field ??= key;
        if (!obj.TryGetValue(key, out object? value))
        {
            if (!optional)
            {
                errors.Field(field, "Required");
            }

            return null;
        }

        if (value is not string s)
        {
            errors.Field(field, $"Expected string, received {JsValue.ZodTypeName(value)}");
            return null;
        }

        if (minOne && s.Length == 0)
        {
            errors.Field(field, MinOneMessage);
            return null;
        }

        return s;
    }

    private static List<string>? StringArray(JsObject obj, string key, string field, int? maxItems, ZodErrors errors)
    {
        if (!obj.TryGetValue(key, out object? value))
        {
            return null;
        }

        if (value is not JsArray array)
        {
            errors.Field(field, $"Expected array, received {JsValue.ZodTypeName(value)}");
            return null;
        }

        if (maxItems is int max && array.Count > max)
        {
            errors.Field(field, $"Array must contain at most {max} element(s)");
        }

        var result = new List<string>(array.Count);
        foreach (object? item in array)
        {
            if (item is not string s)
            {
                errors.Field(field, $"Expected string, received {JsValue.ZodTypeName(item)}");
                continue;
            }

            if (s.Length == 0)
            {
                errors.Field(field, MinOneMessage);
                continue;
            }

            result.Add(s);
        }

        return result;
    }

    /// <summary><c>z.record(z.unknown()).optional()</c>: an object, copied the way zod copies it
    /// (a <c>__proto__</c> key is dropped).</summary>
    private static JsObject? Record(JsObject obj, string key, ZodErrors errors)
    {
        if (!obj.TryGetValue(key, out object? value))
        {
            return null;
        }

        if (value is not JsObject record)
        {
            errors.Field(key, $"Expected object, received {JsValue.ZodTypeName(value)}");
            return null;
        }

        if (!record.ContainsKey("__proto__"))
        {
            return record;
        }

        var copy = new JsObject(record.Count);
        foreach (KeyValuePair<string, object?> entry in record.Entries)
        {
            if (entry.Key != "__proto__")
            {
                copy.Set(entry.Key, entry.Value);
            }
        }

        return copy;
    }

    private static HandoffOptions? Handoff(JsObject obj, ZodErrors errors)
    {
        const string field = "handoff";
        if (!obj.TryGetValue(field, out object? value))
        {
            return null;
        }

        if (value is not JsObject handoff)
        {
            errors.Field(field, $"Expected object, received {JsValue.ZodTypeName(value)}");
            return null;
        }

        string? goal = String(handoff, "goal", optional: true, minOne: true, errors, field);
        string? nextAction = String(handoff, "nextAction", optional: true, minOne: true, errors, field);
        List<string>? includeFields = StringArray(handoff, "includeFields", field, 100, errors);
        double? maxContextBytes = null;
        if (handoff.TryGetValue("maxContextBytes", out object? raw))
        {
            if (raw is not double d)
            {
                errors.Field(field, $"Expected number, received {JsValue.ZodTypeName(raw)}");
            }
            else
            {
                bool ok = true;
                if (double.IsInfinity(d) || Math.Floor(d) != d)
                {
                    errors.Field(field, "Expected integer, received float");
                    ok = false;
                }

                if (d < 256)
                {
                    errors.Field(field, "Number must be greater than or equal to 256");
                    ok = false;
                }

                if (d > 1000000)
                {
                    errors.Field(field, "Number must be less than or equal to 1000000");
                    ok = false;
                }

                if (ok)
                {
                    maxContextBytes = d;
                }
            }
        }

        return new HandoffOptions(goal, nextAction, includeFields, maxContextBytes);
    }
}
