using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AgentMailbox.Tests;

/// <summary>
/// A one-shot HTTP/1.1 server on loopback that answers the first request with a chunked 200 JSON body whose pieces
/// a script writes at its own pace: for bodies that pause or trickle, which the mock server does not produce. Given a
/// certificate, it speaks https.
/// </summary>
internal sealed class ScriptedHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly X509Certificate2? _certificate;

    private ScriptedHttpServer(TcpListener listener, Func<Func<string, Task>, Task> script, X509Certificate2? certificate)
    {
        _listener = listener;
        _certificate = certificate;
        _serving = Task.Run(() => ServeAsync(script));
    }

    public Uri BaseUri => new($"{(_certificate is null ? "http" : "https")}://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public static ScriptedHttpServer Start(Func<Func<string, Task>, Task> script, X509Certificate2? certificate = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new ScriptedHttpServer(listener, script, certificate);
    }

    private async Task ServeAsync(Func<Func<string, Task>, Task> script)
    {
        try
        {
            using var socket = await _listener.AcceptTcpClientAsync(_stop.Token);
            Stream stream = socket.GetStream();
            if (_certificate is not null)
            {
                var tls = new SslStream(stream);
                stream = tls;
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
            }
            await using var _ = stream;
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await stream.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), _stop.Token);
            await stream.FlushAsync(_stop.Token);
            await script(async text =>
            {
                byte[] data = Encoding.UTF8.GetBytes(text);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(data.Length.ToString("X", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"), _stop.Token);
                await stream.WriteAsync(data, _stop.Token);
                await stream.WriteAsync("\r\n"u8.ToArray(), _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }).WaitAsync(_stop.Token);
            await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), _stop.Token);
            await stream.FlushAsync(_stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await _serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }
        _stop.Dispose();
    }
}
