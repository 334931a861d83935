using System.IO.Compression;
using System.Text;
using AgentMailbox.MockServer.Json;
using Microsoft.AspNetCore.Http;

namespace AgentMailbox.MockServer.Protocol;

/// <summary>The outcome of reading a request body the way <c>express.json()</c> does.</summary>
internal sealed class BodyReadResult
{
    public object? Body { get; init; }

    public int Depth { get; init; }

    public BodyError? Error { get; init; }

    /// <summary>The body text for the request log (at most <see cref="RequestLog.MaxBodyChars"/>).</summary>
    public string LogText { get; init; } = string.Empty;

    public bool LogTruncated { get; init; }
}

/// <summary>
/// Express's JSON body parser (body-parser 1.20): only <c>application/json</c> bodies are read,
/// anything else becomes <c>{}</c>; utf-* charsets only (415 otherwise); gzip and deflate are
/// inflated; the size limit gives 413; the text then goes through strict <c>JSON.parse</c>.
/// </summary>
internal static class BodyParser
{
    private const int ChunkSize = 64 * 1024;

    public static async Task<BodyReadResult> ReadAsync(HttpContext http, long limit)
    {
        HttpRequest request = http.Request;
        CancellationToken cancel = http.RequestAborted;
        bool hasBody = request.Headers.ContainsKey("Transfer-Encoding") || request.ContentLength is not null;
        string? contentType = request.ContentType;
        if (!hasBody)
        {
            return new BodyReadResult { Body = new JsObject() };
        }

        if (!IsJson(contentType))
        {
            (byte[] head, bool truncated) = await DrainAsync(request.Body, [], cancel);
            return new BodyReadResult { Body = new JsObject(), LogText = LogText(head), LogTruncated = truncated };
        }

        string charset = Charset(contentType) ?? "utf-8";
        if (!charset.StartsWith("utf-", StringComparison.Ordinal))
        {
            return await FailAfterDrainAsync(request.Body, [], 415, $"unsupported charset \"{charset.ToUpperInvariant()}\"", cancel);
        }

        string contentEncoding = (request.Headers.ContentEncoding.ToString() is { Length: > 0 } ce ? ce : "identity").ToLowerInvariant();
        if (contentEncoding is not ("identity" or "gzip" or "deflate"))
        {
            return await FailAfterDrainAsync(request.Body, [], 415, $"unsupported content encoding \"{contentEncoding}\"", cancel);
        }

        if (contentEncoding == "identity" && request.ContentLength > limit)
        {
            return await FailAfterDrainAsync(request.Body, [], 413, "request entity too large", cancel);
        }

        byte[] raw;
        try
        {
            Stream source = request.Body;
            if (contentEncoding == "gzip")
            {
                source = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
            }
            else if (contentEncoding == "deflate")
            {
                source = new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
            }

            (byte[]? data, byte[] readSoFar) = await ReadLimitedAsync(source, limit, cancel);
            if (data is null)
            {
                return await FailAfterDrainAsync(request.Body, readSoFar, 413, "request entity too large", cancel);
            }

            raw = data;
        }
        catch (InvalidDataException)
        {
            return await FailAfterDrainAsync(request.Body, [], 400, "incorrect header check", cancel);
        }

        string? text = Decode(raw, charset);
        if (text is null)
        {
            return new BodyReadResult
            {
                Error = new BodyError(415, $"unsupported charset \"{charset.ToUpperInvariant()}\""),
                LogText = LogText(raw),
                LogTruncated = raw.Length > RequestLog.MaxBodyChars,
            };
        }

        bool truncatedLog = text.Length > RequestLog.MaxBodyChars;
        string logText = truncatedLog ? text[..RequestLog.MaxBodyChars] : text;
        try
        {
            object? body = JsJsonParser.ParseRequestBody(text, out int depth);
            return new BodyReadResult { Body = body, Depth = depth, LogText = logText, LogTruncated = truncatedLog };
        }
        catch (JsJsonException e)
        {
            return new BodyReadResult { Error = new BodyError(400, e.Message), LogText = logText, LogTruncated = truncatedLog };
        }
    }

    /// <summary>type-is: the media type, without parameters, is application/json.</summary>
    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        int semicolon = contentType.IndexOf(';');
        string type = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
        return string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase);
    }

    private static string? Charset(string? contentType)
    {
        if (contentType is null)
        {
            return null;
        }

        foreach (string part in contentType.Split(';').Skip(1))
        {
            int eq = part.IndexOf('=');
            if (eq < 0)
            {
                continue;
            }

            if (!string.Equals(part[..eq].Trim(), "charset", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            string value = part[(eq + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            return value.ToLowerInvariant();
        }

        return null;
    }

    /// <summary>iconv-lite decoding (with the BOM stripped); null for a charset it would not know.</summary>
    private static string? Decode(byte[] raw, string charset)
    {
        Encoding? encoding = charset switch
        {
            "utf-8" => new UTF8Encoding(false, false),
            "utf-16le" => new UnicodeEncoding(false, false),
            "utf-16be" => new UnicodeEncoding(true, false),
            "utf-16" => raw.Length >= 2 && raw[0] == 0xFE && raw[1] == 0xFF ? new UnicodeEncoding(true, false) : new UnicodeEncoding(false, false),
            "utf-32le" => new UTF32Encoding(false, false),
            "utf-32be" => new UTF32Encoding(true, false),
            "utf-32" => raw.Length >= 4 && raw[0] == 0 && raw[1] == 0 && raw[2] == 0xFE && raw[3] == 0xFF ? new UTF32Encoding(true, false) : new UTF32Encoding(false, false),
            _ => null,
        };
        if (encoding is null)
        {
            return null;
        }

        string text = encoding.GetString(raw);
        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    private static string LogText(byte[] raw)
    {
        int length = Math.Min(raw.Length, RequestLog.MaxBodyChars);
        return Encoding.UTF8.GetString(raw, 0, length);
    }

    /// <summary>Reads the whole stream, or stops once more than <paramref name="limit"/> bytes came.</summary>
    private static async Task<(byte[]? Data, byte[] ReadSoFar)> ReadLimitedAsync(Stream source, long limit, CancellationToken cancel)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[ChunkSize];
        while (true)
        {
            int read = await source.ReadAsync(chunk, cancel);
            if (read == 0)
            {
                return (buffer.ToArray(), []);
            }

            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                byte[] head = buffer.GetBuffer().AsSpan(0, (int)Math.Min(buffer.Length, RequestLog.MaxBodyChars)).ToArray();
                return (null, head);
            }
        }
    }

    /// <summary>Reads and discards the rest of the body (the reference server reads it all before
    /// answering an error), keeping the start for the request log.</summary>
    private static async Task<(byte[] Head, bool Truncated)> DrainAsync(Stream body, byte[] alreadyRead, CancellationToken cancel)
    {
        using var head = new MemoryStream();
        head.Write(alreadyRead);
        bool truncated = alreadyRead.Length >= RequestLog.MaxBodyChars;
        byte[] chunk = new byte[ChunkSize];
        while (true)
        {
            int read = await body.ReadAsync(chunk, cancel);
            if (read == 0)
            {
                break;
            }

            int room = RequestLog.MaxBodyChars - (int)head.Length;
            if (room > 0)
            {
                head.Write(chunk, 0, Math.Min(room, read));
            }

            if (read > room)
            {
                truncated = true;
            }
        }

        return (head.ToArray(), truncated);
    }

    private static async Task<BodyReadResult> FailAfterDrainAsync(Stream body, byte[] alreadyRead, int status, string message, CancellationToken cancel)
    {
        (byte[] head, bool truncated) = await DrainAsync(body, alreadyRead, cancel);
        return new BodyReadResult { Error = new BodyError(status, message), LogText = LogText(head), LogTruncated = truncated };
    }
}
