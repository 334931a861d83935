using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox
{
    /// <summary>
    /// Reads the items of one array property of a top-level JSON object (<c>{"messages":[…]}</c>) while the body is
    /// still arriving, and yields each item as soon as its bytes are complete. Memory holds the unread part of the
    /// body plus one item, never the whole response. Numeric top-level properties (<c>total</c>, <c>limit</c>) are
    /// collected on the way.
    /// </summary>
    internal sealed class JsonArrayStreamReader<T>
    {
        private const int InitialBufferSize = 16 * 1024;

        private readonly string _propertyName;
        private readonly JsonSerializerOptions _options;
        private byte[] _buffer = new byte[InitialBufferSize];
        private int _start;
        private int _end;
        private bool _endOfStream;
        private bool _inArray;
        private bool _inItem;
        private int _itemStart;
        private int _itemDepth;
        private bool _done;
        private JsonReaderState _state = new JsonReaderState(JsonOptions.ReaderOptions);

        private JsonArrayStreamReader(string propertyName, JsonSerializerOptions options)
        {
            _propertyName = propertyName;
            _options = options;
        }

        /// <summary>Numbers found at the top level of the object (e.g. <c>total</c>), once the body has been read.</summary>
        internal Dictionary<string, long> TopLevelNumbers { get; } = new Dictionary<string, long>(StringComparer.Ordinal);

        internal static async IAsyncEnumerable<T> ReadAsync(
            Stream stream,
            string propertyName,
            JsonSerializerOptions options,
            Action<Dictionary<string, long>>? onTopLevelNumbers,
            [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var reader = new JsonArrayStreamReader<T>(propertyName, options);
            var items = new List<T>();
            while (true)
            {
                reader.Parse(items);
                foreach (var item in items)
                {
                    yield return item;
                }
                items.Clear();
                if (reader._done)
                {
                    onTopLevelNumbers?.Invoke(reader.TopLevelNumbers);
                    yield break;
                }
                if (reader._endOfStream)
                {
                    throw new JsonException("The response ended before its JSON was complete.");
                }
                await reader.FillAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Parses what the buffer holds, adding every item that is complete.</summary>
        private void Parse(List<T> items)
        {
            var span = new ReadOnlySpan<byte>(_buffer, _start, _end - _start);
            var reader = new Utf8JsonReader(span, _endOfStream, _state);
            long committed = 0;
            JsonReaderState committedState = _state;

            while (!_done)
            {
                if (!reader.Read())
                {
                    break;
                }

                if (_inItem)
                {
                    // Inside an item, tokens are consumed one by one, so a large item is scanned once however it
                    // arrives; its bytes stay in the buffer from _itemStart until its closing token.
                    if ((reader.TokenType == JsonTokenType.EndObject || reader.TokenType == JsonTokenType.EndArray)
                        && reader.CurrentDepth == _itemDepth)
                    {
                        int itemEnd = _start + (int)reader.BytesConsumed;
                        using (DeferredJsonValue.OpenSource(_buffer, _itemStart, itemEnd - _itemStart))
                        {
                            items.Add(JsonSerializer.Deserialize<T>(new ReadOnlySpan<byte>(_buffer, _itemStart, itemEnd - _itemStart), _options)!);
                        }
                        _inItem = false;
                    }
                }
                else if (_inArray)
                {
                    if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 1)
                    {
                        _inArray = false;
                    }
                    else if (reader.TokenType == JsonTokenType.StartObject || reader.TokenType == JsonTokenType.StartArray)
                    {
                        _inItem = true;
                        _itemStart = _start + (int)reader.TokenStartIndex;
                        _itemDepth = reader.CurrentDepth;
                    }
                    else
                    {
                        int itemStart = (int)reader.TokenStartIndex;
                        items.Add(JsonSerializer.Deserialize<T>(span.Slice(itemStart, (int)reader.BytesConsumed - itemStart), _options)!);
                    }
                }
                else if (reader.CurrentDepth == 0)
                {
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        _done = true;
                    }
                    else if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new JsonException($"Expected a JSON object, found {reader.TokenType}.");
                    }
                }
                else if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    // A whole property (name and value) is consumed at once, or not at all.
                    bool isTarget = reader.ValueTextEquals(_propertyName);
                    string name = reader.GetString() ?? "";
                    if (!reader.Read())
                    {
                        break;
                    }
                    if (isTarget && reader.TokenType == JsonTokenType.StartArray)
                    {
                        _inArray = true;
                    }
                    else if (isTarget && reader.TokenType != JsonTokenType.Null)
                    {
                        throw new JsonException($"Expected '{_propertyName}' to be an array, found {reader.TokenType}.");
                    }
                    else if (reader.TokenType == JsonTokenType.StartObject || reader.TokenType == JsonTokenType.StartArray)
                    {
                        if (!reader.TrySkip())
                        {
                            break;
                        }
                    }
                    else if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long number))
                    {
                        TopLevelNumbers[name] = number;
                    }
                }

                committed = reader.BytesConsumed;
                committedState = reader.CurrentState;
            }

            _start += (int)committed;
            _state = committedState;
        }

        /// <summary>Reads once more from the stream, keeping the unparsed bytes and those of an unfinished item.</summary>
        private async Task FillAsync(Stream stream, CancellationToken cancellationToken)
        {
            int keep = _inItem ? _itemStart : _start;
            if (keep > 0)
            {
                Buffer.BlockCopy(_buffer, keep, _buffer, 0, _end - keep);
                _end -= keep;
                _start -= keep;
                if (_inItem)
                {
                    _itemStart = 0;
                }
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            int read = await stream.ReadAsync(_buffer, _end, _buffer.Length - _end, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _endOfStream = true;
                return;
            }
            _end += read;
        }
    }
}
