using System.Security.Cryptography;
using System.Text;
using AgentMailbox.MockServer.Json;

namespace AgentMailbox.MockServer.Protocol;

/// <summary>A request as the protocol pipeline sees it: raw (still percent-encoded) path and
/// query, headers, and the body after Express's JSON body parser.</summary>
internal sealed class IncomingRequest
{
    public required string Method { get; init; }

    public required string RawPath { get; init; }

    public required string RawQuery { get; init; }

    public required Func<string, string?> Header { get; init; }

    /// <summary>The parsed body: a <see cref="JsObject"/>, a <see cref="JsArray"/>, or <c>{}</c>
    /// when the request had no JSON body.</summary>
    public object? Body { get; init; }

    /// <summary>Deepest nesting of the JSON body.</summary>
    public int BodyDepth { get; init; }

    /// <summary>Set when the body parser rejected the body (400, 413 or 415).</summary>
    public BodyError? BodyError { get; init; }
}

internal sealed record BodyError(int Status, string Message);

/// <summary>A complete, buffered response.</summary>
internal sealed class ProtocolResponse
{
    public int Status { get; set; }

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    public byte[] Body { get; set; } = [];

    /// <summary>The request id the response carries (null for body-parser errors).</summary>
    public string? RequestId { get; set; }

    public string? GetHeader(string name)
    {
        foreach (KeyValuePair<string, string> h in Headers)
        {
            if (string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return h.Value;
            }
        }

        return null;
    }

    public void SetHeader(string name, string value)
    {
        RemoveHeader(name);
        Headers.Add(new KeyValuePair<string, string>(name, value));
    }

    public void RemoveHeader(string name) =>
        Headers.RemoveAll(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));

    public const string JsonContentType = "application/json; charset=utf-8";
    public const string HtmlContentType = "text/html; charset=utf-8";

    /// <summary>What Express's <c>res.send</c> does: content type, a weak ETag of the body.</summary>
    public static ProtocolResponse Send(int status, byte[] body, string contentType)
    {
        var response = new ProtocolResponse { Status = status, Body = body };
        response.Headers.Add(new KeyValuePair<string, string>("X-Powered-By", "Express"));
        response.Headers.Add(new KeyValuePair<string, string>("Content-Type", contentType));
        response.Headers.Add(new KeyValuePair<string, string>("ETag", WeakETag(body)));
        return response;
    }

    public static ProtocolResponse Json(int status, byte[] body) => Send(status, body, JsonContentType);

    /// <summary>The Express error handler's body: <c>{"error":message,"requestId":id|null}</c>.</summary>
    public static ProtocolResponse ErrorWithRequestId(int status, string message, string? requestId)
    {
        var b = new ByteBuffer();
        b.Write("{\"error\":"u8);
        JsJsonWriter.WriteString(b, message);
        b.Write(",\"requestId\":"u8);
        if (requestId is null)
        {
            b.Write("null"u8);
        }
        else
        {
            JsJsonWriter.WriteString(b, requestId);
        }

        b.WriteByte((byte)'}');
        return Json(status, b.ToArray());
    }

    /// <summary>Express's default 404 (finalhandler): <c>Cannot GET /path</c> as an HTML page.</summary>
    public static ProtocolResponse CannotRoute(string method, string rawPath)
    {
        string message = "Cannot " + method + " " + JsUri.HtmlEncodedPathForErrorPage(rawPath);
        string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>"
            + message + "</pre>\n</body>\n</html>\n";
        var response = new ProtocolResponse { Status = 404, Body = Encoding.UTF8.GetBytes(html) };
        response.Headers.Add(new KeyValuePair<string, string>("X-Powered-By", "Express"));
        response.Headers.Add(new KeyValuePair<string, string>("Content-Security-Policy", "default-src 'none'"));
        response.Headers.Add(new KeyValuePair<string, string>("X-Content-Type-Options", "nosniff"));
        response.Headers.Add(new KeyValuePair<string, string>("Content-Type", HtmlContentType));
        return response;
    }

    /// <summary>The etag package's weak tag: <c>W/"&lt;hex length&gt;-&lt;27 chars of base64 sha1&gt;"</c>.</summary>
    public static string WeakETag(byte[] body)
    {
        string hash = Convert.ToBase64String(SHA1.HashData(body))[..27];
        return "W/\"" + body.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "-" + hash + "\"";
    }
}
