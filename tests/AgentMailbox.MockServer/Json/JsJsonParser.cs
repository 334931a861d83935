using System.Globalization;

namespace AgentMailbox.MockServer.Json;

/// <summary>A <c>JSON.parse</c> failure, with the message Node.js 20 (V8 11) produces.</summary>
internal sealed class JsJsonException(string message) : Exception(message);

/// <summary>
/// A JSON parser that behaves like V8's <c>JSON.parse</c>: the same accepted grammar, the same
/// object key order, doubles for all numbers, and the same error messages (which the reference
/// server returns verbatim in its 400 responses). It is iterative, so deep nesting cannot
/// overflow the stack.
/// </summary>
internal sealed class JsJsonParser
{
    private const int MaxContextCharacters = 10;
    private const int MinOriginalSourceLengthForContext = (MaxContextCharacters * 2) + 1;
    private const string NonWhitespaceAfterJson = "Unexpected non-whitespace character after JSON";

    private readonly string _s;
    private int _pos;

    private JsJsonParser(string source)
    {
        _s = source;
    }

    private enum Token
    {
        Eos,
        String,
        Number,
        LBrace,
        RBrace,
        LBrack,
        RBrack,
        TrueLiteral,
        FalseLiteral,
        NullLiteral,
        Colon,
        Comma,
        Whitespace,
        Illegal,
    }

    /// <summary>Parses <paramref name="source"/>; <paramref name="maxDepth"/> receives the deepest
    /// container nesting seen (0 for a scalar).</summary>
    public static object? Parse(string source, out int maxDepth) => new JsJsonParser(source).ParseRoot(out maxDepth);

    public static object? Parse(string source) => Parse(source, out _);

    /// <summary>
    /// What Express's JSON body parser (body-parser 1.20, strict mode) answers for a request body
    /// that was decoded to <paramref name="body"/>: the parsed value, or a <see cref="JsJsonException"/>.
    /// An empty body is <c>{}</c>; a body whose first non-blank character is not <c>{</c> or <c>[</c>
    /// gets the same message <c>JSON.parse</c> would give, computed the way body-parser does.
    /// </summary>
    public static object? ParseRequestBody(string body, out int maxDepth)
    {
        maxDepth = 0;
        if (body.Length == 0)
        {
            return new JsObject();
        }

        int index = 0;
        while (index < body.Length && body[index] is ' ' or '\t' or '\n' or '\r')
        {
            index++;
        }

        if (index < body.Length && body[index] is '{' or '[')
        {
            return Parse(body, out maxDepth);
        }

        // body-parser replaces everything from the first non-blank character with '#',
        // lets JSON.parse fail on that, and then puts the original text back into the message.
        string partial = index < body.Length ? body[..index] + new string('#', body.Length - index) : string.Empty;
        string message;
        try
        {
            Parse(partial);
            message = "strict violation";
        }
        catch (JsJsonException e)
        {
            message = e.Message;
        }

        var sb = new System.Text.StringBuilder(message.Length);
        int i = 0;
        while (i < message.Length)
        {
            if (message[i] != '#')
            {
                sb.Append(message[i]);
                i++;
                continue;
            }

            int run = 0;
            while (i + run < message.Length && message[i + run] == '#')
            {
                run++;
            }

            int from = Math.Min(index, body.Length);
            int to = Math.Min(index + run, body.Length);
            sb.Append(body, from, to - from);
            i += run;
        }

        throw new JsJsonException(sb.ToString());
    }

    private static Token TokenOf(char c) => c switch
    {
        '"' => Token.String,
        '-' or (>= '0' and <= '9') => Token.Number,
        '{' => Token.LBrace,
        '}' => Token.RBrace,
        '[' => Token.LBrack,
        ']' => Token.RBrack,
        't' => Token.TrueLiteral,
        'f' => Token.FalseLiteral,
        'n' => Token.NullLiteral,
        ':' => Token.Colon,
        ',' => Token.Comma,
        ' ' or '\t' or '\n' or '\r' => Token.Whitespace,
        _ => Token.Illegal,
    };

    private Token Peek() => _pos >= _s.Length ? Token.Eos : TokenOf(_s[_pos]);

    private int Current => _pos < _s.Length ? _s[_pos] : -1;

    private static bool IsDigit(int c) => c is >= '0' and <= '9';

    private void SkipWhitespace()
    {
        while (_pos < _s.Length && _s[_pos] is ' ' or '\t' or '\n' or '\r')
        {
            _pos++;
        }
    }

    private sealed class Frame
    {
        public JsArray? Array;
        public JsObject? Object;
        public string? Key;
    }

    private object? ParseRoot(out int maxDepth)
    {
        var stack = new List<Frame>();
        maxDepth = 0;
        object? value;
        while (true)
        {
            // Produce a value.
            while (true)
            {
                SkipWhitespace();
                Token token = Peek();
                if (token == Token.String)
                {
                    _pos++;
                    value = ScanString();
                    break;
                }

                if (token == Token.Number)
                {
                    value = ParseNumber();
                    break;
                }

                if (token == Token.LBrace)
                {
                    _pos++;
                    SkipWhitespace();
                    if (Peek() == Token.RBrace)
                    {
                        _pos++;
                        value = new JsObject();
                        maxDepth = Math.Max(maxDepth, stack.Count + 1);
                        break;
                    }

                    var frame = new Frame { Object = new JsObject() };
                    stack.Add(frame);
                    maxDepth = Math.Max(maxDepth, stack.Count);
                    ExpectNext(Token.String, "Expected property name or '}'");
                    frame.Key = ScanString();
                    ExpectNext(Token.Colon, "Expected ':' after property name");
                    continue;
                }

                if (token == Token.LBrack)
                {
                    _pos++;
                    SkipWhitespace();
                    if (Peek() == Token.RBrack)
                    {
                        _pos++;
                        value = new JsArray();
                        maxDepth = Math.Max(maxDepth, stack.Count + 1);
                        break;
                    }

                    stack.Add(new Frame { Array = new JsArray() });
                    maxDepth = Math.Max(maxDepth, stack.Count);
                    continue;
                }

                if (token == Token.TrueLiteral)
                {
                    ScanLiteral("true");
                    value = JsValue.True;
                    break;
                }

                if (token == Token.FalseLiteral)
                {
                    ScanLiteral("false");
                    value = JsValue.False;
                    break;
                }

                if (token == Token.NullLiteral)
                {
                    ScanLiteral("null");
                    value = null;
                    break;
                }

                throw Unexpected(token, null);
            }

            // Consume the value.
            bool produceNext = false;
            while (!produceNext)
            {
                if (stack.Count == 0)
                {
                    SkipWhitespace();
                    if (_pos < _s.Length)
                    {
                        throw Unexpected(Peek(), NonWhitespaceAfterJson);
                    }

                    return value;
                }

                Frame top = stack[^1];
                if (top.Object is { } obj)
                {
                    obj.Set(top.Key!, value);
                    SkipWhitespace();
                    if (Peek() == Token.Comma)
                    {
                        _pos++;
                        ExpectNext(Token.String, "Expected double-quoted property name");
                        top.Key = ScanString();
                        ExpectNext(Token.Colon, null);
                        produceNext = true;
                        continue;
                    }

                    Expect(Token.RBrace, "Expected ',' or '}' after property value");
                    value = obj;
                    stack.RemoveAt(stack.Count - 1);
                }
                else
                {
                    JsArray arr = top.Array!;
                    arr.Add(value);
                    SkipWhitespace();
                    if (Peek() == Token.Comma)
                    {
                        _pos++;
                        produceNext = true;
                        continue;
                    }

                    Expect(Token.RBrack, "Expected ',' or ']' after array element");
                    value = arr;
                    stack.RemoveAt(stack.Count - 1);
                }
            }
        }
    }

    private void ExpectNext(Token token, string? message)
    {
        SkipWhitespace();
        Expect(token, message);
    }

    private void Expect(Token token, string? message)
    {
        Token actual = Peek();
        if (actual != token)
        {
            throw Unexpected(actual, message);
        }

        _pos++;
    }

    private void ScanLiteral(string literal)
    {
        int remaining = literal.Length - 1;
        if (_s.Length - _pos - 1 >= remaining && string.CompareOrdinal(_s, _pos + 1, literal, 1, remaining) == 0)
        {
            _pos += literal.Length;
            return;
        }

        _pos++;
        for (int i = 0; i < remaining; i++)
        {
            if (_pos >= _s.Length)
            {
                throw Unexpected(Token.Eos, null);
            }

            if (_s[_pos] != literal[1 + i])
            {
                throw Unexpected(TokenOf(_s[_pos]), null);
            }

            _pos++;
        }

        throw Unexpected(Token.Eos, null);
    }

    private string ScanString()
    {
        System.Text.StringBuilder? sb = null;
        int start = _pos;
        while (true)
        {
            if (_pos >= _s.Length)
            {
                throw Unexpected(Token.Eos, "Unterminated string");
            }

            char c = _s[_pos];
            if (c == '"')
            {
                string result;
                if (sb is null)
                {
                    result = _s.Substring(start, _pos - start);
                }
                else
                {
                    sb.Append(_s, start, _pos - start);
                    result = sb.ToString();
                }

                _pos++;
                return result;
            }

            if (c == '\\')
            {
                sb ??= new System.Text.StringBuilder();
                sb.Append(_s, start, _pos - start);
                _pos++;
                if (_pos >= _s.Length)
                {
                    throw Unexpected(Token.Eos, null);
                }

                char e = _s[_pos];
                if (e > '\u00ff')
                {
                    throw Unexpected(TokenOf(e), null);
                }

                switch (e)
                {
                    case '"':
                    case '\\':
                    case '/':
                        sb.Append(e);
                        break;
                    case 'b':
                        sb.Append('\b');
                        break;
                    case 'f':
                        sb.Append('\f');
                        break;
                    case 'n':
                        sb.Append('\n');
                        break;
                    case 'r':
                        sb.Append('\r');
                        break;
                    case 't':
                        sb.Append('\t');
                        break;
                    case 'u':
                        int code = 0;
                        for (int i = 0; i < 4; i++)
                        {
                            _pos++;
                            int digit = _pos < _s.Length ? HexValue(_s[_pos]) : -1;
                            if (digit < 0)
                            {
                                throw Unexpected(Token.Illegal, "Bad Unicode escape");
                            }

                            code = (code * 16) + digit;
                        }

                        sb.Append((char)code);
                        break;
                    default:
                        throw Unexpected(Token.Illegal, "Bad escaped character");
                }

                _pos++;
                start = _pos;
                continue;
            }

            if (c < '\u0020')
            {
                throw Unexpected(Token.Illegal, "Bad control character in string literal");
            }

            _pos++;
        }
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private double ParseNumber()
    {
        int start = _pos;
        bool negative = false;
        int c = Current;
        if (c == '-')
        {
            negative = true;
            _pos++;
            c = Current;
        }

        if (c == '0')
        {
            _pos++;
            c = Current;
            if (IsDigit(c))
            {
                throw Unexpected(Token.Number, null);
            }

            if (c is not ('.' or 'e' or 'E'))
            {
                return negative ? -0.0 : 0.0;
            }
        }
        else
        {
            int digitsStart = _pos;
            while (IsDigit(Current))
            {
                _pos++;
            }

            if (_pos == digitsStart)
            {
                throw Unexpected(Token.Illegal, "No number after minus sign");
            }

            c = Current;
        }

        if (c == '.')
        {
            _pos++;
            if (!IsDigit(Current))
            {
                throw Unexpected(Token.Illegal, "Unterminated fractional number");
            }

            while (IsDigit(Current))
            {
                _pos++;
            }

            c = Current;
        }

        if (c is 'e' or 'E')
        {
            _pos++;
            if (Current is '-' or '+')
            {
                _pos++;
            }

            if (!IsDigit(Current))
            {
                throw Unexpected(Token.Illegal, "Exponent part is missing a number");
            }

            while (IsDigit(Current))
            {
                _pos++;
            }
        }

        return double.Parse(_s.AsSpan(start, _pos - start), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private JsJsonException Unexpected(Token token, string? message)
    {
        if (message is not null)
        {
            return new JsJsonException(message == NonWhitespaceAfterJson
                ? $"{message} at position {_pos}"
                : $"{message} in JSON at position {_pos}");
        }

        return token switch
        {
            Token.Eos => new JsJsonException("Unexpected end of JSON input"),
            Token.Number => new JsJsonException($"Unexpected number in JSON at position {_pos}"),
            Token.String => new JsJsonException($"Unexpected string in JSON at position {_pos}"),
            _ => new JsJsonException(UnexpectedTokenMessage()),
        };
    }

    private string UnexpectedTokenMessage()
    {
        string src = _s;
        if (src is "NaN" or "Infinity" or "undefined" or "[object Object]")
        {
            return $"\"{src}\" is not valid JSON";
        }

        char c = _s[_pos];
        int length = src.Length;
        if (length < MinOriginalSourceLengthForContext)
        {
            return $"Unexpected token '{c}', \"{src}\" is not valid JSON";
        }

        if (_pos < MaxContextCharacters)
        {
            return $"Unexpected token '{c}', \"{src[..(_pos + MaxContextCharacters)]}\"... is not valid JSON";
        }

        if (_pos < length - MaxContextCharacters)
        {
            return $"Unexpected token '{c}', ...\"{src[(_pos - MaxContextCharacters)..(_pos + MaxContextCharacters)]}\"... is not valid JSON";
        }

        return $"Unexpected token '{c}', ...\"{src[(_pos - MaxContextCharacters)..]}\" is not valid JSON";
    }
}
