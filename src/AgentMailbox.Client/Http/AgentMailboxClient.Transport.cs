using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox
{
    public sealed partial class AgentMailboxClient
    {
        private static readonly Random Jitter = new Random();

        /// <summary>One request on its way: the answer, its body stream and the tokens that bound it.</summary>
        private sealed class Exchange : IDisposable
        {
            public Exchange(HttpResponseMessage response, Stream body, CancellationTokenSource timeout, CancellationTokenSource linked,
                CancellationTokenRegistration abortOnCancel, string method, string path, string requestId, bool idempotent, TimeSpan timeoutValue)
            {
                TimeoutValue = timeoutValue;
                Response = response;
                Body = body;
                Timeout = timeout;
                Linked = linked;
                AbortOnCancel = abortOnCancel;
                Method = method;
                Path = path;
                RequestId = requestId;
                Idempotent = idempotent;
            }

            public HttpResponseMessage Response { get; }
            public Stream Body { get; }
            public CancellationTokenSource Timeout { get; }
            public CancellationTokenSource Linked { get; }
            public CancellationTokenRegistration AbortOnCancel { get; }
            public string Method { get; }
            public string Path { get; }
            public string RequestId { get; }
            public bool Idempotent { get; }
            public TimeSpan TimeoutValue { get; }

            public void Dispose()
            {
                AbortOnCancel.Dispose();
                Body.Dispose();
                Response.Dispose();
                Linked.Dispose();
                Timeout.Dispose();
            }
        }

        private async Task<T> ExecuteAsync<T>(HttpMethod method, string path, string? query, byte[]? body, bool idempotent,
            CancellationToken cancellationToken)
        {
            using var exchange = await SendAsync(method, path, query, body, idempotent, cancellationToken).ConfigureAwait(false);
            try
            {
                EnsureJson(exchange);
                var result = await JsonSerializer.DeserializeAsync<T>(exchange.Body, _json, exchange.Linked.Token).ConfigureAwait(false);
                return result is null ? throw new JsonException("The answer is JSON null.") : result;
            }
            catch (Exception ex) when (IsBodyFailure(ex))
            {
                throw TranslateBodyFailure(ex, exchange, cancellationToken);
            }
        }

        private async IAsyncEnumerable<T> StreamAsync<T>(string path, string query, string arrayProperty,
            Action<Dictionary<string, long>>? onTopLevelNumbers, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            using var exchange = await SendAsync(HttpMethod.Get, path, query, null, idempotent: true, cancellationToken).ConfigureAwait(false);
            EnsureJson(exchange);
            var items = JsonArrayStreamReader<T>.ReadAsync(exchange.Body, arrayProperty, _json, onTopLevelNumbers, exchange.Linked.Token)
                .GetAsyncEnumerator(exchange.Linked.Token);
            try
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await items.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsBodyFailure(ex))
                    {
                        throw TranslateBodyFailure(ex, exchange, cancellationToken);
                    }
                    if (!more)
                    {
                        yield break;
                    }
                    yield return items.Current;
                }
            }
            finally
            {
                await items.DisposeAsync().ConfigureAwait(false);
            }
        }

        private void EnsureJson(Exchange exchange)
        {
            string? mediaType = exchange.Response.Content.Headers.ContentType?.MediaType;
            if (mediaType is null || mediaType.IndexOf("json", StringComparison.OrdinalIgnoreCase) < 0)
            {
                throw new AgentMailboxProtocolException(
                    $"{exchange.Method} {exchange.Path} answered {(int)exchange.Response.StatusCode} with '{mediaType ?? "no content type"}', not JSON: "
                    + $"is {Server.AbsoluteUri} an AgentMailbox server?"
                    + MayHaveStored(exchange.Idempotent)
                    + $" (request id {exchange.RequestId})",
                    exchange.Response.StatusCode, exchange.Method, exchange.Path, exchange.RequestId)
                {
                    MayHaveBeenDelivered = !exchange.Idempotent,
                };
            }
        }

        /// <summary>The sentence every failure of a send that may have reached the server carries; empty for other requests.</summary>
        private static string MayHaveStored(bool idempotent) => idempotent ? "" : MayHaveStoredSentence;

        /// <summary>The sentence itself, for callers that word it for what they sent (a checkpoint, say).</summary>
        internal const string MayHaveStoredSentence = " The server may have stored the message; check the thread before sending it again.";

        /// <summary>Failures of reading an answer's body: the connection, the timeout, or JSON that does not parse.</summary>
        private static bool IsBodyFailure(Exception ex)
            => ex is IOException || ex is HttpRequestException || ex is OperationCanceledException || ex is ObjectDisposedException || ex is JsonException;

        private Exception TranslateBodyFailure(Exception ex, Exchange exchange, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return new OperationCanceledException("The request was cancelled.", ex, cancellationToken);
            }
            string delivered = MayHaveStored(exchange.Idempotent);
            if (exchange.Timeout.IsCancellationRequested)
            {
                return new AgentMailboxTimeoutException(
                    $"{exchange.Method} {exchange.Path}: the answer from {Server.AbsoluteUri} stalled for longer than the timeout of {Describe(exchange.TimeoutValue)}.{delivered} (request id {exchange.RequestId})",
                    exchange.Method, exchange.Path, exchange.RequestId, exchange.TimeoutValue, ex) { MayHaveBeenDelivered = !exchange.Idempotent };
            }
            if (ex is JsonException)
            {
                return new AgentMailboxProtocolException(
                    $"{exchange.Method} {exchange.Path}: the answer from {Server.AbsoluteUri} is not valid JSON ({ex.Message}).{delivered} (request id {exchange.RequestId})",
                    exchange.Response.StatusCode, exchange.Method, exchange.Path, exchange.RequestId, ex) { MayHaveBeenDelivered = !exchange.Idempotent };
            }
            return new AgentMailboxConnectionException(
                $"{exchange.Method} {exchange.Path}: the connection to {Server.AbsoluteUri} broke while the answer was read ({ex.Message}).{delivered} (request id {exchange.RequestId})",
                exchange.Method, exchange.Path, exchange.RequestId, ex, exchange.Response.StatusCode) { MayHaveBeenDelivered = !exchange.Idempotent };
        }

        /// <summary>
        /// Sends one request, retrying only where that cannot duplicate anything: a connection that was refused or
        /// a name that did not resolve (nothing was sent), 429 (the server refused it), and 502/503/504 for idempotent
        /// requests. Returns the successful answer with its body unread.
        /// </summary>
        private async Task<Exchange> SendAsync(HttpMethod method, string path, string? query, byte[]? body, bool idempotent,
            CancellationToken cancellationToken)
        {
            if (IsDisposed)
            {
                throw new ObjectDisposedException(nameof(AgentMailboxClient), "This connection was closed (Disconnect-AgentMailbox); connect again.");
            }
            var uri = RequestUri.Create(string.IsNullOrEmpty(query) ? _base + path : _base + path + "?" + query);
            string requestId = Guid.NewGuid().ToString();
            string methodName = method.Method;
            var started = Stopwatch.StartNew();
            TimeSpan timeoutValue = RequestTimeout.ForAttempt(RequestTimeout.Resolve(_options.Timeout));

            for (int attempt = 1; ; attempt++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (attempt > 1)
                {
                    // A whole command's deadline (RequestTimeout.Until) also bounds each later attempt.
                    timeoutValue = RequestTimeout.ForAttempt(RequestTimeout.Resolve(_options.Timeout));
                }
                var timeout = new CancellationTokenSource();
                // Closing the client (Dispose) ends the request wherever it waits, its body reads included.
                var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _closing.Token);
                if (timeoutValue != System.Threading.Timeout.InfiniteTimeSpan)
                {
                    timeout.CancelAfter(timeoutValue);
                }
                var attemptWatch = Stopwatch.StartNew();
                HttpResponseMessage? response = null;
                try
                {
                    using (var request = new HttpRequestMessage(method, uri))
                    {
                        request.Headers.TryAddWithoutValidation("X-Request-Id", requestId);
                        if (body is not null)
                        {
                            request.Content = new ByteArrayContent(body);
                            request.Content.Headers.ContentType = new MediaTypeHeaderValue(JsonMediaType) { CharSet = "utf-8" };
                        }
                        response = _blocking
                            ? BlockingIO.Send!(_http, request, HttpCompletionOption.ResponseHeadersRead, linked.Token)
                            : await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException || ex is OperationCanceledException || ex is IOException || ex is SocketException)
                {
                    linked.Dispose();
                    bool timedOut = timeout.IsCancellationRequested;
                    timeout.Dispose();
                    RequestObserver.Report(new RequestRecord(methodName, path, null, attemptWatch.Elapsed, requestId, attempt,
                        timedOut ? "timed out" : cancellationToken.IsCancellationRequested ? "cancelled" : ex.GetBaseException().Message));
                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("The request was cancelled.", ex, cancellationToken);
                    }
                    string delivered = MayHaveStored(idempotent);
                    if (timedOut)
                    {
                        throw new AgentMailboxTimeoutException(
                            $"{methodName} {path}: {Server.AbsoluteUri} did not answer within the timeout of {Describe(timeoutValue)}.{delivered} (request id {requestId})",
                            methodName, path, requestId, timeoutValue, ex) { MayHaveBeenDelivered = !idempotent };
                    }
                    bool nothingSent = NothingWasSent(ex);
                    // A read or mark-read may be repeated after any broken connection; a send only when it never left.
                    if ((nothingSent || (idempotent && !IsTlsFailure(ex))) && attempt <= _options.MaximumRetryCount
                        && await DelayAsync(Backoff(attempt), started, cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }
                    throw new AgentMailboxConnectionException(
                        $"{methodName} {path}: could not reach the AgentMailbox server at {Server.AbsoluteUri} ({ex.GetBaseException().Message})."
                        + (nothingSent ? "" : delivered) + $" (request id {requestId})",
                        methodName, path, requestId, ex) { MayHaveBeenDelivered = !idempotent && !nothingSent };
                }

                RequestObserver.Report(new RequestRecord(methodName, path, (int)response.StatusCode, attemptWatch.Elapsed, requestId, attempt, null));
                if (response.IsSuccessStatusCode)
                {
                    Stream stream;
                    CancellationTokenRegistration abort = default;
                    try
                    {
                        stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
                        // Disposing the answer is what unblocks a stalled body read on every runtime.
                        var toAbort = response;
                        abort = linked.Token.Register(() => toAbort.Dispose());
                    }
                    catch (Exception ex) when (ex is HttpRequestException || ex is IOException)
                    {
                        response.Dispose();
                        linked.Dispose();
                        timeout.Dispose();
                        throw new AgentMailboxConnectionException(
                            $"{methodName} {path}: the connection to {Server.AbsoluteUri} broke ({ex.Message}). (request id {requestId})",
                            methodName, path, requestId, ex) { MayHaveBeenDelivered = !idempotent };
                    }
                    return new Exchange(response, new IdleTimeoutStream(stream, timeout, timeoutValue, _blocking), timeout, linked, abort,
                        methodName, path, requestId, idempotent, timeoutValue);
                }

                AgentMailboxException failure;
                try
                {
                    failure = await ReadFailureAsync(response, methodName, path, requestId, idempotent, linked.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is HttpRequestException || ex is IOException || ex is OperationCanceledException || ex is ObjectDisposedException)
                {
                    bool timedOut = timeout.IsCancellationRequested;
                    response.Dispose();
                    linked.Dispose();
                    timeout.Dispose();
                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("The request was cancelled.", ex, cancellationToken);
                    }
                    if (timedOut)
                    {
                        throw new AgentMailboxTimeoutException(
                            $"{methodName} {path} answered {(int)response.StatusCode} {response.ReasonPhrase}, but its error body stalled for longer than the timeout of {Describe(timeoutValue)}. (request id {requestId})",
                            methodName, path, requestId, timeoutValue, ex) { MayHaveBeenDelivered = !idempotent };
                    }
                    throw CreateFailure(response, methodName, path, requestId, idempotent, new ErrorBody.Parsed
                    {
                        Message = $"(the error body could not be read: {ex.GetBaseException().Message})",
                    }, ex);
                }
                response.Dispose();
                linked.Dispose();
                timeout.Dispose();

                if (failure is AgentMailboxRateLimitException rateLimit && attempt <= _options.MaximumRetryCount)
                {
                    TimeSpan wait = rateLimit.RetryAfter ?? Backoff(attempt);
                    if (wait <= _options.MaximumRetryDelay && await DelayAsync(wait, started, cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }
                }
                else if (idempotent && IsTransient(failure.StatusCode) && attempt <= _options.MaximumRetryCount
                         && await DelayAsync(Backoff(attempt), started, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }
                throw failure;
            }
        }

        private static bool IsTransient(HttpStatusCode? status)
            => status == HttpStatusCode.BadGateway || status == HttpStatusCode.ServiceUnavailable || status == HttpStatusCode.GatewayTimeout;

        /// <summary>A failed TLS handshake: repeating it cannot help.</summary>
        private static bool IsTlsFailure(Exception ex)
        {
            for (var e = ex; e is not null; e = e.InnerException)
            {
                // .NET reports an AuthenticationException; .NET Framework (Windows PowerShell) a WebException.
                if (e is System.Security.Authentication.AuthenticationException
                    || (e is WebException web && (web.Status == WebExceptionStatus.TrustFailure || web.Status == WebExceptionStatus.SecureChannelFailure)))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>A refused connection or an unresolved name: the request never left this machine.</summary>
        private static bool NothingWasSent(Exception ex)
        {
            for (var e = ex; e is not null; e = e.InnerException)
            {
                if (e is SocketException socket)
                {
                    switch (socket.SocketErrorCode)
                    {
                        case SocketError.ConnectionRefused:
                        case SocketError.HostNotFound:
                        case SocketError.HostUnreachable:
                        case SocketError.NetworkUnreachable:
                        case SocketError.TryAgain:
                        case SocketError.NoData:
                        case SocketError.AddressNotAvailable:
                            return true;
                    }
                }
            }
            return false;
        }

        private TimeSpan Backoff(int attempt)
        {
            double baseMs = _options.RetryInterval.TotalMilliseconds * Math.Pow(2, attempt - 1);
            double jitter;
            lock (Jitter)
            {
                jitter = 0.8 + Jitter.NextDouble() * 0.4;
            }
            return TimeSpan.FromMilliseconds(Math.Min(baseMs * jitter, _options.MaximumRetryDelay.TotalMilliseconds));
        }

        /// <summary>Waits before a retry unless that would exceed the total retry budget; false means give up.</summary>
        private async Task<bool> DelayAsync(TimeSpan wait, Stopwatch started, CancellationToken cancellationToken)
        {
            var budget = TimeSpan.FromTicks(_options.MaximumRetryDelay.Ticks * 2);
            if (started.Elapsed + wait > budget || IsDisposed)
            {
                return false;
            }
            if (RequestTimeout.Left() is TimeSpan left && wait >= left)
            {
                // The command's own timeout would run out during the wait: fail now with what asked for it.
                return false;
            }
            if (wait > TimeSpan.Zero)
            {
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
                try
                {
                    await Task.Delay(wait, waiting.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The connection was closed during the wait.
                    return false;
                }
            }
            return !IsDisposed;
        }

        private async Task<AgentMailboxException> ReadFailureAsync(HttpResponseMessage response, string method, string path, string requestId,
            bool idempotent, CancellationToken cancellationToken)
        {
            byte[] bytes;
            using (var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false))
            using (cancellationToken.Register(response.Dispose))
            {
                bytes = await ReadBoundedAsync(stream, ErrorBody.MaxBytes, _blocking, cancellationToken).ConfigureAwait(false);
            }
            return CreateFailure(response, method, path, requestId, idempotent,
                ErrorBody.Parse(bytes, response.Content.Headers.ContentType?.MediaType), null);
        }

        /// <summary>Maps a failed answer to the exception of its kind, with the server's message and the request id.</summary>
        private AgentMailboxException CreateFailure(HttpResponseMessage response, string method, string path, string requestId,
            bool idempotent, ErrorBody.Parsed parsed, Exception? inner)
        {
            var status = response.StatusCode;
            string serverMessage = parsed.Message ?? "";
            string text = $"{method} {path} answered {(int)status} {response.ReasonPhrase}"
                          + (serverMessage.Length > 0 ? $": {serverMessage}" : "")
                          + $" (server {Server.AbsoluteUri}, request id {requestId})";
            int code = (int)status;
            if (code == 404)
            {
                return new AgentMailboxNotFoundException(text, status, method, path, requestId, serverMessage, inner);
            }
            if (code == 401 || code == 403)
            {
                return new AgentMailboxAuthenticationException(text, status, method, path, requestId, serverMessage, inner);
            }
            if (code == 429)
            {
                return new AgentMailboxRateLimitException(text, status, method, path, requestId, serverMessage, RetryAfter(response, parsed), inner);
            }
            if (code >= 500)
            {
                // A gateway's 502/504 cannot tell whether the server behind it stored the message either.
                text += MayHaveStored(idempotent);
                return new AgentMailboxServerException(text, status, method, path, requestId, serverMessage, inner);
            }
            return new AgentMailboxException(text, status, method, path, requestId, serverMessage, inner);
        }

        private static TimeSpan? RetryAfter(HttpResponseMessage response, ErrorBody.Parsed parsed)
        {
            var header = response.Headers.RetryAfter;
            if (header?.Delta is TimeSpan delta)
            {
                return delta;
            }
            if (header?.Date is DateTimeOffset date)
            {
                var wait = date - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
            if (parsed.RetryAfterMs is long ms)
            {
                return TimeSpan.FromMilliseconds(ms);
            }
            if (parsed.ResetsAt is DateTimeOffset resetsAt)
            {
                var wait = resetsAt - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
            return null;
        }

        /// <param name="blocking">Read synchronously (<see cref="AgentMailboxClientOptions.BlockingIO"/>): cancellation disposes the answer, which ends a stalled read.</param>
        private static async Task<byte[]> ReadBoundedAsync(Stream stream, int limit, bool blocking, CancellationToken cancellationToken)
        {
            var buffer = new byte[Math.Min(limit, 8192)];
            using var collected = new MemoryStream();
            while (collected.Length < limit)
            {
                int count = (int)Math.Min(buffer.Length, limit - collected.Length);
                cancellationToken.ThrowIfCancellationRequested();
                int read = blocking ? stream.Read(buffer, 0, count) : await stream.ReadAsync(buffer, 0, count, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                collected.Write(buffer, 0, read);
            }
            return collected.ToArray();
        }

        internal static string Describe(TimeSpan timeout)
            => timeout == System.Threading.Timeout.InfiniteTimeSpan ? "infinite" : timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

        internal sealed class ThreadEnvelope
        {
            [JsonInclude, JsonPropertyName("thread")]
            public AgentThread? Thread { get; internal set; }
        }

        internal sealed class ContextEnvelope
        {
            [JsonInclude, JsonPropertyName("context")]
            public ThreadContext? Context { get; internal set; }
        }

        internal sealed class ParticipantsEnvelope
        {
            [JsonInclude, JsonPropertyName("participants")]
            public ThreadParticipant[]? Participants { get; internal set; }
        }
    }

    /// <summary>The answer to <c>GET /health</c>.</summary>
    public sealed class HealthInfo
    {
        [JsonConstructor]
        internal HealthInfo() { }

        [JsonInclude, JsonPropertyName("ok")]
        public bool Ok { get; internal set; }

        [JsonInclude, JsonPropertyName("uptime")]
        public double Uptime { get; internal set; }

        [JsonInclude, JsonPropertyName("memoryMB")]
        public double MemoryMB { get; internal set; }
    }
}
