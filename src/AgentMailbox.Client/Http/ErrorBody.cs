using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentMailbox
{
    /// <summary>
    /// Extracts a readable message from every error shape the server uses (protocol §1.1): a string
    /// <c>{"error":"…"}</c>, a validation object <c>{"error":{"formErrors":[…],"fieldErrors":{…}}}</c>,
    /// <c>{error, requestId}</c>, rate-limit bodies with <c>resetsAt</c>, and Express's HTML pages.
    /// </summary>
    internal static class ErrorBody
    {
        internal const int MaxBytes = 64 * 1024;

        internal sealed class Parsed
        {
            public string? Message { get; set; }
            public DateTimeOffset? ResetsAt { get; set; }
            public long? RetryAfterMs { get; set; }
        }

        internal static Parsed Parse(byte[] body, string? mediaType)
        {
            var result = new Parsed();
            if (body.Length == 0)
            {
                return result;
            }
            string text = Encoding.UTF8.GetString(body);
            bool looksJson = (mediaType?.IndexOf("json", StringComparison.OrdinalIgnoreCase) >= 0)
                || text.TrimStart().StartsWith("{", StringComparison.Ordinal);
            if (looksJson && TryParseJson(body, result))
            {
                return result;
            }
            if (mediaType?.IndexOf("html", StringComparison.OrdinalIgnoreCase) >= 0 || text.TrimStart().StartsWith("<", StringComparison.Ordinal))
            {
                result.Message = FromHtml(text);
                return result;
            }
            result.Message = Shorten(text.Trim());
            return result;
        }

        private static bool TryParseJson(byte[] body, Parsed result)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    result.Message = Shorten(root.ToString());
                    return true;
                }
                if (root.TryGetProperty("error", out var error))
                {
                    result.Message = error.ValueKind switch
                    {
                        JsonValueKind.String => error.GetString(),
                        JsonValueKind.Object => FromValidation(error),
                        _ => Shorten(error.GetRawText()),
                    };
                }
                if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    result.Message = string.IsNullOrEmpty(result.Message) ? message.GetString() : $"{result.Message}: {message.GetString()}";
                }
                if (root.TryGetProperty("resetsAt", out var resetsAt) && resetsAt.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(resetsAt.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                {
                    result.ResetsAt = when;
                }
                if (root.TryGetProperty("retryAfterMs", out var retryMs) && retryMs.ValueKind == JsonValueKind.Number && retryMs.TryGetInt64(out long ms))
                {
                    result.RetryAfterMs = ms;
                }
                if (result.Message is null)
                {
                    result.Message = Shorten(root.GetRawText());
                }
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }

        /// <summary>zod's flattened errors: "to: Required; cc: Expected string, received number".</summary>
        private static string FromValidation(JsonElement error)
        {
            var parts = new List<string>();
            if (error.TryGetProperty("formErrors", out var formErrors) && formErrors.ValueKind == JsonValueKind.Array)
            {
                parts.AddRange(formErrors.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
            }
            if (error.TryGetProperty("fieldErrors", out var fieldErrors) && fieldErrors.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in fieldErrors.EnumerateObject())
                {
                    var messages = field.Value.ValueKind == JsonValueKind.Array
                        ? field.Value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText())
                        : new[] { field.Value.ToString() };
                    parts.Add($"{field.Name}: {string.Join(", ", messages)}");
                }
            }
            return parts.Count > 0 ? string.Join("; ", parts) : error.GetRawText();
        }

        private static readonly Regex Pre = new Regex("<pre>(.*?)</pre>", RegexOptions.Singleline | RegexOptions.IgnoreCase);
        private static readonly Regex Title = new Regex("<title>(.*?)</title>", RegexOptions.Singleline | RegexOptions.IgnoreCase);
        private static readonly Regex Tags = new Regex("<[^>]+>", RegexOptions.Singleline);
        private static readonly Regex Space = new Regex(@"\s+");

        /// <summary>Express answers unknown routes with <c>&lt;pre&gt;Cannot GET /x&lt;/pre&gt;</c>; proxies with a title.</summary>
        private static string FromHtml(string html)
        {
            var match = Pre.Match(html);
            if (!match.Success)
            {
                match = Title.Match(html);
            }
            string text = match.Success ? match.Groups[1].Value : Tags.Replace(html, " ");
            text = System.Net.WebUtility.HtmlDecode(Tags.Replace(text, " "));
            return Shorten(Space.Replace(text, " ").Trim());
        }

        private static string Shorten(string text) => text.Length <= 500 ? text : text.Substring(0, 500) + "…";
    }
}
