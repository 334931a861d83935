using System;
using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AgentMailbox
{
    /// <summary>
    /// The start of a value's JSON, for a one-line preview: the writing is stopped once enough bytes are there, so a
    /// large value costs about as much to preview as a small one.
    /// </summary>
    internal static class JsonPreview
    {
        /// <summary>Runs <paramref name="write"/> until it has written <paramref name="maxBytes"/> bytes or is done; the text written so far.</summary>
        internal static string Start(Action<Utf8JsonWriter> write, int maxBytes)
        {
            var buffer = new BoundedBufferWriter(maxBytes);
            try
            {
                using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JsonOptions.WriterOptions.Encoder, SkipValidation = true });
                write(writer);
            }
            catch (BoundedBufferWriter.FullException)
            {
            }
            return buffer.GetText();
        }

        /// <summary>
        /// Holds the first bytes a <see cref="Utf8JsonWriter"/> writes and, once it holds enough, ends the writing by
        /// throwing <see cref="FullException"/>. It hands out small pieces of memory, so the writer comes back to it
        /// after every few tokens.
        /// </summary>
        internal sealed class BoundedBufferWriter : IBufferWriter<byte>
        {
            private const int Piece = 64;
            private readonly int _limit;
            private byte[] _bytes;
            private int _count;

            internal BoundedBufferWriter(int limit)
            {
                _limit = limit;
                _bytes = new byte[limit + Piece];
            }

            /// <summary>The bytes written (up to the limit) as text; a character the limit cuts through is left out.</summary>
            internal string GetText()
            {
                int end = Math.Min(_count, _limit);
                if (end < _count)
                {
                    // _bytes[end] is the first byte left out: when it continues a character, leave that character out too.
                    while (end > 0 && (_bytes[end] & 0xC0) == 0x80) end--;
                }
                return Encoding.UTF8.GetString(_bytes, 0, end);
            }

            public void Advance(int count)
            {
                _count += count;
                if (_count >= _limit)
                {
                    throw new FullException();
                }
            }

            public Memory<byte> GetMemory(int sizeHint = 0) => new Memory<byte>(Reserve(sizeHint), _count, Math.Max(sizeHint, Piece));

            public Span<byte> GetSpan(int sizeHint = 0) => new Span<byte>(Reserve(sizeHint), _count, Math.Max(sizeHint, Piece));

            private byte[] Reserve(int sizeHint)
            {
                int needed = _count + Math.Max(sizeHint, Piece);
                if (needed > _bytes.Length)
                {
                    // One token longer than the rest of the budget (a long string): room for it, once.
                    Array.Resize(ref _bytes, needed);
                }
                return _bytes;
            }

            internal sealed class FullException : Exception
            {
            }
        }
    }
}
