namespace AgentMailbox.Tests;

/// <summary>
/// A read-only stream that hands out its bytes in small chunks and, when asked to, stops at a given position
/// until <see cref="Release"/> is called, like a response body whose server pauses mid-way.
/// </summary>
internal sealed class ChunkedStream : Stream
{
    private readonly byte[] _data;
    private readonly int _chunkSize;
    private readonly int _pauseAt;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    public ChunkedStream(byte[] data, int chunkSize, int pauseAt = -1)
    {
        _data = data;
        _chunkSize = chunkSize;
        _pauseAt = pauseAt;
    }

    /// <summary>Completes once a read has reached the pause position and waits there.</summary>
    public Task Paused => _paused.Task;

    /// <summary>True once the last byte has been handed out.</summary>
    public bool Finished => _position >= _data.Length;

    public void Release() => _released.TrySetResult();

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => await ReadAsync(buffer.AsMemory(offset, count), cancellationToken);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pauseAt >= 0 && _position == _pauseAt && !_released.Task.IsCompleted)
        {
            _paused.TrySetResult();
            await _released.Task.WaitAsync(cancellationToken);
        }
        await Task.Yield();
        int limit = _pauseAt >= 0 && _position < _pauseAt ? _pauseAt - _position : _data.Length - _position;
        int n = Math.Min(Math.Min(buffer.Length, _chunkSize), limit);
        _data.AsSpan(_position, n).CopyTo(buffer.Span);
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count)
        => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
