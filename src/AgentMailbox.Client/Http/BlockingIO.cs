using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox
{
    /// <summary>
    /// The parts of <see cref="AgentMailboxClientOptions.BlockingIO"/> that need .NET 5 or later, found by reflection
    /// because the library targets netstandard2.0: <c>HttpClient.Send</c>, and a <c>SocketsHttpHandler</c> whose
    /// connections are blocking sockets. On other runtimes (Windows PowerShell's .NET Framework) both are null and
    /// the client stays asynchronous.
    /// </summary>
    /// <remarks>
    /// A socket that has served one asynchronous operation is non-blocking for good on .NET, and a synchronous read
    /// on it is then completed by the runtime's socket thread and a thread-pool thread, which wake the waiting caller:
    /// the hand-offs (and the spinning of idle pool threads) cost more CPU than the request itself against a nearby
    /// server. Connecting synchronously keeps the socket blocking, so a request's send and receive are plain system
    /// calls on the caller's thread. Cancellation still works: the runtime disposes the connection, and disposing a
    /// blocking socket shuts it down first, which wakes a blocked receive.
    /// </remarks>
    internal static class BlockingIO
    {
        private static readonly Type? HandlerType = typeof(HttpClient).Assembly.GetType("System.Net.Http.SocketsHttpHandler", throwOnError: false);

        /// <summary><c>SocketsHttpConnectionContext.DnsEndPoint</c>: where a connection goes.</summary>
        private static readonly PropertyInfo? ConnectionEndPoint = typeof(HttpClient).Assembly
            .GetType("System.Net.Http.SocketsHttpConnectionContext", throwOnError: false)?.GetProperty("DnsEndPoint");

        /// <summary><c>HttpClient.Send(request, completionOption, cancellationToken)</c>, where the runtime has it.</summary>
        internal static readonly Func<HttpClient, HttpRequestMessage, HttpCompletionOption, CancellationToken, HttpResponseMessage>? Send = CreateSend();

        /// <summary>A <c>SocketsHttpHandler</c> that connects with blocking sockets, or null where the runtime has none.</summary>
        internal static HttpMessageHandler? CreateHandler(bool skipCertificateCheck, TimeSpan connectTimeout)
        {
            var handlerType = HandlerType;
            var connectCallback = handlerType?.GetProperty("ConnectCallback");
            if (Send is null || handlerType is null || connectCallback is null || ConnectionEndPoint is null
                || handlerType.GetProperty("IsSupported", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is false)
            {
                return null;
            }

            var handler = (HttpMessageHandler)Activator.CreateInstance(handlerType)!;
            handlerType.GetProperty("UseCookies")!.SetValue(handler, false);
            handlerType.GetProperty("AllowAutoRedirect")!.SetValue(handler, false);
            handlerType.GetProperty("AutomaticDecompression")!.SetValue(handler, DecompressionMethods.GZip | DecompressionMethods.Deflate);
            // An answer disposed before its end (Ctrl+C, a timeout) closes its connection at once. The default, draining
            // the rest for up to 2 s to keep the connection, would leave a blocked read waiting on the socket that long.
            handlerType.GetProperty("MaxResponseDrainSize")!.SetValue(handler, 0);
            // MaxConnectionsPerServer keeps its default (no limit): each request in flight at once (a cmdlet's -ThrottleLimit)
            // gets a connection of its own.
            if (connectTimeout > TimeSpan.Zero)
            {
                // A connection attempt outlives the request that started it; this bounds how long it holds its thread.
                handlerType.GetProperty("ConnectTimeout")!.SetValue(handler, connectTimeout);
            }
            if (skipCertificateCheck)
            {
                object sslOptions = handlerType.GetProperty("SslOptions")!.GetValue(handler)!;
                sslOptions.GetType().GetProperty("RemoteCertificateValidationCallback")!
                    .SetValue(sslOptions, new RemoteCertificateValidationCallback((_, _, _, _) => true));
            }
            // Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> bound to Connect (its first
            // parameter is object, which the context converts to).
            var connect = typeof(BlockingIO).GetMethod(nameof(Connect), BindingFlags.NonPublic | BindingFlags.Static)!;
            connectCallback.SetValue(handler, Delegate.CreateDelegate(connectCallback.PropertyType, connect));
            return handler;
        }

        /// <summary>
        /// Connects a blocking socket to the request's host on a thread of its own, so that a connect that waits (a
        /// host that does not answer) holds no thread-pool thread; connections are made once per client, rarely.
        /// </summary>
        private static ValueTask<Stream> Connect(object context, CancellationToken cancellationToken)
        {
            var endPoint = (DnsEndPoint)ConnectionEndPoint!.GetValue(context)!;
            var connected = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    connected.TrySetResult(ConnectAny(endPoint, cancellationToken));
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    connected.TrySetCanceled(cancellationToken);
                }
                catch (Exception ex)
                {
                    connected.TrySetException(ex);
                }
            })
            {
                IsBackground = true,
                Name = "AgentMailbox connect",
            };
            thread.Start();
            return new ValueTask<Stream>(connected.Task);
        }

        /// <summary>Tries each of the host's addresses in turn.</summary>
        private static Stream ConnectAny(DnsEndPoint endPoint, CancellationToken cancellationToken)
        {
            IPAddress[] addresses = IPAddress.TryParse(endPoint.Host, out var literal) ? new[] { literal } : Dns.GetHostAddresses(endPoint.Host);
            Exception? last = null;
            foreach (var address in addresses)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    ConnectBlocking(socket, new IPEndPoint(address, endPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch (SocketException ex)
                {
                    socket.Dispose();
                    last = ex;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            throw last ?? new SocketException((int)SocketError.HostNotFound);
        }

        /// <summary>
        /// A blocking connect that cancellation (the request's timeout, Ctrl+C) stops by disposing the socket, which shuts
        /// it down first and so aborts a connect in progress. (Connecting in non-blocking mode and switching back would
        /// leave the socket non-blocking underneath on Unix, which is what this avoids.)
        /// </summary>
        private static void ConnectBlocking(Socket socket, EndPoint remote, CancellationToken cancellationToken)
        {
            using (cancellationToken.Register(state => ((Socket)state!).Dispose(), socket))
            {
                try
                {
                    socket.Connect(remote);
                }
                catch (Exception ex) when ((ex is SocketException || ex is ObjectDisposedException) && cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The connection attempt was cancelled.", ex, cancellationToken);
                }
            }
        }

        private static Func<HttpClient, HttpRequestMessage, HttpCompletionOption, CancellationToken, HttpResponseMessage>? CreateSend()
        {
            var method = typeof(HttpClient).GetMethod("Send", BindingFlags.Public | BindingFlags.Instance, null,
                new[] { typeof(HttpRequestMessage), typeof(HttpCompletionOption), typeof(CancellationToken) }, null);
            return method is null || method.ReturnType != typeof(HttpResponseMessage)
                ? null
                : (Func<HttpClient, HttpRequestMessage, HttpCompletionOption, CancellationToken, HttpResponseMessage>)Delegate.CreateDelegate(
                    typeof(Func<HttpClient, HttpRequestMessage, HttpCompletionOption, CancellationToken, HttpResponseMessage>), method);
        }
    }
}
