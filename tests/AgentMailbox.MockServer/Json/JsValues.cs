namespace AgentMailbox.MockServer.Json;

/// <summary>
/// A JSON value with JavaScript semantics. Values are represented as plain CLR objects:
/// <c>null</c> (JSON null), <see cref="bool"/>, <see cref="double"/>, <see cref="string"/>,
/// <see cref="JsArray"/> and <see cref="JsObject"/>. The reference server is a Node.js
/// process, so numbers are doubles and object keys follow the JavaScript property order.
/// </summary>
internal static class JsValue
{
    public static readonly object True = true;
    public static readonly object False = false;

    /// <summary>The type name zod reports for a value ("string", "number", "array", ...).</summary>
    public static string ZodTypeName(object? value) => value switch
    {
        null => "null",
        string => "string",
        double d => double.IsNaN(d) ? "nan" : "number",
        bool => "boolean",
        JsArray => "array",
        JsObject => "object",
        _ => "unknown",
    };

    /// <summary>True when <paramref name="key"/> is an array index ("0" .. "4294967294"),
    /// which JavaScript orders before all other keys of an object.</summary>
    public static bool IsArrayIndex(string key, out uint index)
    {
        index = 0;
        if (key.Length == 0 || key.Length > 10)
        {
            return false;
        }

        if (key.Length > 1 && key[0] == '0')
        {
            return false;
        }

        ulong value = 0;
        foreach (char c in key)
        {
            if (c < '0' || c > '9')
            {
                return false;
            }

            value = (value * 10) + (ulong)(c - '0');
        }

        if (value >= uint.MaxValue)
        {
            return false;
        }

        index = (uint)value;
        return true;
    }

    /// <summary>JavaScript <c>String.prototype.trim</c>.</summary>
    public static string TrimJs(string s)
    {
        int start = 0;
        int end = s.Length;
        while (start < end && IsJsWhitespace(s[start]))
        {
            start++;
        }

        while (end > start && IsJsWhitespace(s[end - 1]))
        {
            end--;
        }

        return start == 0 && end == s.Length ? s : s[start..end];
    }

    /// <summary>WhiteSpace and LineTerminator code points of ECMAScript.</summary>
    public static bool IsJsWhitespace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00a0' or '\u1680' or '\u2028' or '\u2029'
            or '\u202f' or '\u205f' or '\u3000' or '\ufeff' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };
}

internal sealed class JsArray : List<object?>
{
    public JsArray()
    {
    }

    public JsArray(int capacity)
        : base(capacity)
    {
    }
}

/// <summary>
/// An object with JavaScript property order: array-index keys first in ascending numeric
/// order, then the other keys in insertion order. Setting an existing key replaces its value
/// in place, as <c>JSON.parse</c> does for duplicate keys.
/// </summary>
internal sealed class JsObject
{
    private const int IndexThreshold = 8;

    private readonly List<KeyValuePair<string, object?>> _entries;
    private Dictionary<string, int>? _index;
    private int _arrayIndexKeys;

    public JsObject()
    {
        _entries = [];
    }

    public JsObject(int capacity)
    {
        _entries = new List<KeyValuePair<string, object?>>(capacity);
    }

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<string, object?>> Entries => _entries;

    public bool TryGetValue(string key, out object? value)
    {
        int i = IndexOf(key);
        if (i < 0)
        {
            value = null;
            return false;
        }

        value = _entries[i].Value;
        return true;
    }

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public void Set(string key, object? value)
    {
        int existing = IndexOf(key);
        if (existing >= 0)
        {
            _entries[existing] = new KeyValuePair<string, object?>(key, value);
            return;
        }

        if (JsValue.IsArrayIndex(key, out uint index))
        {
            int pos = _arrayIndexKeys;
            while (pos > 0 && ParseIndex(_entries[pos - 1].Key) > index)
            {
                pos--;
            }

            _entries.Insert(pos, new KeyValuePair<string, object?>(key, value));
            _arrayIndexKeys++;
            if (pos != _entries.Count - 1)
            {
                _index = null;
            }
            else
            {
                _index?.Add(key, pos);
            }

            return;
        }

        _entries.Add(new KeyValuePair<string, object?>(key, value));
        _index?.Add(key, _entries.Count - 1);
    }

    private static uint ParseIndex(string key)
    {
        JsValue.IsArrayIndex(key, out uint index);
        return index;
    }

    private int IndexOf(string key)
    {
        if (_entries.Count <= IndexThreshold)
        {
            for (int i = 0; i < _entries.Count; i++)
            {
                if (string.Equals(_entries[i].Key, key, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }

        if (_index is null)
        {
            _index = new Dictionary<string, int>(_entries.Count, StringComparer.Ordinal);
            for (int i = 0; i < _entries.Count; i++)
            {
                _index[_entries[i].Key] = i;
            }
        }

        return _index.TryGetValue(key, out int found) ? found : -1;
    }
}
