using System;
using System.Net;

namespace AgentMailbox
{
    /// <summary>
    /// A request to an AgentMailbox server failed. Carries the HTTP status (when an answer came), the request's
    /// method, path and X-Request-Id, and the message the server gave.
    /// </summary>
    public class AgentMailboxException : Exception
    {
        public AgentMailboxException(string message) : this(message, null, null, null, null, null, null) { }

        public AgentMailboxException(string message, Exception? innerException)
            : this(message, null, null, null, null, null, innerException) { }

        public AgentMailboxException(
            string message,
            HttpStatusCode? statusCode,
            string? method,
            string? path,
            string? requestId,
            string? serverMessage,
            Exception? innerException)
            : base(message, innerException)
        {
            StatusCode = statusCode;
            Method = method;
            Path = path;
            RequestId = requestId;
            ServerMessage = serverMessage;
        }

        /// <summary>The HTTP status of the answer, or null when no answer arrived.</summary>
        public HttpStatusCode? StatusCode { get; }

        /// <summary>The HTTP method of the failed request.</summary>
        public string? Method { get; }

        /// <summary>The request path (percent-encoded, without the query), e.g. <c>/messages/send</c>.</summary>
        public string? Path { get; }

        /// <summary>The X-Request-Id the request carried: the key to the server's log line.</summary>
        public string? RequestId { get; }

        /// <summary>The error text the server gave, extracted from whichever body shape it used.</summary>
        public string? ServerMessage { get; }
    }

    /// <summary>The server answered 404: the thread, agent or route does not exist.</summary>
    public class AgentMailboxNotFoundException : AgentMailboxException
    {
        public AgentMailboxNotFoundException(string message, HttpStatusCode? statusCode, string? method, string? path,
            string? requestId, string? serverMessage, Exception? innerException = null)
            : base(message, statusCode, method, path, requestId, serverMessage, innerException) { }
    }

    /// <summary>The server answered 401 or 403: the API key is missing, wrong, or not allowed to do this.</summary>
    public class AgentMailboxAuthenticationException : AgentMailboxException
    {
        public AgentMailboxAuthenticationException(string message, HttpStatusCode? statusCode, string? method, string? path,
            string? requestId, string? serverMessage, Exception? innerException = null)
            : base(message, statusCode, method, path, requestId, serverMessage, innerException) { }
    }

    /// <summary>The server answered 429 and the retry budget ran out.</summary>
    public class AgentMailboxRateLimitException : AgentMailboxException
    {
        public AgentMailboxRateLimitException(string message, HttpStatusCode? statusCode, string? method, string? path,
            string? requestId, string? serverMessage, TimeSpan? retryAfter, Exception? innerException = null)
            : base(message, statusCode, method, path, requestId, serverMessage, innerException)
        {
            RetryAfter = retryAfter;
        }

        /// <summary>How long the server asked the client to wait, from Retry-After or the body's resetsAt.</summary>
        public TimeSpan? RetryAfter { get; }
    }

    /// <summary>The server answered with a 5xx status.</summary>
    public class AgentMailboxServerException : AgentMailboxException
    {
        public AgentMailboxServerException(string message, HttpStatusCode? statusCode, string? method, string? path,
            string? requestId, string? serverMessage, Exception? innerException = null)
            : base(message, statusCode, method, path, requestId, serverMessage, innerException) { }
    }

    /// <summary>No usable answer arrived: the server is unreachable, its name does not resolve, TLS failed,
    /// the connection broke, or the answer was not the JSON the protocol promises.</summary>
    public class AgentMailboxConnectionException : AgentMailboxException
    {
        public AgentMailboxConnectionException(string message, string? method, string? path, string? requestId,
            Exception? innerException = null, HttpStatusCode? statusCode = null)
            : base(message, statusCode, method, path, requestId, null, innerException) { }

        /// <summary>True when the request body may have reached the server before the failure, so a send
        /// may have been stored even though no answer came.</summary>
        public bool MayHaveBeenDelivered { get; internal set; }
    }

    /// <summary>The request did not complete within the connection's or the call's timeout.</summary>
    public class AgentMailboxTimeoutException : AgentMailboxConnectionException
    {
        public AgentMailboxTimeoutException(string message, string? method, string? path, string? requestId,
            TimeSpan timeout, Exception? innerException = null)
            : base(message, method, path, requestId, innerException)
        {
            Timeout = timeout;
        }

        /// <summary>The timeout that elapsed.</summary>
        public TimeSpan Timeout { get; }
    }
}

namespace AgentMailbox
{
    /// <summary>An answer arrived but could not be understood: not JSON, cut short, or not the shape the protocol promises.</summary>
    public class AgentMailboxProtocolException : AgentMailboxException
    {
        public AgentMailboxProtocolException(string message, System.Net.HttpStatusCode? statusCode, string? method, string? path,
            string? requestId, System.Exception? innerException = null)
            : base(message, statusCode, method, path, requestId, null, innerException) { }

        /// <summary>True when the request was a send whose message the server may have stored.</summary>
        public bool MayHaveBeenDelivered { get; internal set; }
    }
}
