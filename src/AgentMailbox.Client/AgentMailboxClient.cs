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
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox
{
    /// <summary>
    /// A client of one AgentMailbox server: one <see cref="HttpClient"/> for its lifetime, typed results, the
    /// <see cref="AgentMailboxException"/> hierarchy for failures, an X-Request-Id on every request, and a
    /// cancellation token honoured through body reads. Safe to use from several threads at once.
    /// </summary>
    public sealed partial class AgentMailboxClient : IDisposable
    {
        private const string JsonMediaType = "application/json";

        private readonly HttpClient _http;
        private readonly AgentMailboxClientOptions _options;
        private readonly string _base;
        private readonly JsonSerializerOptions _json;
        private readonly IJsonValueConverter _values;

        /// <summary>Requests do their I/O on the calling thread (<see cref="AgentMailboxClientOptions.BlockingIO"/>, where the runtime can).</summary>
        private readonly bool _blocking;
        private int _disposed;

        /// <summary>Cancelled by <see cref="Dispose"/>: ends the waits before retries at once.</summary>
        private readonly CancellationTokenSource _closing = new CancellationTokenSource();

        public AgentMailboxClient(AgentMailboxClientOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            Server = ValidateServer(options.Server);
            if (options.ApiKey is not null && Server.Scheme == Uri.UriSchemeHttp && !IsLoopback(Server) && !options.AllowUnencryptedAuthentication)
            {
                throw new ArgumentException(
                    $"An API key would be sent over unencrypted http to {Server.Host}. Use https, or allow it explicitly (AllowUnencryptedAuthentication).",
                    nameof(options.ApiKey));
            }
            if (options.Timeout <= TimeSpan.Zero && options.Timeout != System.Threading.Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(options.Timeout), "The timeout must be positive, or infinite.");
            }

            _base = Server.AbsoluteUri.TrimEnd('/');
            _values = options.ValueConverter ?? JsonElementValueConverter.Instance;
            _json = JsonOptions.Create(_values);

            HttpMessageHandler? blockingHandler = options.Handler is null && options.BlockingIO ? BlockingIO.CreateHandler(options.SkipCertificateCheck, options.Timeout) : null;
            _blocking = blockingHandler is not null;
            HttpMessageHandler handler = options.Handler ?? blockingHandler ?? CreateHandler(options);
            _http = new HttpClient(handler, disposeHandler: options.Handler is null) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue(JsonMediaType));
            if (!string.IsNullOrEmpty(options.UserAgent))
            {
                _http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", options.UserAgent);
            }
            if (options.ApiKey is not null)
            {
                _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            }
        }

        /// <summary>The server's base URI.</summary>
        public Uri Server { get; }

        /// <summary>True when requests carry an API key.</summary>
        public bool HasApiKey => _options.ApiKey is not null;

        /// <summary>The timeout requests use.</summary>
        public TimeSpan Timeout => _options.Timeout;

        public override string ToString() => Server.AbsoluteUri;

        /// <summary>
        /// Options for a client that probes this one's server the way this one reaches it (certificate check, handler,
        /// user agent), with no retries and the given timeout: a probe answers within its own time.
        /// </summary>
        internal AgentMailboxClientOptions ProbeOptions(TimeSpan timeout) => new AgentMailboxClientOptions
        {
            Server = _options.Server,
            AllowUnencryptedAuthentication = _options.AllowUnencryptedAuthentication,
            SkipCertificateCheck = _options.SkipCertificateCheck,
            Timeout = timeout,
            MaximumRetryCount = 0,
            UserAgent = _options.UserAgent,
            BlockingIO = _options.BlockingIO,
            Handler = _options.Handler,
        };

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _closing.Cancel();
                _http.Dispose();
            }
        }

        /// <summary>True once <see cref="Dispose"/> has run.</summary>
        public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

        internal static Uri ValidateServer(Uri? server)
        {
            string? problem = DescribeInvalidServer(server);
            return problem is null ? server! : throw new ArgumentException(problem, "Server");
        }

        /// <summary>Why <paramref name="server"/> cannot be an AgentMailbox server's base URI, or null when it can.</summary>
        public static string? DescribeInvalidServer(Uri? server)
        {
            if (server is null || !server.IsAbsoluteUri)
            {
                return $"The server URI '{server}' is not absolute; give one like http://localhost:3000.";
            }
            if (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps)
            {
                return $"The server URI '{server}' must use http or https, not {server.Scheme}.";
            }
            if (string.IsNullOrEmpty(server.Host))
            {
                return $"The server URI '{server}' has no host.";
            }
            if (!string.IsNullOrEmpty(server.Query) || !string.IsNullOrEmpty(server.Fragment))
            {
                return $"The server URI '{server}' must not carry a query or fragment.";
            }
            return null;
        }

        /// <summary>True for localhost and loopback addresses, where an API key over plain http stays on the machine.</summary>
        public static bool IsLoopback(Uri server)
            => server.IsLoopback
               || string.Equals(server.Host, "localhost", StringComparison.OrdinalIgnoreCase)
               || (IPAddress.TryParse(server.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

        /// <summary>The fewest connections to the server the client's pool allows (the blocking handler allows any number).</summary>
        internal const int MaxConnectionsPerServer = 64;

        private static HttpMessageHandler CreateHandler(AgentMailboxClientOptions options)
        {
            var handler = new HttpClientHandler
            {
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                AllowAutoRedirect = false,
                UseCookies = false,
            };
            try
            {
                // .NET Framework allows two connections to a server by default; a cmdlet's -ThrottleLimit may need 64.
                if (handler.MaxConnectionsPerServer < MaxConnectionsPerServer)
                {
                    handler.MaxConnectionsPerServer = MaxConnectionsPerServer;
                }
            }
            catch (PlatformNotSupportedException)
            {
            }
            if (options.SkipCertificateCheck)
            {
                handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
            }
            return handler;
        }

        #region Messaging core

        /// <summary><c>POST /agents/register</c>: makes sure the agent exists.</summary>
        public Task<RegisterResult> RegisterAsync(string agentId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("agentId", agentId);
                w.WriteEndObject();
            });
            return ExecuteAsync<RegisterResult>(HttpMethod.Post, "/agents/register", null, body, idempotent: true, cancellationToken);
        }

        /// <summary><c>POST /messages/send</c>. Never repeated once the request may have reached the server.</summary>
        public Task<SendResult> SendAsync(SendMessageRequest message, CancellationToken cancellationToken = default)
        {
            if (message is null)
            {
                throw new ArgumentNullException(nameof(message));
            }
            RequireText(message.From, "From");
            RequireText(message.To, "To");
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("from", message.From);
                w.WriteString("to", message.To);
                WriteAddressList(w, "cc", message.Cc);
                WriteAddressList(w, "bcc", message.Bcc);
                if (message.ThreadId is not null)
                {
                    RequireText(message.ThreadId, "ThreadId");
                    w.WriteString("threadId", message.ThreadId);
                }
                if (message.ReplyTo is not null)
                {
                    RequireText(message.ReplyTo, "ReplyTo");
                    w.WriteString("replyTo", message.ReplyTo);
                }
                WriteContent(w, message.Payload, message.ContextSnapshot, message.Handoff);
                w.WriteEndObject();
            });
            return ExecuteAsync<SendResult>(HttpMethod.Post, "/messages/send", null, body, idempotent: false, cancellationToken);
        }

        /// <summary><c>POST /messages/reply-all</c>: to every visible participant of the thread but the sender.</summary>
        public Task<SendResult> ReplyAllAsync(ReplyAllRequest reply, CancellationToken cancellationToken = default)
        {
            if (reply is null)
            {
                throw new ArgumentNullException(nameof(reply));
            }
            RequireText(reply.From, "From");
            RequireText(reply.ThreadId, "ThreadId");
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("from", reply.From);
                w.WriteString("threadId", reply.ThreadId);
                WriteContent(w, reply.Payload, reply.ContextSnapshot, reply.Handoff);
                w.WriteEndObject();
            });
            return ExecuteAsync<SendResult>(HttpMethod.Post, "/messages/reply-all", null, body, idempotent: false, cancellationToken);
        }

        /// <summary>
        /// <c>GET /mailbox/:id/unread</c>: the agent's unread messages, oldest first, each yielded as soon as it has
        /// been decoded from the arriving body. Marks nothing read.
        /// </summary>
        /// <param name="recent">How many recent messages each context carries (1 to 50; server default 10).</param>
        public IAsyncEnumerable<InboxMessage> GetUnreadAsync(string agentId, int? recent = null, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            string query = recent is null ? "" : "recent=" + recent.Value.ToString(CultureInfo.InvariantCulture);
            return StreamAsync<InboxMessage>($"/mailbox/{UriEscaper.Escape(agentId)}/unread", query, "messages", null, cancellationToken);
        }

        /// <summary><c>GET /mailbox/:id?limit=&amp;offset=</c> over every page from <paramref name="offset"/>: each thread as it is decoded.</summary>
        /// <param name="onTotal">Called with the server's count of the agent's threads as soon as a page has been read.</param>
        /// <param name="maxItems">Yields at most this many threads; the page that holds the last one is still read to its end,
        /// so <paramref name="onTotal"/> is called, but no further page is requested.</param>
        public async IAsyncEnumerable<AgentThread> GetThreadsAsync(
            string agentId, int pageSize = 100, int offset = 0, Action<long>? onTotal = null, long? maxItems = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            if (pageSize < 1 || pageSize > 1000)
            {
                throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "The page size must be 1 to 1000.");
            }
            string path = $"/mailbox/{UriEscaper.Escape(agentId)}";
            long yielded = 0;
            while (maxItems is null || yielded < maxItems)
            {
                int count = 0;
                long? total = null;
                string query = string.Format(CultureInfo.InvariantCulture, "limit={0}&offset={1}", pageSize, offset);
                await foreach (var thread in StreamAsync<AgentThread>(path, query, "threads", numbers =>
                               {
                                   total = numbers.TryGetValue("total", out long t) ? t : null;
                                   if (total is not null)
                                   {
                                       onTotal?.Invoke(total.Value);
                                   }
                               }, cancellationToken).ConfigureAwait(false))
                {
                    count++;
                    if (maxItems is null || yielded < maxItems)
                    {
                        yielded++;
                        yield return thread;
                    }
                }
                onTotal = null;
                offset += count;
                if (count < pageSize || (total is not null && offset >= total))
                {
                    yield break;
                }
            }
        }

        /// <summary><c>GET /threads/:id?as=</c>: one thread as <paramref name="asAgentId"/> sees it.</summary>
        public async Task<AgentThread> GetThreadAsync(string threadId, string? asAgentId, CancellationToken cancellationToken = default)
        {
            RequireText(threadId, nameof(threadId));
            var envelope = await ExecuteAsync<ThreadEnvelope>(HttpMethod.Get, $"/threads/{UriEscaper.Escape(threadId)}", AsQuery(asAgentId, null),
                null, idempotent: true, cancellationToken).ConfigureAwait(false);
            return envelope.Thread ?? throw new JsonException("The answer has no 'thread'.");
        }

        /// <summary><c>GET /threads/:id/sync?as=&amp;recent=</c>: the thread's context.</summary>
        public async Task<ThreadContext> SyncThreadAsync(string threadId, string? asAgentId, int? recent = null, CancellationToken cancellationToken = default)
        {
            RequireText(threadId, nameof(threadId));
            var envelope = await ExecuteAsync<ContextEnvelope>(HttpMethod.Get, $"/threads/{UriEscaper.Escape(threadId)}/sync",
                AsQuery(asAgentId, recent), null, idempotent: true, cancellationToken).ConfigureAwait(false);
            var context = envelope.Context ?? throw new JsonException("The answer has no 'context'.");
            context.ThreadId = threadId;
            return context;
        }

        /// <summary><c>GET /threads/:id/participants?as=</c>: who takes part, with roles, by join time.</summary>
        public async Task<IReadOnlyList<ThreadParticipant>> GetParticipantsAsync(string threadId, string? asAgentId, CancellationToken cancellationToken = default)
        {
            RequireText(threadId, nameof(threadId));
            var envelope = await ExecuteAsync<ParticipantsEnvelope>(HttpMethod.Get, $"/threads/{UriEscaper.Escape(threadId)}/participants",
                AsQuery(asAgentId, null), null, idempotent: true, cancellationToken).ConfigureAwait(false);
            var participants = envelope.Participants ?? Array.Empty<ThreadParticipant>();
            foreach (var participant in participants)
            {
                participant.ThreadId = threadId;
            }
            return participants;
        }

        /// <summary><c>POST /mailbox/:id/read</c>: marks the thread read for the agent up to the server's clock.</summary>
        public async Task MarkReadAsync(string agentId, string threadId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(threadId, nameof(threadId));
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("threadId", threadId);
                w.WriteEndObject();
            });
            await ExecuteAsync<JsonElement>(HttpMethod.Post, $"/mailbox/{UriEscaper.Escape(agentId)}/read", null, body, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
        }

        /// <summary><c>GET /health</c>.</summary>
        public Task<HealthInfo> GetHealthAsync(CancellationToken cancellationToken = default)
            => ExecuteAsync<HealthInfo>(HttpMethod.Get, "/health", null, null, idempotent: true, cancellationToken);

        private static string AsQuery(string? asAgentId, int? recent)
        {
            var parts = new List<string>(2);
            if (asAgentId is not null)
            {
                parts.Add("as=" + UriEscaper.Escape(asAgentId));
            }
            if (recent is not null)
            {
                parts.Add("recent=" + recent.Value.ToString(CultureInfo.InvariantCulture));
            }
            return string.Join("&", parts);
        }

        private static void RequireText(string? value, string name)
        {
            if (string.IsNullOrEmpty(value))
            {
                throw new ArgumentException($"{name} must not be empty.", name);
            }
        }

        private static void WriteAddressList(Utf8JsonWriter writer, string name, IList<string>? addresses)
        {
            if (addresses is null || addresses.Count == 0)
            {
                return;
            }
            writer.WriteStartArray(name);
            foreach (var address in addresses)
            {
                RequireText(address, name);
                writer.WriteStringValue(address);
            }
            writer.WriteEndArray();
        }

        /// <summary>What a send and a reply-all carry alike: the payload (JSON null when absent), the snapshot and the handoff.</summary>
        private void WriteContent(Utf8JsonWriter writer, object? payload, object? snapshot, HandoffOptions? handoff)
        {
            writer.WritePropertyName("payload");
            _values.Write(writer, payload);
            if (snapshot is not null)
            {
                writer.WritePropertyName("contextSnapshot");
                _values.Write(writer, snapshot);
            }
            WriteHandoff(writer, handoff);
        }

        private static void WriteHandoff(Utf8JsonWriter writer, HandoffOptions? handoff)
        {
            if (handoff is null)
            {
                return;
            }
            writer.WriteStartObject("handoff");
            if (handoff.Goal is not null)
            {
                writer.WriteString("goal", handoff.Goal);
            }
            if (handoff.NextAction is not null)
            {
                writer.WriteString("nextAction", handoff.NextAction);
            }
            if (handoff.IncludeFields is not null)
            {
                writer.WriteStartArray("includeFields");
                foreach (var field in handoff.IncludeFields)
                {
                    writer.WriteStringValue(field);
                }
                writer.WriteEndArray();
            }
            if (handoff.MaxContextBytes is not null)
            {
                writer.WriteNumber("maxContextBytes", handoff.MaxContextBytes.Value);
            }
            writer.WriteEndObject();
        }

        private byte[] WriteBody(Action<Utf8JsonWriter> write)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, JsonOptions.WriterOptions))
            {
                write(writer);
            }
            if (_options.MaximumRequestBodyBytes > 0 && stream.Length > _options.MaximumRequestBodyBytes)
            {
                throw new AgentMailboxException(
                    $"The request body is {DescribeSize(stream.Length)}, over the {DescribeSize(_options.MaximumRequestBodyBytes)} the server accepts; nothing was sent.",
                    HttpStatusCode.RequestEntityTooLarge, null, null, null, null, null);
            }
            return stream.ToArray();
        }

        private static string DescribeSize(long bytes)
            => bytes >= 1048576
                ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB"
                : bytes >= 10240 ? (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB"
                : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";

        #endregion
    }
}
