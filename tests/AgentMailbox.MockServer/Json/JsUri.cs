using System.Globalization;
using System.Text;

namespace AgentMailbox.MockServer.Json;

/// <summary>What Express 4's "extended" query parser (qs) made of one query parameter.</summary>
internal readonly record struct QueryValue(QueryValueKind Kind, string Value)
{
    public static readonly QueryValue Missing = new(QueryValueKind.Missing, string.Empty);

    /// <summary>The value as the server sees it when it calls <c>Number(value)</c>.</summary>
    public double ToJsNumber() => Kind switch
    {
        QueryValueKind.String or QueryValueKind.SingleElementArray => JsNumber.FromString(Value),
        _ => double.NaN,
    };

    /// <summary>The value when the server uses it as an agent id: only a plain string counts.</summary>
    public string? AsString => Kind == QueryValueKind.String ? Value : null;
}

internal enum QueryValueKind
{
    /// <summary>Absent (JavaScript <c>undefined</c>).</summary>
    Missing,

    /// <summary>A single plain string.</summary>
    String,

    /// <summary>An array with one string element (<c>x[]=v</c>); <c>Number()</c> of it is <c>Number(v)</c>.</summary>
    SingleElementArray,

    /// <summary>Any other array or an object (repeated keys, <c>x[k]=v</c>).</summary>
    Other,
}

/// <summary>URL helpers with Node.js / Express semantics.</summary>
internal static class JsUri
{
    private const int QsParameterLimit = 1000;
    private const int QsArrayLimit = 20;

    /// <summary>JavaScript <c>decodeURIComponent</c>; null where it would throw a URIError.</summary>
    public static string? DecodeUriComponent(string s)
    {
        int firstPercent = s.IndexOf('%');
        if (firstPercent < 0)
        {
            return s;
        }

        var sb = new StringBuilder(s.Length);
        sb.Append(s, 0, firstPercent);
        int i = firstPercent;
        while (i < s.Length)
        {
            char c = s[i];
            if (c != '%')
            {
                sb.Append(c);
                i++;
                continue;
            }

            int b = ReadEscapedByte(s, i);
            if (b < 0)
            {
                return null;
            }

            i += 3;
            if (b < 0x80)
            {
                sb.Append((char)b);
                continue;
            }

            int n;
            int codePoint;
            if ((b & 0xE0) == 0xC0)
            {
                n = 2;
                codePoint = b & 0x1F;
            }
            else if ((b & 0xF0) == 0xE0)
            {
                n = 3;
                codePoint = b & 0x0F;
            }
            else if ((b & 0xF8) == 0xF0)
            {
                n = 4;
                codePoint = b & 0x07;
            }
            else
            {
                return null;
            }

            for (int k = 1; k < n; k++)
            {
                if (i >= s.Length || s[i] != '%')
                {
                    return null;
                }

                int cont = ReadEscapedByte(s, i);
                if (cont < 0 || (cont & 0xC0) != 0x80)
                {
                    return null;
                }

                codePoint = (codePoint << 6) | (cont & 0x3F);
                i += 3;
            }

            int min = n switch { 2 => 0x80, 3 => 0x800, _ => 0x10000 };
            if (codePoint < min || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            {
                return null;
            }

            sb.Append(char.ConvertFromUtf32(codePoint));
        }

        return sb.ToString();
    }

    private static int ReadEscapedByte(string s, int percentIndex)
    {
        if (percentIndex + 2 >= s.Length)
        {
            return -1;
        }

        int hi = HexValue(s[percentIndex + 1]);
        int lo = HexValue(s[percentIndex + 2]);
        return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>The qs decoder: '+' is a space, and text that fails to decode is kept as is.</summary>
    private static string QsDecode(string s)
    {
        string withoutPlus = s.Replace('+', ' ');
        return DecodeUriComponent(withoutPlus) ?? withoutPlus;
    }

    /// <summary>Looks up <paramref name="name"/> in a raw query string (without the '?') the way
    /// <c>req.query[name]</c> sees it in Express 4.</summary>
    public static QueryValue GetQueryValue(string rawQuery, string name)
    {
        if (rawQuery.Length == 0)
        {
            return QueryValue.Missing;
        }

        int plainCount = 0;
        string plainValue = string.Empty;
        int bracketCount = 0;
        bool bracketIsArrayIndex = false;
        string bracketValue = string.Empty;

        string[] parts = rawQuery.Split('&', QsParameterLimit + 1);
        int limit = Math.Min(parts.Length, QsParameterLimit);
        for (int p = 0; p < limit; p++)
        {
            string part = parts[p];
            if (part.Length == 0)
            {
                continue;
            }

            int bracketEquals = part.IndexOf("]=", StringComparison.Ordinal);
            int pos = bracketEquals == -1 ? part.IndexOf('=') : bracketEquals + 1;
            string key = QsDecode(pos == -1 ? part : part[..pos]);
            string value = pos == -1 ? string.Empty : QsDecode(part[(pos + 1)..]);
            if (key.Length == 0)
            {
                continue;
            }

            int open = key.IndexOf('[', 1);
            int close = open >= 0 ? key.IndexOf(']', open) : -1;
            if (open < 0 || close < 0)
            {
                if (key == name)
                {
                    plainCount++;
                    plainValue = value;
                }

                continue;
            }

            if (!string.Equals(key[..open], name, StringComparison.Ordinal))
            {
                continue;
            }

            bracketCount++;
            string inner = key[(open + 1)..close];
            bool onlyOneSegment = close == key.Length - 1;
            bracketIsArrayIndex = onlyOneSegment
                && (inner.Length == 0
                    || (inner.All(char.IsAsciiDigit)
                        && int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out int idx)
                        && idx <= QsArrayLimit
                        && idx.ToString(CultureInfo.InvariantCulture) == inner));
            bracketValue = value;
        }

        if (plainCount == 0 && bracketCount == 0)
        {
            return QueryValue.Missing;
        }

        if (plainCount == 1 && bracketCount == 0)
        {
            return new QueryValue(QueryValueKind.String, plainValue);
        }

        if (plainCount == 0 && bracketCount == 1 && bracketIsArrayIndex)
        {
            return new QueryValue(QueryValueKind.SingleElementArray, bracketValue);
        }

        return new QueryValue(QueryValueKind.Other, string.Empty);
    }

    /// <summary>JavaScript <c>encodeURIComponent</c> (lone surrogates become U+FFFD instead of throwing).</summary>
    public static string EncodeUriComponent(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '!' or '~' or '*' or '\'' or '(' or ')')
            {
                sb.Append(c);
                continue;
            }

            string unit = char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])
                ? s.Substring(i++, 2)
                : char.IsSurrogate(c) ? "\uFFFD" : c.ToString();
            foreach (byte b in Encoding.UTF8.GetBytes(unit))
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>The path as Express's default 404 page shows it: <c>escapeHtml(encodeurl(path))</c>.</summary>
    public static string HtmlEncodedPathForErrorPage(string rawPath) => EscapeHtml(EncodeUrl(rawPath));

    /// <summary>The encodeurl package: percent-encodes what may not appear in a URL, keeps valid escapes.</summary>
    public static string EncodeUrl(string rawPath)
    {
        var sb = new StringBuilder(rawPath.Length + 16);
        for (int i = 0; i < rawPath.Length; i++)
        {
            char c = rawPath[i];
            if (c == '%')
            {
                bool validEscape = i + 2 < rawPath.Length && HexValue(rawPath[i + 1]) >= 0 && HexValue(rawPath[i + 2]) >= 0;
                sb.Append(validEscape ? "%" : "%25");
                continue;
            }

            if (IsUrlSafe(c) || c is '#' or '$')
            {
                sb.Append(c);
                continue;
            }

            string unit = char.IsHighSurrogate(c) && i + 1 < rawPath.Length && char.IsLowSurrogate(rawPath[i + 1])
                ? rawPath.Substring(i++, 2)
                : char.IsSurrogate(c) ? "\uFFFD" : c.ToString();
            foreach (byte b in Encoding.UTF8.GetBytes(unit))
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static bool IsUrlSafe(char c) =>
        c == 0x21 || (c >= 0x26 && c <= 0x3B) || c == 0x3D || (c >= 0x3F && c <= 0x5B) || c == 0x5D || c == 0x5F
        || (c >= 0x61 && c <= 0x7A) || c == 0x7E;

    public static string EscapeHtml(string s)
    {
        if (s.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return s;
        }

        var sb = new StringBuilder(s.Length + 16);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }
}
