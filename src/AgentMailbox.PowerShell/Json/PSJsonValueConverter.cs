using System;
using System.Buffers;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text.Json;

namespace AgentMailbox.PowerShell
{
    /// <summary>
    /// The one place where PowerShell values become JSON and JSON becomes PowerShell values.
    /// Out: hashtables, ordered dictionaries, PSCustomObjects, arrays, strings, numbers, booleans and $null at any depth
    /// up to <see cref="MaxDepth"/>, never silently truncated; cycles are an error, not a stack overflow.
    /// In: objects become PSCustomObjects (property order kept), arrays become object[], numbers stay numbers
    /// (Int32, Int64, Decimal or Double, the narrowest that holds the value), strings stay strings.
    /// </summary>
    internal sealed class PSJsonValueConverter : IJsonValueConverter
    {
        /// <summary>How deep a value may nest; far beyond ConvertTo-Json's default of 2 and the 64 the module promises.</summary>
        public const int MaxDepth = 256;

        public static PSJsonValueConverter Instance { get; } = new PSJsonValueConverter();

        #region Reading

        public object? Read(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    var entries = t_entries ??= new List<KeyValuePair<string, object?>>();
                    int first = entries.Count;
                    try
                    {
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                        {
                            string name = reader.GetString()!;
                            reader.Read();
                            entries.Add(new KeyValuePair<string, object?>(name, Read(ref reader)));
                        }
                        return BuildObject(entries, first);
                    }
                    finally
                    {
                        entries.RemoveRange(first, entries.Count - first);
                    }
                case JsonTokenType.StartArray:
                    var items = new List<object?>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        items.Add(Read(ref reader));
                    }
                    return items.ToArray();
                case JsonTokenType.String:
                    return reader.GetString();
                case JsonTokenType.Number:
                    if (reader.TryGetInt32(out int i32))
                    {
                        return i32;
                    }
                    if (reader.TryGetInt64(out long i64))
                    {
                        return i64;
                    }
                    if (reader.TryGetDecimal(out decimal dec) && !HasExponent(ref reader))
                    {
                        return dec;
                    }
                    return reader.GetDouble();
                case JsonTokenType.True:
                    return true;
                case JsonTokenType.False:
                    return false;
                case JsonTokenType.Null:
                    return null;
                default:
                    throw new JsonException($"Unexpected JSON token {reader.TokenType}.");
            }
        }

        /// <summary>The properties of the objects being read on this thread, innermost last (a stack shared by the nesting levels).</summary>
        [ThreadStatic]
        private static List<KeyValuePair<string, object?>>? t_entries;

        /// <summary>
        /// A JSON object as a PSCustomObject, property order kept. A repeated name keeps its first place and its last
        /// value, as JavaScript's JSON.parse does. An object that no PSCustomObject can hold faithfully — an empty
        /// property name, names that differ only in case (PowerShell's member names ignore case), or a name PowerShell
        /// reserves for its own members (PSObject, PSBase, PSAdapted, PSExtended, PSTypeNames) — becomes an ordered
        /// dictionary with ordinal keys instead, so nothing is dropped and <c>$x.name</c> (or <c>$x['PSObject']</c>) still works.
        /// </summary>
        private static object BuildObject(List<KeyValuePair<string, object?>> entries, int first)
        {
            int end = entries.Count;
            bool repeats = false;
            bool needsDictionary = false;
            Dictionary<string, string>? seen = end - first > 16 ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) : null;
            for (int i = first; i < end && !needsDictionary; i++)
            {
                string name = entries[i].Key;
                if (name.Length == 0 || IsReservedMemberName(name))
                {
                    needsDictionary = true;
                    break;
                }
                string? earlier = null;
                if (seen is null)
                {
                    for (int j = first; j < i; j++)
                    {
                        if (string.Equals(entries[j].Key, name, StringComparison.OrdinalIgnoreCase))
                        {
                            earlier = entries[j].Key;
                            break;
                        }
                    }
                }
                else if (!seen.TryGetValue(name, out earlier))
                {
                    seen.Add(name, name);
                }
                if (earlier is not null)
                {
                    repeats = true;
                    needsDictionary = !string.Equals(earlier, name, StringComparison.Ordinal);
                }
            }

            if (needsDictionary)
            {
                var dictionary = new OrderedDictionary(StringComparer.Ordinal);
                for (int i = first; i < end; i++)
                {
                    dictionary[entries[i].Key] = entries[i].Value;
                }
                return dictionary;
            }

            var result = new PSObject();
            if (!repeats)
            {
                for (int i = first; i < end; i++)
                {
                    // Pre-validated: the names were checked above (none empty or reserved, none differing only in
                    // case), and a new PSCustomObject has no other members to collide with, so the collection's own
                    // check of each name is skipped.
                    result.Properties.Add(new PSNoteProperty(entries[i].Key, entries[i].Value), preValidated: true);
                }
                return result;
            }
            // The collection stores a copy of each property it is given, so the last values are found first.
            var last = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (int i = first; i < end; i++)
            {
                last[entries[i].Key] = entries[i].Value;
            }
            for (int i = first; i < end; i++)
            {
                if (last.TryGetValue(entries[i].Key, out var value))
                {
                    result.Properties.Add(new PSNoteProperty(entries[i].Key, value), preValidated: true);
                    last.Remove(entries[i].Key);
                }
            }
            return result;
        }

        /// <summary>The member names every PSObject has, which a note property may not take (any case).</summary>
        private static bool IsReservedMemberName(string name)
            => name.Length >= 6 && name.Length <= 11 && (name[0] == 'p' || name[0] == 'P') && (name[1] == 's' || name[1] == 'S')
               && (string.Equals(name, "PSObject", StringComparison.OrdinalIgnoreCase)
                   || string.Equals(name, "PSBase", StringComparison.OrdinalIgnoreCase)
                   || string.Equals(name, "PSAdapted", StringComparison.OrdinalIgnoreCase)
                   || string.Equals(name, "PSExtended", StringComparison.OrdinalIgnoreCase)
                   || string.Equals(name, "PSTypeNames", StringComparison.OrdinalIgnoreCase));

        private static bool HasExponent(ref Utf8JsonReader reader)
        {
            var span = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
            return Array.IndexOf(span, (byte)'e') >= 0 || Array.IndexOf(span, (byte)'E') >= 0;
        }

        #endregion

        #region Writing

        public void Write(Utf8JsonWriter writer, object? value)
        {
            var path = new Stack<object>();
            WriteValue(writer, value, path, "$");
        }

        private void WriteValue(Utf8JsonWriter writer, object? value, Stack<object> path, string where)
        {
            value = Unwrap(value, out PSObject? wrapper);
            switch (value)
            {
                case null:
                    writer.WriteNullValue();
                    return;
                case string s:
                    writer.WriteStringValue(s);
                    return;
                case char c:
                    writer.WriteStringValue(c.ToString());
                    return;
                case bool b:
                    writer.WriteBooleanValue(b);
                    return;
                case int n: writer.WriteNumberValue(n); return;
                case long n: writer.WriteNumberValue(n); return;
                case short n: writer.WriteNumberValue(n); return;
                case byte n: writer.WriteNumberValue(n); return;
                case sbyte n: writer.WriteNumberValue(n); return;
                case uint n: writer.WriteNumberValue(n); return;
                case ulong n: writer.WriteNumberValue(n); return;
                case ushort n: writer.WriteNumberValue(n); return;
                case decimal n: writer.WriteNumberValue(n); return;
                case float n:
                    RequireFinite(n, where);
                    writer.WriteNumberValue(n);
                    return;
                case double n:
                    RequireFinite(n, where);
                    writer.WriteNumberValue(n);
                    return;
                case BigInteger n:
                    writer.WriteRawValue(n.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
                    return;
                case Enum e:
                    writer.WriteStringValue(e.ToString());
                    return;
                case DateTime dt:
                    writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture));
                    return;
                case DateTimeOffset dto:
                    writer.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture));
                    return;
                case Guid g:
                    writer.WriteStringValue(g.ToString());
                    return;
                case TimeSpan ts:
                    writer.WriteStringValue(ts.ToString("c", CultureInfo.InvariantCulture));
                    return;
                case Uri uri:
                    writer.WriteStringValue(uri.OriginalString);
                    return;
                case Version version:
                    writer.WriteStringValue(version.ToString());
                    return;
                case byte[] bytes:
                    writer.WriteBase64StringValue(bytes);
                    return;
                case JsonElement element:
                    element.WriteTo(writer);
                    return;
                case ScriptBlock:
                    throw new PayloadConversionException(
                        $"The value at {where} is a script block, which has no JSON form. Only -Payload itself may be a script block, which is then run for each input.");
                case System.IO.FileSystemInfo fs:
                    writer.WriteStringValue(fs.FullName);
                    return;
            }

            // Every PSCustomObject shares one base object: its identity is the PSObject wrapper.
            Enter(value is PSCustomObject ? wrapper! : value, path, where);
            try
            {
                if (value is PSCustomObject)
                {
                    writer.WriteStartObject();
                    foreach (var property in wrapper!.Properties)
                    {
                        if (property is PSNoteProperty || property is PSScriptProperty || property is PSAliasProperty || property is PSCodeProperty)
                        {
                            writer.WritePropertyName(property.Name);
                            WriteValue(writer, SafeGet(property, where), path, where + "." + property.Name);
                        }
                    }
                    writer.WriteEndObject();
                }
                else if (value is IDictionary dictionary)
                {
                    writer.WriteStartObject();
                    foreach (DictionaryEntry entry in dictionary)
                    {
                        string key = Convert.ToString(Unwrap(entry.Key, out _), CultureInfo.InvariantCulture) ?? "";
                        writer.WritePropertyName(key);
                        WriteValue(writer, entry.Value, path, where + "." + key);
                    }
                    writer.WriteEndObject();
                }
                else if (value is IEnumerable enumerable)
                {
                    writer.WriteStartArray();
                    int index = 0;
                    foreach (var item in enumerable)
                    {
                        WriteValue(writer, item, path, where + "[" + index.ToString(CultureInfo.InvariantCulture) + "]");
                        index++;
                    }
                    writer.WriteEndArray();
                }
                else
                {
                    // Any other object: its public properties, as PowerShell shows them (including added note properties).
                    var shown = wrapper ?? PSObject.AsPSObject(value);
                    writer.WriteStartObject();
                    foreach (var property in shown.Properties)
                    {
                        if (!property.IsGettable)
                        {
                            continue;
                        }
                        writer.WritePropertyName(property.Name);
                        WriteValue(writer, SafeGet(property, where), path, where + "." + property.Name);
                    }
                    writer.WriteEndObject();
                }
            }
            finally
            {
                path.Pop();
            }
        }

        private static object? SafeGet(PSPropertyInfo property, string where)
        {
            try
            {
                return property.Value;
            }
            catch (Exception ex) when (!(ex is PayloadConversionException))
            {
                throw new PayloadConversionException($"Could not read the property {where}.{property.Name}: {ex.Message}", ex);
            }
        }

        private static void Enter(object container, Stack<object> path, string where)
        {
            if (path.Count >= MaxDepth)
            {
                throw new PayloadConversionException(
                    $"The value nests deeper than {MaxDepth} levels (at {Shorten(where)}); flatten it or send it as a string.");
            }
            foreach (var open in path)
            {
                if (ReferenceEquals(open, container))
                {
                    throw new PayloadConversionException(
                        $"The value refers to itself at {Shorten(where)}: a cycle has no JSON form. Break the cycle before sending.");
                }
            }
            path.Push(container);
        }

        private static string Shorten(string where) => where.Length <= 200 ? where : where.Substring(0, 200) + "…";

        private static void RequireFinite(double value, string where)
        {
            if (double.IsNaN(value) || double.IsInfinity(value))
            {
                throw new PayloadConversionException($"The number at {where} is {value}, which JSON cannot represent.");
            }
        }

        /// <summary>Strips PSObject wrappers (keeping the outermost, whose note properties matter for PSCustomObjects).</summary>
        internal static object? Unwrap(object? value, out PSObject? wrapper)
        {
            wrapper = null;
            while (value is PSObject pso)
            {
                wrapper = pso;
                if (pso.BaseObject is PSCustomObject)
                {
                    return pso.BaseObject;
                }
                if (ReferenceEquals(pso.BaseObject, pso))
                {
                    break;
                }
                value = pso.BaseObject;
            }
            return value;
        }

        #endregion
    }

    /// <summary>A value that has no faithful JSON form (a cycle, a script block, NaN, excessive depth).</summary>
    public sealed class PayloadConversionException : Exception
    {
        public PayloadConversionException(string message, Exception? inner = null) : base(message, inner) { }
    }
}
