// A loopback TCP relay between a client and the server that notes when the bytes of the server's answers pass
// through it, on the monotonic clock every process on the machine shares (Stopwatch.GetTimestamp). The harness
// uses it to check, within one run, that the module writes its first inbox message before the body's last byte
// has reached it.
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

    public static Dictionary<string, object?> Start(string server)
    {
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
            var fromClient = client.GetStream();
            var toServer = server.GetStream();
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
