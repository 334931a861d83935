// A loopback TCP relay between a client and the server that notes when the bytes of the server's answers pass
// through it, on the monotonic clock every process on the machine shares (Stopwatch.GetTimestamp). The harness
// uses it to check, within one run, that the module writes its first inbox message before the body's last byte
// has reached it. With a delay it also stands for a distant server: every chunk, in each direction, is passed on
// that long after it arrived (order and bandwidth kept), so a request and its answer pay twice the delay in round
// trip, on every connection independently.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AgentMailbox.Bench;

internal static class Relay
{
    private static TcpListener? s_listener;
    private static long s_answerStarted;
    private static long s_lastAnswerByte;
    private static long s_answerBytes;
    private static TimeSpan s_delay;

    public static Dictionary<string, object?> Start(string server, double delayMs = 0)
    {
        s_delay = TimeSpan.FromMilliseconds(delayMs);
        var upstream = new Uri(server);
        s_listener?.Stop();
        s_listener = new TcpListener(IPAddress.Loopback, 0);
        s_listener.Start();
        var listener = s_listener;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient client;
                try { client = await listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => ServeAsync(client, upstream));
            }
        });
        return new() { ["uri"] = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}" };
    }

    /// <summary>When the last answer began and ended (monotonic ticks, Stopwatch.Frequency per second), and its size.</summary>
    public static Dictionary<string, object?> Last() => new()
    {
        ["answerStartedTs"] = Interlocked.Read(ref s_answerStarted),
        ["lastByteTs"] = Interlocked.Read(ref s_lastAnswerByte),
        ["bytes"] = Interlocked.Read(ref s_answerBytes),
        ["frequency"] = Stopwatch.Frequency,
    };

    private static async Task ServeAsync(TcpClient client, Uri upstream)
    {
        using (client)
        using (var server = new TcpClient())
        {
            client.NoDelay = true;
            server.NoDelay = true;
            await server.ConnectAsync(upstream.Host, upstream.Port);
            Stream fromClient = client.GetStream();
            Stream toServer = server.GetStream();
            if (s_delay > TimeSpan.Zero)
            {
                fromClient = new DelayedStream(fromClient, s_delay);
                toServer = new DelayedStream(toServer, s_delay);
            }
            bool newAnswer = true;
            var up = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await fromClient.ReadAsync(buffer)) > 0)
                {
                    Volatile.Write(ref newAnswer, true);
                    await toServer.WriteAsync(buffer.AsMemory(0, read));
                }
                server.Client.Shutdown(SocketShutdown.Send);
            });
            var down = Task.Run(async () =>
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await toServer.ReadAsync(buffer)) > 0)
                {
                    if (Volatile.Read(ref newAnswer))
                    {
                        Volatile.Write(ref newAnswer, false);
                        Interlocked.Exchange(ref s_answerStarted, Stopwatch.GetTimestamp());
                        Interlocked.Exchange(ref s_answerBytes, 0);
                    }
                    await fromClient.WriteAsync(buffer.AsMemory(0, read));
                    Interlocked.Add(ref s_answerBytes, read);
                    Interlocked.Exchange(ref s_lastAnswerByte, Stopwatch.GetTimestamp());
                }
                client.Client.Shutdown(SocketShutdown.Send);
            });
            try { await Task.WhenAll(up, down); }
            catch (Exception) { }
        }
    }
}

/// <summary>
/// Reads of the inner stream come out <c>delay</c> after they arrived: a pump reads ahead and stamps each chunk, a
/// read waits for the oldest chunk's time. Writes pass straight through.
/// </summary>
internal sealed class DelayedStream : Stream
{
    private readonly Stream _inner;
    private readonly TimeSpan _delay;
    private readonly System.Threading.Channels.Channel<(long Due, byte[] Data)> _chunks =
        System.Threading.Channels.Channel.CreateUnbounded<(long, byte[])>(new() { SingleReader = true, SingleWriter = true });
    private byte[] _current = [];
    private int _offset;

    public DelayedStream(Stream inner, TimeSpan delay)
    {
        _inner = inner;
        _delay = delay;
        _ = Task.Run(PumpAsync);
    }

    private async Task PumpAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await _inner.ReadAsync(buffer)) > 0)
            {
                long due = Stopwatch.GetTimestamp() + (long)(_delay.TotalSeconds * Stopwatch.Frequency);
                await _chunks.Writer.WriteAsync((due, buffer.AsSpan(0, read).ToArray()));
            }
        }
        catch (Exception)
        {
        }
        _chunks.Writer.TryComplete();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (_offset == _current.Length)
        {
            if (!await _chunks.Reader.WaitToReadAsync(cancellationToken) || !_chunks.Reader.TryRead(out var chunk))
            {
                return 0;
            }
            long wait = chunk.Due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken);
            }
            _current = chunk.Data;
            _offset = 0;
        }
        int count = Math.Min(destination.Length, _current.Length - _offset);
        _current.AsSpan(_offset, count).CopyTo(destination.Span);
        _offset += count;
        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default) => _inner.WriteAsync(source, cancellationToken);
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => _inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
}
