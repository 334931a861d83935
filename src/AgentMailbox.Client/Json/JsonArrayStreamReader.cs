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
                bool progressed = reader.Parse(items);
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
                await reader.FillAsync(stream, untilFull: !progressed, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Parses what the buffer holds; returns whether anything was consumed.</summary>
        private bool Parse(List<T> items)
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

                if (_inArray)
                {
                    if (reader.TokenType == JsonTokenType.EndArray && reader.CurrentDepth == 1)
                    {
                        _inArray = false;
                    }
                    else
                    {
                        int itemStart = (int)reader.TokenStartIndex;
                        if ((reader.TokenType == JsonTokenType.StartObject || reader.TokenType == JsonTokenType.StartArray)
                            && !reader.TrySkip())
                        {
                            break;
                        }
                        int itemEnd = (int)reader.BytesConsumed;
                        items.Add(JsonSerializer.Deserialize<T>(span.Slice(itemStart, itemEnd - itemStart), _options)!);
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
            return committed > 0;
        }

        private async Task FillAsync(Stream stream, bool untilFull, CancellationToken cancellationToken)
        {
            int pending = _end - _start;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
                _start = 0;
                _end = pending;
            }
            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }
            do
            {
                int read = await stream.ReadAsync(_buffer, _end, _buffer.Length - _end, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    _endOfStream = true;
                    return;
                }
                _end += read;
            }
            // Stuck inside one large item: read until the buffer is full before parsing again, so a large item is
            // scanned a bounded number of times rather than once per network chunk.
            while (untilFull && _end < _buffer.Length);
        }
    }
}
