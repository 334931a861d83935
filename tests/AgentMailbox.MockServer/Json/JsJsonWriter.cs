using System.Globalization;
using System.Text;

namespace AgentMailbox.MockServer.Json;

/// <summary>A growable UTF-8 output buffer for hand-written JSON.</summary>
internal sealed class ByteBuffer
{
    private byte[] _buffer;
    private int _length;

    public ByteBuffer(int capacity = 256)
    {
        _buffer = new byte[Math.Max(16, capacity)];
    }

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    public void WriteByte(byte b)
    {
        Ensure(1);
        _buffer[_length++] = b;
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Writes a string that is known to need no JSON escaping, as UTF-8.</summary>
    public void WriteRaw(ReadOnlySpan<char> s)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(s.Length));
        _length += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_length));
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length)
        {
            return;
        }

        long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + extra);
        if (wanted > Array.MaxLength)
        {
            wanted = Math.Max(Array.MaxLength, _length + extra);
        }

        Array.Resize(ref _buffer, (int)wanted);
    }
}

/// <summary>
/// <c>JSON.stringify</c> for <see cref="JsValue"/> trees, byte for byte: the same number
/// formatting, the same string escaping (only quotes, backslashes, control characters and lone
/// surrogates), and the same key order.
/// </summary>
internal static class JsJsonWriter
{
    public static byte[] Serialize(object? value)
    {
        var buffer = new ByteBuffer();
        WriteValue(buffer, value);
        return buffer.ToArray();
    }

    public static void WriteValue(ByteBuffer buffer, object? value)
    {
        switch (value)
        {
            case null:
                buffer.Write("null"u8);
                break;
            case bool b:
                buffer.Write(b ? "true"u8 : "false"u8);
                break;
            case double d:
                WriteNumber(buffer, d);
                break;
            case string s:
                WriteString(buffer, s);
                break;
            case JsArray array:
                buffer.WriteByte((byte)'[');
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        buffer.WriteByte((byte)',');
                    }

                    WriteValue(buffer, array[i]);
                }

                buffer.WriteByte((byte)']');
                break;
            case JsObject obj:
                buffer.WriteByte((byte)'{');
                bool first = true;
                foreach (KeyValuePair<string, object?> entry in obj.Entries)
                {
                    if (!first)
                    {
                        buffer.WriteByte((byte)',');
                    }

                    first = false;
                    WriteString(buffer, entry.Key);
                    buffer.WriteByte((byte)':');
                    WriteValue(buffer, entry.Value);
                }

                buffer.WriteByte((byte)'}');
                break;
            default:
                throw new InvalidOperationException($"Not a JSON value: {value.GetType()}");
        }
    }

    public static void WriteNumber(ByteBuffer buffer, double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
        {
            buffer.Write("null"u8);
            return;
        }

        buffer.WriteRaw(JsNumber.ToJsString(d));
    }

    public static void WriteNumber(ByteBuffer buffer, long n)
    {
        Span<byte> tmp = stackalloc byte[24];
        n.TryFormat(tmp, out int written, default, CultureInfo.InvariantCulture);
        buffer.Write(tmp[..written]);
    }

    public static void WriteString(ByteBuffer buffer, string s)
    {
        buffer.WriteByte((byte)'"');
        int runStart = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c >= 0x20 && c != '"' && c != '\\' && !char.IsSurrogate(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }

            if (i > runStart)
            {
                buffer.WriteRaw(s.AsSpan(runStart, i - runStart));
            }

            switch (c)
            {
                case '"':
                    buffer.Write("\\\""u8);
                    break;
                case '\\':
                    buffer.Write("\\\\"u8);
                    break;
                case '\b':
                    buffer.Write("\\b"u8);
                    break;
                case '\f':
                    buffer.Write("\\f"u8);
                    break;
                case '\n':
                    buffer.Write("\\n"u8);
                    break;
                case '\r':
                    buffer.Write("\\r"u8);
                    break;
                case '\t':
                    buffer.Write("\\t"u8);
                    break;
                default:
                    buffer.WriteRaw("\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }

            runStart = i + 1;
        }

        if (runStart < s.Length)
        {
            buffer.WriteRaw(s.AsSpan(runStart));
        }

        buffer.WriteByte((byte)'"');
    }

    public static void WriteStringArray(ByteBuffer buffer, IEnumerable<string> items)
    {
        buffer.WriteByte((byte)'[');
        bool first = true;
        foreach (string item in items)
        {
            if (!first)
            {
                buffer.WriteByte((byte)',');
            }

            first = false;
            WriteString(buffer, item);
        }

        buffer.WriteByte((byte)']');
    }

    /// <summary>The JavaScript (UTF-16) length of a JSON text written by this class.</summary>
    public static int JsonTextLength(byte[] utf8Json) => Encoding.UTF8.GetCharCount(utf8Json);
}

/// <summary>JavaScript number conversions.</summary>
internal static class JsNumber
{
    /// <summary><c>Number.prototype.toString()</c> for finite numbers.</summary>
    public static string ToJsString(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }

        if (double.IsInfinity(d))
        {
            return d > 0 ? "Infinity" : "-Infinity";
        }

        if (d == 0)
        {
            return "0";
        }

        if (Math.Abs(d) < 1e15 && Math.Floor(d) == d)
        {
            return ((long)d).ToString(CultureInfo.InvariantCulture);
        }

        bool negative = d < 0;
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int ePos = r.IndexOfAny(['E', 'e']);
        string mantissa = ePos >= 0 ? r[..ePos] : r;
        int exp10 = ePos >= 0 ? int.Parse(r[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.');
        string intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        string fracPart = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        string digits = intPart + fracPart;
        int n = intPart.Length + exp10;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
            n--;
        }

        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0)
        {
            return "0";
        }

        int k = digits.Length;
        var sb = new StringBuilder(32);
        if (negative)
        {
            sb.Append('-');
        }

        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            int e = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }

            sb.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    /// <summary>JavaScript <c>Number(string)</c>.</summary>
    public static double FromString(string s)
    {
        string t = JsValue.TrimJs(s);
        if (t.Length == 0)
        {
            return 0;
        }

        switch (t)
        {
            case "Infinity":
            case "+Infinity":
                return double.PositiveInfinity;
            case "-Infinity":
                return double.NegativeInfinity;
        }

        if (t.Length > 2 && t[0] == '0' && (t[1] | 0x20) is 'x' or 'o' or 'b')
        {
            int radix = (t[1] | 0x20) switch { 'x' => 16, 'o' => 8, _ => 2 };
            double value = 0;
            for (int i = 2; i < t.Length; i++)
            {
                int digit = t[i] switch
                {
                    >= '0' and <= '9' => t[i] - '0',
                    >= 'a' and <= 'z' => t[i] - 'a' + 10,
                    >= 'A' and <= 'Z' => t[i] - 'A' + 10,
                    _ => 99,
                };
                if (digit >= radix)
                {
                    return double.NaN;
                }

                value = (value * radix) + digit;
            }

            return value;
        }

        int p = 0;
        if (t[p] is '+' or '-')
        {
            p++;
        }

        int intDigits = 0;
        while (p < t.Length && char.IsAsciiDigit(t[p]))
        {
            p++;
            intDigits++;
        }

        int fracDigits = 0;
        if (p < t.Length && t[p] == '.')
        {
            p++;
            while (p < t.Length && char.IsAsciiDigit(t[p]))
            {
                p++;
                fracDigits++;
            }
        }

        if (intDigits + fracDigits == 0)
        {
            return double.NaN;
        }

        if (p < t.Length && (t[p] | 0x20) == 'e')
        {
            p++;
            if (p < t.Length && t[p] is '+' or '-')
            {
                p++;
            }

            int expDigits = 0;
            while (p < t.Length && char.IsAsciiDigit(t[p]))
            {
                p++;
                expDigits++;
            }

            if (expDigits == 0)
            {
                return double.NaN;
            }
        }

        if (p != t.Length)
        {
            return double.NaN;
        }

        return double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
