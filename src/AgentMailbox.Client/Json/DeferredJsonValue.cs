using System;
using System.Text.Json;
using System.Threading;

namespace AgentMailbox
{
    /// <summary>
    /// A free-form JSON object or array (a payload, a context snapshot, metadata) of an item of a streamed list, kept as
    /// its UTF-8 bytes until a caller first reads the property that holds it; then the client's
    /// <see cref="IJsonValueConverter"/> converts it once and the property keeps the result.
    /// </summary>
    /// <remarks>
    /// Why: an inbox item carries its thread's recent messages, each with a payload and a snapshot, so 2,000 unread
    /// messages hold some 44,000 free-form objects. Built eagerly as PowerShell objects they cost more to allocate and
    /// to keep (garbage collection of a large live graph) than the rest of the read together, and most are never
    /// looked at. Kept as bytes they cost one copy of the item. The bytes were validated by the reader when the item
    /// was read (the same reader options apply when they are converted), so a conversion cannot fail on bad JSON later.
    /// </remarks>
    internal sealed class DeferredJsonValue
    {
        private readonly byte[] _utf8;
        private readonly int _start;
        private readonly int _length;
        private readonly IJsonValueConverter _converter;

        private DeferredJsonValue(byte[] utf8, int start, int length, IJsonValueConverter converter)
        {
            _utf8 = utf8;
            _start = start;
            _length = length;
            _converter = converter;
        }

        /// <summary>Converts the value (each call converts anew; <see cref="Resolve"/> keeps the first result).</summary>
        private object? Convert()
        {
            var reader = new Utf8JsonReader(new ReadOnlySpan<byte>(_utf8, _start, _length), JsonOptions.ReaderOptions);
            reader.Read();
            return _converter.Read(ref reader);
        }

        /// <summary>
        /// What a model's property getter returns for its backing field: a deferred value is converted the first time
        /// and replaced by the result, so every later read (from any thread) sees the same object; anything else is
        /// returned as it is.
        /// </summary>
        internal static object? Resolve(ref object? field)
        {
            object? current = Volatile.Read(ref field);
            if (current is not DeferredJsonValue deferred)
            {
                return current;
            }
            object? value = deferred.Convert();
            object? prior = Interlocked.CompareExchange(ref field, value, current);
            // Another thread may have converted it first: its object is the one everyone else already sees.
            return ReferenceEquals(prior, current) ? value : prior;
        }

        #region Capture while an item is read

        /// <summary>The bytes of the item being deserialized on this thread, while a <see cref="SourceScope"/> is open.</summary>
        [ThreadStatic]
        private static Source? t_source;

        internal sealed class Source
        {
            internal byte[] Buffer = Array.Empty<byte>();
            internal int Offset;
            internal int Length;
            /// <summary>One copy of the item, made at its first deferred value and shared by all of them.</summary>
            internal byte[]? Copy;
        }

        /// <summary>
        /// Declares that <c>JsonSerializer.Deserialize</c> is about to read exactly <paramref name="length"/> bytes of
        /// <paramref name="buffer"/> from <paramref name="offset"/> on this thread, so free-form values met on the way
        /// can be kept as bytes. Without an open scope every value is converted at once.
        /// </summary>
        internal static SourceScope OpenSource(byte[] buffer, int offset, int length)
        {
            var source = t_source ??= new Source();
            source.Buffer = buffer;
            source.Offset = offset;
            source.Length = length;
            source.Copy = null;
            return new SourceScope(source);
        }

        internal readonly struct SourceScope : IDisposable
        {
            private readonly Source _source;

            internal SourceScope(Source source) => _source = source;

            public void Dispose()
            {
                _source.Buffer = Array.Empty<byte>();
                _source.Length = 0;
                _source.Copy = null;
            }
        }

        /// <summary>
        /// With the reader on the first token of an object or array of the item declared by <see cref="OpenSource"/>,
        /// skips the value and returns it deferred; otherwise (no item declared, or a scalar) returns false and leaves
        /// the reader where it was.
        /// </summary>
        internal static bool TryCapture(ref Utf8JsonReader reader, IJsonValueConverter converter, out DeferredJsonValue? value)
        {
            value = null;
            var source = t_source;
            if (source is null || source.Length == 0 || reader.HasValueSequence
                || (reader.TokenType != JsonTokenType.StartObject && reader.TokenType != JsonTokenType.StartArray))
            {
                return false;
            }
            int start = (int)reader.TokenStartIndex;
            reader.Skip();
            int end = (int)reader.BytesConsumed;
            if (end > source.Length)
            {
                throw new InvalidOperationException("A deferred JSON value lies outside the item being read.");
            }
            if (source.Copy is null)
            {
                source.Copy = new byte[source.Length];
                System.Buffer.BlockCopy(source.Buffer, source.Offset, source.Copy, 0, source.Length);
            }
            value = new DeferredJsonValue(source.Copy, start, end - start, converter);
            return true;
        }

        #endregion
    }
}
