using System;
using System.Net.Http;

namespace AgentMailbox
{
    /// <summary>How an <see cref="AgentMailboxClient"/> reaches its server.</summary>
    public sealed class AgentMailboxClientOptions
    {
        /// <summary>The server's base URI, e.g. <c>http://localhost:3000/</c>. It may carry a path prefix.</summary>
        public Uri Server { get; set; } = new Uri("http://localhost:3000/");

        /// <summary>The shared bearer key, or null when the server runs without one.</summary>
        public string? ApiKey { get; set; }

        /// <summary>Allows sending <see cref="ApiKey"/> over plain http to a host other than loopback.</summary>
        public bool AllowUnencryptedAuthentication { get; set; }

        /// <summary>Skips TLS certificate validation (self-signed test servers only).</summary>
        public bool SkipCertificateCheck { get; set; }

        /// <summary>
        /// How long a request may wait for the answer's headers, and how long the body may stall between two reads.
        /// A large body that keeps arriving never times out. <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> waits forever.
        /// </summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);

        /// <summary>How many times a request is retried when that is safe (see the README's reliability section).</summary>
        public int MaximumRetryCount { get; set; } = 3;

        /// <summary>The first retry delay; later ones grow exponentially with jitter.</summary>
        public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>The longest a single wait before a retry may be (a longer Retry-After fails at once).</summary>
        public TimeSpan MaximumRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Request bodies above this size are refused before sending (the server's default limit is 25 MB). 0 turns the check off.</summary>
        public long MaximumRequestBodyBytes { get; set; } = 25L * 1024 * 1024;

        /// <summary>Decodes and encodes payloads and snapshots; <see cref="JsonElementValueConverter"/> by default.</summary>
        public IJsonValueConverter ValueConverter { get; set; } = JsonElementValueConverter.Instance;

        /// <summary>The User-Agent header value.</summary>
        public string? UserAgent { get; set; }

        /// <summary>
        /// For callers that block a thread on every call's task anyway, as a PowerShell cmdlet does: each request then
        /// does its network I/O on the calling thread, over blocking sockets, and the call usually returns a completed
        /// task, so no thread-pool thread has to hand the answer over. Results, errors, timeouts and cancellation are
        /// the same as without it. Callers that await should leave it off: every call would hold their thread until
        /// the answer arrives. It takes effect on .NET 5 and later without <see cref="Handler"/>; elsewhere it is ignored.
        /// </summary>
        public bool BlockingIO { get; set; }

        /// <summary>A handler to send requests through (tests); the client then does not own it.</summary>
        internal HttpMessageHandler? Handler { get; set; }
    }
}
