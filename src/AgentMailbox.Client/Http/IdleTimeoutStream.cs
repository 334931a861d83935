using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox
{
    /// <summary>A read-only response stream that restarts the request's timeout after every read that brings data,
    /// so a body that keeps arriving never times out while one that stalls does.</summary>
    internal sealed class IdleTimeoutStream : Stream
    {
        private readonly Stream _inner;
        private readonly CancellationTokenSource _timeout;
        private readonly TimeSpan _idle;
        private readonly bool _blocking;

        /// <param name="blocking">Read synchronously even when asked to read asynchronously: the caller blocks on the result
        /// anyway (<see cref="AgentMailboxClientOptions.BlockingIO"/>). A stalled read is still ended by the timeout or cancellation, which dispose the answer.</param>
        public IdleTimeoutStream(Stream inner, CancellationTokenSource timeout, TimeSpan idle, bool blocking)
        {
            _inner = inner;
            _timeout = timeout;
            _idle = idle;
            _blocking = blocking;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (!_blocking)
            {
                return ReadAsyncCore(buffer, offset, count, cancellationToken);
            }
            cancellationToken.ThrowIfCancellationRequested();
            return Task.FromResult(Read(buffer, offset, count));
        }

        private async Task<int> ReadAsyncCore(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            int read = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            Restart();
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = _inner.Read(buffer, offset, count);
            Restart();
            return read;
        }

        private void Restart()
        {
            if (_idle != Timeout.InfiniteTimeSpan)
            {
                try
                {
                    _timeout.CancelAfter(_idle);
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
