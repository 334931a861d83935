using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// The base of every cmdlet that talks to a server: the -Connection parameter, Ctrl+C wired to a cancellation
    /// token that reaches every request (body reads included), one verbose line per request, and the mapping of
    /// failures to error records with stable ids and fitting categories.
    /// </summary>
    public abstract class AgentMailboxCmdlet : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        private readonly ConcurrentQueue<RequestRecord> _requests = new ConcurrentQueue<RequestRecord>();

        #region Overrides

        protected override void StopProcessing() => _stopping.Cancel();

        public void Dispose()
        {
            _throttled?.Dispose();
            ReleaseConnections();
            _stopping.Dispose();
        }

        #endregion

        /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
        protected CancellationToken StopToken => _stopping.Token;

        /// <summary>The timeout of this call's requests (-TimeoutSec), or null for the connection's.</summary>
        protected virtual TimeSpan? CallTimeout => null;

        /// <summary>When a whole-command timeout runs out (UTC), bounding every request and retry wait; null for none.</summary>
        protected virtual DateTime? CallDeadline => null;

        #region Connection leases

        private readonly List<Connection> _leased = new List<Connection>();

        /// <summary>
        /// Holds <paramref name="connection"/> for the rest of this command, so that replacing the default connection
        /// (which closes the old one once no call uses it) lets this call finish. Released when the command is disposed.
        /// </summary>
        protected bool TryLease(Connection connection)
        {
            lock (_leased)
            {
                if (_leased.Contains(connection))
                {
                    return true;
                }
                if (!connection.TryLease())
                {
                    return false;
                }
                _leased.Add(connection);
                return true;
            }
        }

        private void ReleaseConnections()
        {
            lock (_leased)
            {
                foreach (var connection in _leased)
                {
                    connection.Release();
                }
                _leased.Clear();
            }
        }

        /// <summary>A connection this command uses that was closed (Disconnect-AgentMailbox, Remove-Module) while it ran.</summary>
        private Connection? ClosedConnection()
        {
            lock (_leased)
            {
                foreach (var connection in _leased)
                {
                    if (connection.IsClosed)
                    {
                        return connection;
                    }
                }
            }
            return null;
        }

        /// <summary>The failures with which a request ends when its connection is closed under it.</summary>
        private static bool IsClosingFailure(Exception ex)
            => ex is ObjectDisposedException || ex is OperationCanceledException || ex is AgentMailboxConnectionException
               // A close during the wait before a retry ends the call with the failure that asked for the retry.
               || ex is AgentMailboxRateLimitException || ex is AgentMailboxServerException
               || ex is System.Net.Http.HttpRequestException || ex is System.IO.IOException || ex is AggregateException;

        #endregion

        #region Running requests

        /// <summary>Runs one client call on the pipeline thread, cancelled by Ctrl+C; verbose lines are written afterwards.</summary>
        protected T Await<T>(Func<CancellationToken, Task<T>> call)
        {
            try
            {
                Task<T> task;
                var timeout = CallTimeout;
                var deadline = CallDeadline;
                using (RequestObserver.Observe(_requests.Enqueue))
                using (timeout is null ? null : RequestTimeout.Override(timeout.Value))
                using (deadline is null ? null : RequestTimeout.Until(deadline.Value))
                {
                    task = call(StopToken);
                }
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception ex) when (!StopToken.IsCancellationRequested && IsClosingFailure(ex) && ClosedConnection() is Connection closed)
            {
                throw new ConnectionClosedException(closed, ex);
            }
            finally
            {
                WriteRequestLog();
            }
        }

        /// <summary>Runs a streaming client call and yields each item as soon as it is decoded, on the pipeline thread.</summary>
        protected IEnumerable<T> AwaitEach<T>(Func<CancellationToken, IAsyncEnumerable<T>> call)
        {
            IAsyncEnumerator<T> items;
            using (RequestObserver.Observe(_requests.Enqueue))
            {
                items = call(StopToken).GetAsyncEnumerator(StopToken);
            }
            try
            {
                while (Await(_ => MoveNextAsync(items)))
                {
                    yield return items.Current;
                }
            }
            finally
            {
                try
                {
                    items.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (Exception) when (StopToken.IsCancellationRequested || ClosedConnection() is not null)
                {
                }
            }
        }

        /// <summary>
        /// The engine that runs this call's per-input requests up to <paramref name="throttleLimit"/> at a time
        /// (-ThrottleLimit), with results in input order (see <see cref="ThrottledRequests{T}"/>); disposed with the cmdlet.
        /// </summary>
        internal ThrottledRequests<T> StartRequests<T>(int throttleLimit, CommandProgress? progress = null)
        {
            var engine = new ThrottledRequests<T>(this, throttleLimit, StopToken, CallTimeout, Await, IsReportable, progress);
            _throttled = engine;
            return engine;
        }

        private IDisposable? _throttled;

        private static Task<bool> MoveNextAsync<T>(IAsyncEnumerator<T> items) => items.MoveNextAsync().AsTask();

        private void WriteRequestLog()
        {
            while (_requests.TryDequeue(out var record))
            {
                WriteVerbose(record.ToString());
            }
        }

        #endregion

        #region Errors

        /// <summary>Writes a non-terminating error for one input; the pipeline goes on with the next.</summary>
        protected void WriteFailure(Exception exception, string errorId, object? target, string? notFoundErrorId = null)
            => WriteError(CreateErrorRecord(exception, errorId, target, notFoundErrorId));

        /// <summary>Maps a failure to an error record: the exception kept, the category fitting the cause.</summary>
        protected ErrorRecord CreateErrorRecord(Exception exception, string errorId, object? target, string? notFoundErrorId = null)
        {
            if (exception is AggregateException aggregate && aggregate.InnerExceptions.Count == 1)
            {
                exception = aggregate.InnerExceptions[0];
            }
            var category = CategoryOf(exception);
            if (exception is ConnectionClosedException)
            {
                errorId = ErrorIds.ConnectionClosed;
            }
            else if (category == ErrorCategory.ObjectNotFound && notFoundErrorId is not null)
            {
                errorId = notFoundErrorId;
            }
            else if (exception is PayloadConversionException)
            {
                // Found while the request body was written: nothing was sent.
                errorId = ErrorIds.InvalidPayload;
            }
            var record = new ErrorRecord(exception, errorId, category, target);
            string? action = RecommendedActionFor(exception);
            if (action is not null)
            {
                record.ErrorDetails = new ErrorDetails(exception.Message) { RecommendedAction = action };
            }
            return record;
        }

        /// <summary>True for the failures a cmdlet reports per input rather than letting them end the pipeline.</summary>
        protected static bool IsReportable(Exception exception)
            => exception is AgentMailboxException || exception is PayloadConversionException || exception is ArgumentException
               || exception is JsonException || (exception is RuntimeException && !(exception is PipelineStoppedException));

        internal static ErrorCategory CategoryOf(Exception exception)
        {
            switch (exception)
            {
                case AgentMailboxNotFoundException _:
                    return ErrorCategory.ObjectNotFound;
                case AgentMailboxAuthenticationException auth:
                    return auth.StatusCode == HttpStatusCode.Forbidden ? ErrorCategory.PermissionDenied : ErrorCategory.AuthenticationError;
                case AgentMailboxRateLimitException _:
                    return ErrorCategory.LimitsExceeded;
                case AgentMailboxTimeoutException _:
                    return ErrorCategory.OperationTimeout;
                case AgentMailboxConnectionException _:
                    return ErrorCategory.ConnectionError;
                case AgentMailboxServerException _:
                    return ErrorCategory.ResourceUnavailable;
                case AgentMailboxProtocolException _:
                    return ErrorCategory.InvalidResult;
                case AgentMailboxException http:
                    switch ((int?)http.StatusCode)
                    {
                        case 400:
                        case 422:
                            return ErrorCategory.InvalidArgument;
                        case 409:
                            return ErrorCategory.ResourceExists;
                        case 413:
                            return ErrorCategory.LimitsExceeded;
                        default:
                            return ErrorCategory.NotSpecified;
                    }
                case PayloadConversionException _:
                case ArgumentException _:
                    return ErrorCategory.InvalidArgument;
                case JsonException _:
                    return ErrorCategory.InvalidData;
                default:
                    return ErrorCategory.NotSpecified;
            }
        }

        private static string? RecommendedActionFor(Exception exception) => exception switch
        {
            ConnectionClosedException _ => "Run Connect-AgentMailbox again.",
            AgentMailboxTimeoutException _ => "Retry, or raise -TimeoutSec (on this command, or on Connect-AgentMailbox for the connection).",
            AgentMailboxConnectionException c => c.MayHaveBeenDelivered
                ? "The message may have been stored: check the thread (Get-AgentThread) before sending it again."
                : "Check that the server is running and reachable (Test-AgentMailbox).",
            AgentMailboxAuthenticationException _ => "Check the API key (Connect-AgentMailbox -ApiKey, or AGENTSMCP_API_KEY).",
            AgentMailboxRateLimitException r => r.RetryAfter is null ? "Wait, then retry." : $"Retry after {r.RetryAfter.Value.TotalSeconds:0} s.",
            AgentMailboxNotFoundException _ => "Check the id or key: Get-AgentThread lists threads, Search-AgentIndex index entries, Get-AgentContextCheckpoint checkpoints; an agent must be registered (Connect-AgentMailbox).",
            _ => null,
        };

        #endregion

        #region Values

        /// <summary>The error id of input that was refused before any request: which part of the input was wrong.</summary>
        protected static string InputErrorId(Exception exception) => exception switch
        {
            MissingRecipientException _ => ErrorIds.MissingRecipient,
            RuntimeException _ => ErrorIds.PayloadScriptFailed,
            ArgumentException arg when arg.ParamName == "ContextSnapshot" => ErrorIds.InvalidContextSnapshot,
            ArgumentException arg when arg.ParamName == "Handoff" => ErrorIds.InvalidHandoff,
            ArgumentException _ => ErrorIds.InvalidMessageInput,
            _ => ErrorIds.InvalidPayload,
        };

        /// <summary>A message with no recipient.</summary>
        protected sealed class MissingRecipientException : ArgumentException
        {
            public MissingRecipientException(string message) : base(message, "To") { }
        }

        /// <summary>
        /// A -Payload that is a script block is run for each input with $_ bound to the input object; its output is
        /// the payload (one object as itself, several as an array, none as $null).
        /// </summary>
        protected object? ResolvePayload(object? payload, object? inputObject)
        {
            if (PSJsonValueConverter.Unwrap(payload, out _) is ScriptBlock script)
            {
                var results = script.InvokeWithContext(null, new List<PSVariable> { new PSVariable("_", inputObject) }, inputObject);
                return results.Count switch
                {
                    0 => null,
                    1 => results[0],
                    _ => ToArray(results),
                };
            }
            return payload;
        }

        private static object?[] ToArray(IList<PSObject> results)
        {
            var array = new object?[results.Count];
            for (int i = 0; i < array.Length; i++)
            {
                array[i] = results[i];
            }
            return array;
        }

        /// <summary>A context snapshot must be a JSON object: a hashtable, ordered dictionary or PSCustomObject.</summary>
        protected static object? CheckSnapshot(object? snapshot, string parameterName)
        {
            object? value = PSJsonValueConverter.Unwrap(snapshot, out _);
            if (value is null || value is IDictionary || value is PSCustomObject)
            {
                return snapshot;
            }
            throw new ArgumentException(
                $"-{parameterName} must be a hashtable, ordered dictionary or PSCustomObject (a JSON object), not {value.GetType().Name}.", parameterName);
        }

        /// <summary>Turns -Handoff's hashtable into the server's handoff options, naming any key it does not know.</summary>
        protected static HandoffOptions? ToHandoff(IDictionary? handoff)
        {
            if (handoff is null)
            {
                return null;
            }
            var result = new HandoffOptions();
            foreach (DictionaryEntry entry in handoff)
            {
                string key = entry.Key?.ToString() ?? "";
                object? value = PSJsonValueConverter.Unwrap(entry.Value, out _);
                switch (key.ToLowerInvariant())
                {
                    case "goal":
                        result.Goal = RequireText(value, key);
                        break;
                    case "nextaction":
                        result.NextAction = RequireText(value, key);
                        break;
                    case "includefields":
                        var fields = LanguagePrimitives.ConvertTo<string[]>(value);
                        if (fields.Length > 100)
                        {
                            throw new ArgumentException("-Handoff includeFields takes at most 100 field names.", "Handoff");
                        }
                        foreach (var field in fields)
                        {
                            RequireText(field, key);
                        }
                        result.IncludeFields = fields;
                        break;
                    case "maxcontextbytes":
                        int bytes = LanguagePrimitives.ConvertTo<int>(value);
                        if (bytes < 256 || bytes > 1_000_000)
                        {
                            throw new ArgumentException($"-Handoff maxContextBytes must be 256 to 1000000, not {bytes}.", "Handoff");
                        }
                        result.MaxContextBytes = bytes;
                        break;
                    default:
                        throw new ArgumentException(
                            $"-Handoff has an unknown key '{key}'; the server takes goal, nextAction, includeFields and maxContextBytes.", "Handoff");
                }
            }
            return result;
        }

        private static string RequireText(object? value, string key)
        {
            string? text = value as string ?? (value is null ? null : LanguagePrimitives.ConvertTo<string>(value));
            if (string.IsNullOrEmpty(text))
            {
                throw new ArgumentException($"-Handoff {key} must be a non-empty string.", "Handoff");
            }
            return text!;
        }

        #endregion
    }

    /// <summary>The base of the cmdlets that make requests as an agent: -Connection and a per-call -TimeoutSec.</summary>
    public abstract class AgentMailboxRequestCmdlet : AgentMailboxConnectedCmdlet
    {
        #region Parameters

        /// <summary>
        /// Seconds each request of this call may wait for an answer (and the longest its body may stall), in place of
        /// the connection's -TimeoutSec; 0 waits forever. A timeout is an OperationTimeout error.
        /// </summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int TimeoutSec { get; set; }

        #endregion

        /// <inheritdoc />
        protected override TimeSpan? CallTimeout
            => !MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? null
               : TimeoutSec == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(TimeoutSec);
    }

    /// <summary>The base of the cmdlets that act as an agent: -Connection, else the session's default connection.</summary>
    public abstract class AgentMailboxConnectedCmdlet : AgentMailboxCmdlet
    {
        #region Parameters

        /// <summary>The connection to act through; the session's default (the last Connect-AgentMailbox) when omitted.</summary>
        [Parameter]
        [ValidateNotNull]
        public Connection? Connection { get; set; }

        #endregion

        /// <summary>The connection to use: -Connection, else the default; a terminating error when there is none.</summary>
        protected Connection CurrentConnection
        {
            get
            {
                var connection = Connection ?? DefaultConnection.Current;
                // The default may be replaced (and the old one retired) between reading and leasing it: read again.
                for (int tries = 0; connection is not null && !TryLease(connection) && tries < 100; tries++)
                {
                    connection = Connection ?? DefaultConnection.Current;
                }
                if (connection is null)
                {
                    var record = new ErrorRecord(
                        new InvalidOperationException("Not connected to an AgentMailbox server. Run Connect-AgentMailbox first, or pass -Connection."),
                        ErrorIds.AgentMailboxNotConnected, ErrorCategory.ConnectionError, null);
                    record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = "Run Connect-AgentMailbox <agent id> -Server <uri>." };
                    ThrowTerminatingError(record);
                }
                if (connection!.IsClosed)
                {
                    var record = new ErrorRecord(
                        new ObjectDisposedException(nameof(Connection), $"The connection of {connection.AgentId} to {connection.Server.AbsoluteUri} was closed by Disconnect-AgentMailbox."),
                        ErrorIds.ConnectionClosed, ErrorCategory.ConnectionError, connection);
                    record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = "Run Connect-AgentMailbox again." };
                    ThrowTerminatingError(record);
                }
                return connection;
            }
        }
    }

    /// <summary>
    /// A request failed because its connection was closed (Disconnect-AgentMailbox or Remove-Module, perhaps in another
    /// runspace) while the call was in progress: the module's ConnectionClosed error, written for the input it hit.
    /// </summary>
    public sealed class ConnectionClosedException : AgentMailboxConnectionException
    {
        internal ConnectionClosedException(Connection connection, Exception inner)
            : base($"The connection of {connection.AgentId} to {connection.Server.AbsoluteUri} was closed (Disconnect-AgentMailbox or Remove-Module) while this call was in progress.",
                null, null, null, inner)
        {
        }
    }
}
