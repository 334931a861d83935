using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Runs a cmdlet's per-input requests with up to a throttle limit (-ThrottleLimit) in flight over the connection,
    /// and hands their results back to the pipeline thread in input order.
    /// </summary>
    /// <remarks>
    /// <para>How a cmdlet uses it (a few lines):</para>
    /// <list type="number">
    /// <item>BeginProcessing: <c>_requests = StartRequests&lt;TResult&gt;(ThrottleLimit, new CommandProgress(this, "…", "sent"))</c>
    /// (a method of <see cref="AgentMailboxCmdlet"/>, which also disposes the engine with the cmdlet).</item>
    /// <item>ProcessRecord, on the pipeline thread: validate the input, ask ShouldProcess, run script blocks, then
    /// <see cref="Submit"/> the request with an order key, a callback for its result and one for its failure. Input that
    /// fails before any request is reported through <see cref="Post"/>, so its error keeps its place among the outputs.
    /// <see cref="Drain"/> is a barrier, for an input whose order key is not known beforehand.
    /// Values a worker will serialize that may hold PowerShell objects go through <see cref="Detach"/> first.</item>
    /// <item>EndProcessing: <see cref="Complete"/>.</item>
    /// </list>
    /// <para>Guarantees: the callbacks run on the pipeline thread (the only one that writes output, errors, verbose
    /// and progress), in input order; requests that share an order key start one after another in input order, each
    /// only after the previous one with that key has finished (successfully or not); a request is started once and never
    /// repeated (the client's own retry rules apply inside it); Ctrl+C (or a terminating error elsewhere in the
    /// pipeline) cancels the requests in flight, starts no further one, and returns at once.</para>
    /// <para>With a throttle limit of 1 every request runs on the pipeline thread as soon as it is submitted, exactly as
    /// a cmdlet without the engine does.</para>
    /// <para>The client may do blocking I/O on the thread that calls it (<see cref="AgentMailboxClientOptions.BlockingIO"/>),
    /// so each request in flight holds a worker thread of the engine's own (at most the throttle limit, started on
    /// demand, never the thread pool's). Each worker sets the request log (<see cref="RequestObserver"/>) and the call's
    /// timeout (<see cref="RequestTimeout"/>) scopes around its call, as <c>Await</c> does on the pipeline thread.</para>
    /// </remarks>
    /// <typeparam name="T">What a request returns.</typeparam>
    internal sealed class ThrottledRequests<T> : IDisposable
    {
        /// <summary>The most inputs (in flight, waiting for their turn, or done but not yet written) held at once.</summary>
        private readonly int _window;

        private readonly Cmdlet _cmdlet;
        private readonly CancellationToken _stop;
        private readonly TimeSpan? _timeout;
        private readonly Func<Func<CancellationToken, Task<T>>, T> _awaitInline;
        private readonly Func<Exception, bool> _isReportable;
        private readonly CommandProgress? _progress;

        private readonly CancellationTokenSource _cancel;
        private readonly CancellationTokenRegistration _wakeOnCancel;
        private readonly Queue<Entry> _pending = new Queue<Entry>();
        private readonly ConcurrentQueue<RequestRecord> _log = new ConcurrentQueue<RequestRecord>();
        private readonly SemaphoreSlim _finished = new SemaphoreSlim(0);

        // Guarded by _gate.
        private readonly object _gate = new object();
        private readonly Queue<Entry> _ready = new Queue<Entry>();
        private readonly Dictionary<string, Entry> _lastOfKey = new Dictionary<string, Entry>(StringComparer.Ordinal);
        private int _threads;
        private int _busy;
        private bool _closed;

        internal ThrottledRequests(Cmdlet cmdlet, int throttleLimit, CancellationToken stop, TimeSpan? timeout,
            Func<Func<CancellationToken, Task<T>>, T> awaitInline, Func<Exception, bool> isReportable, CommandProgress? progress)
        {
            if (throttleLimit < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, "The throttle limit must be at least 1.");
            }
            _cmdlet = cmdlet;
            ThrottleLimit = throttleLimit;
            _window = Math.Max(16, 4 * throttleLimit);
            _stop = stop;
            _timeout = timeout;
            _awaitInline = awaitInline;
            _isReportable = isReportable;
            _progress = progress;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
            _wakeOnCancel = _cancel.Token.Register(WakeWorkers);
        }

        /// <summary>How many requests may be in flight at once; 1 runs each on the pipeline thread.</summary>
        internal int ThrottleLimit { get; }

        /// <summary>True when requests run on worker threads (a throttle limit above 1).</summary>
        internal bool IsConcurrent => ThrottleLimit > 1;

        /// <summary>
        /// Runs <paramref name="call"/> for one input (on a worker, or at once on the pipeline thread with a throttle limit
        /// of 1), then, on the pipeline thread and in input order, <paramref name="onResult"/> with its result or
        /// <paramref name="onError"/> with a failure the cmdlet reports per input (an <see cref="AgentMailboxException"/>
        /// and the like); any other failure ends the pipeline, as it would without the engine. Blocks while the window of
        /// pending inputs is full, writing finished ones meanwhile. Call it from ProcessRecord only.
        /// </summary>
        /// <param name="orderKey">Requests with the same key (e.g. the thread a message goes to) start strictly one after
        /// another, in input order; null puts no constraint on this request.</param>
        internal void Submit(string? orderKey, Func<CancellationToken, Task<T>> call, Action<T> onResult, Action<Exception> onError)
        {
            if (call is null || onResult is null || onError is null)
            {
                throw new ArgumentNullException(call is null ? nameof(call) : onResult is null ? nameof(onResult) : nameof(onError));
            }
            if (!IsConcurrent)
            {
                T result;
                try
                {
                    result = _awaitInline(call);
                }
                catch (Exception ex) when (_isReportable(ex))
                {
                    onError(ex);
                    _progress?.Add();
                    return;
                }
                onResult(result);
                _progress?.Add();
                return;
            }

            ThrowIfStopped();
            WriteFinished();
            while (_pending.Count >= _window)
            {
                WaitForAny();
                WriteFinished();
            }
            var entry = new Entry(orderKey, call, onResult, onError);
            _pending.Enqueue(entry);
            lock (_gate)
            {
                if (orderKey is not null && _lastOfKey.TryGetValue(orderKey, out var previous))
                {
                    previous.Next = entry;
                }
                else
                {
                    MakeReady(entry);
                }
                if (orderKey is not null)
                {
                    _lastOfKey[orderKey] = entry;
                }
            }
        }

        /// <summary>
        /// Runs <paramref name="action"/> on the pipeline thread after every earlier input has been written: for input
        /// that fails before any request (its error then keeps its place among the outputs). Counts as one input done.
        /// </summary>
        internal void Post(Action action)
        {
            if (action is null)
            {
                throw new ArgumentNullException(nameof(action));
            }
            if (IsConcurrent)
            {
                WriteFinished();
            }
            if (_pending.Count == 0)
            {
                action();
                _progress?.Add();
                return;
            }
            _pending.Enqueue(new Entry(action));
        }

        /// <summary>
        /// Waits until every input submitted so far has finished and been written (a barrier: the next request starts after
        /// all earlier ones). For an input whose order key cannot be known beforehand. Does nothing with a throttle limit of 1.
        /// </summary>
        internal void Drain()
        {
            while (_pending.Count > 0)
            {
                WriteFinished();
                if (_pending.Count > 0)
                {
                    WaitForAny();
                }
            }
        }

        /// <summary>Waits for every submitted input and writes the rest; call it from EndProcessing. Completes the progress record.</summary>
        internal void Complete()
        {
            Drain();
            WriteFinished();
            lock (_gate)
            {
                _closed = true;
                Monitor.PulseAll(_gate);
            }
            _progress?.Complete();
        }

        /// <summary>
        /// Converts a value that a worker thread will serialize (a payload, a snapshot, metadata) to JSON now, on the
        /// pipeline thread: reading a PowerShell object's properties may run script (script properties) that needs the
        /// pipeline's runspace, and a value that has no JSON form is then reported before anything is queued. With a
        /// throttle limit of 1 the value is returned as it is.
        /// </summary>
        internal object? Detach(object? value)
        {
            if (!IsConcurrent || value is null)
            {
                return value;
            }
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                PSJsonValueConverter.Instance.Write(writer, value);
            }
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = PSJsonValueConverter.MaxDepth + 8 });
            return document.RootElement.Clone();
        }

        /// <summary>Cancels what is in flight and starts nothing more; nothing is written. The cmdlet's Dispose calls it.</summary>
        public void Dispose()
        {
            lock (_gate)
            {
                _closed = true;
                _ready.Clear();
                Monitor.PulseAll(_gate);
            }
            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
            _wakeOnCancel.Dispose();
        }

        #region Pipeline thread

        private void ThrowIfStopped()
        {
            if (_stop.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>Waits until a request finishes (or a quarter of a second, for progress), ending at once on Ctrl+C.</summary>
        private void WaitForAny()
        {
            try
            {
                _finished.Wait(250, _stop);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>Writes the verbose request lines so far, then every finished input at the head of the queue, in order.</summary>
        private void WriteFinished()
        {
            while (_log.TryDequeue(out var record))
            {
                _cmdlet.WriteVerbose(record.ToString());
            }
            while (_pending.Count > 0 && _pending.Peek().IsDone)
            {
                var entry = _pending.Dequeue();
                if (entry.Action is not null)
                {
                    entry.Action();
                }
                else if (entry.Error is null)
                {
                    entry.OnResult!(entry.Result!);
                }
                else if (_stop.IsCancellationRequested && entry.Error is OperationCanceledException)
                {
                    throw new PipelineStoppedException();
                }
                else if (_isReportable(entry.Error))
                {
                    entry.OnError!(entry.Error);
                }
                else
                {
                    ExceptionDispatchInfo.Capture(entry.Error).Throw();
                }
                _progress?.Add();
            }
            _progress?.Update();
        }

        #endregion

        #region Workers

        /// <summary>Queues an entry whose turn has come, starting a worker when none is free (under the gate).</summary>
        private void MakeReady(Entry entry)
        {
            _ready.Enqueue(entry);
            if (_threads - _busy < _ready.Count && _threads < ThrottleLimit)
            {
                _threads++;
                var thread = new Thread(Work) { IsBackground = true, Name = "AgentMailbox request" };
                // The worker sets its own request log and timeout scopes; nothing of the pipeline thread's flows into it.
                using (ExecutionContext.SuppressFlow())
                {
                    thread.Start();
                }
            }
            else
            {
                Monitor.Pulse(_gate);
            }
        }

        private void WakeWorkers()
        {
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }
        }

        private void Work()
        {
            var token = _cancel.Token;
            while (true)
            {
                Entry entry;
                lock (_gate)
                {
                    while (_ready.Count == 0 && !_closed && !token.IsCancellationRequested)
                    {
                        Monitor.Wait(_gate);
                    }
                    if (_ready.Count == 0 || token.IsCancellationRequested)
                    {
                        _threads--;
                        return;
                    }
                    entry = _ready.Dequeue();
                    _busy++;
                }

                Run(entry, token);

                lock (_gate)
                {
                    _busy--;
                    entry.IsDone = true;
                    if (_lastOfKey.TryGetValue(entry.Key!, out var last) && ReferenceEquals(last, entry))
                    {
                        _lastOfKey.Remove(entry.Key!);
                    }
                    if (entry.Next is not null)
                    {
                        MakeReady(entry.Next);
                    }
                }
                try
                {
                    _finished.Release();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        private void Run(Entry entry, CancellationToken token)
        {
            try
            {
                Task<T> task;
                using (RequestObserver.Observe(_log.Enqueue))
                using (_timeout is null ? null : RequestTimeout.Override(_timeout.Value))
                {
                    task = entry.Call!(token);
                }
                entry.Result = task.GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                entry.Error = ex;
            }
            finally
            {
                entry.Call = null;
            }
        }

        #endregion

        private sealed class Entry
        {
            private volatile bool _done;

            internal Entry(string? key, Func<CancellationToken, Task<T>> call, Action<T> onResult, Action<Exception> onError)
            {
                // An entry without a key gets one of its own, so the bookkeeping needs no special case.
                Key = key ?? "\0" + Guid.NewGuid().ToString("N");
                Call = call;
                OnResult = onResult;
                OnError = onError;
            }

            internal Entry(Action action)
            {
                Action = action;
                _done = true;
            }

            internal string? Key { get; }
            internal Func<CancellationToken, Task<T>>? Call { get; set; }
            internal Action<T>? OnResult { get; }
            internal Action<Exception>? OnError { get; }
            internal Action? Action { get; }
            internal Entry? Next { get; set; }
            internal T? Result { get; set; }
            internal Exception? Error { get; set; }

            internal bool IsDone
            {
                get => _done;
                set => _done = value;
            }
        }
    }
}
