using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox.PowerShell
{
    /// <summary>
    /// What tab completion offers, per connection: the threads (for thread and agent ids) and the checkpoint log (for
    /// checkpoint ids and branches). Each list is fetched with a budget so completion never blocks the prompt, cached
    /// for a short while, and empty when not connected.
    /// </summary>
    internal static class CompletionCache
    {
        /// <summary>How long a fetch may run before it is cancelled, and how long the completer waits for a cancelled
        /// fetch to end: together under the second the prompt may wait.</summary>
        internal static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(750);
        internal static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(200);
        private const int MaxThreads = 500;

        private static readonly CompletionList<AgentThread> ThreadList = new CompletionList<AgentThread>(TimeSpan.FromSeconds(30),
            (connection, ct) => connection.Client.GetThreadsAsync(connection.AgentId, 100, 0, null, MaxThreads, ct));

        // A new checkpoint should show up soon, so the log is kept only briefly; 100 is the most the server lists.
        private static readonly CompletionList<ContextCheckpoint> CheckpointList = new CompletionList<ContextCheckpoint>(TimeSpan.FromSeconds(5),
            (connection, ct) => connection.Client.GetCheckpointsAsync(connection.AgentId, null, 100, ct));

        internal static IReadOnlyList<AgentThread> Threads(IDictionary fakeBoundParameters) => ThreadList.Get(ConnectionOf(fakeBoundParameters));

        internal static IReadOnlyList<ContextCheckpoint> Checkpoints(IDictionary fakeBoundParameters) => CheckpointList.Get(ConnectionOf(fakeBoundParameters));

        private static int s_inFlight;

        /// <summary>Fetches that have not ended yet (for tests: none may outlive the completer that started it).</summary>
        internal static int InFlight => Volatile.Read(ref s_inFlight);

        /// <summary>
        /// Fetches a list on a task of its own within <see cref="Budget"/>; out of budget, cancels it and waits up to
        /// <see cref="Grace"/> for it to end (a cancelled read is released by closing its answer), so no request and no
        /// token source outlive the completer; one that still has not ended releases what it holds when it does.
        /// </summary>
        internal static IReadOnlyList<T> Fetch<T>(Connection connection, Func<Connection, CancellationToken, IAsyncEnumerable<T>> fetch)
        {
            var items = new List<T>();
            if (!connection.TryLease())
            {
                return items;
            }
            var budget = new CancellationTokenSource(Budget);
            Interlocked.Increment(ref s_inFlight);
            Task? task = null;
            try
            {
                task = Task.Run(async () =>
                {
                    await foreach (var item in fetch(connection, budget.Token).ConfigureAwait(false))
                    {
                        lock (items)
                        {
                            items.Add(item);
                        }
                    }
                });
                if (!task.Wait(Budget))
                {
                    budget.Cancel();
                    task.Wait(Grace);
                }
            }
            catch (Exception)
            {
                // Completion is best effort: whatever arrived within the budget is offered.
            }
            finally
            {
                if (task is null || task.IsCompleted)
                {
                    budget.Dispose();
                    Interlocked.Decrement(ref s_inFlight);
                    connection.Release();
                }
                else
                {
                    task.ContinueWith(_ =>
                    {
                        budget.Dispose();
                        Interlocked.Decrement(ref s_inFlight);
                        connection.Release();
                    }, TaskScheduler.Default);
                }
            }
            lock (items)
            {
                return items.ToArray();
            }
        }

        private static Connection? ConnectionOf(IDictionary fakeBoundParameters)
        {
            object? bound = fakeBoundParameters?["Connection"];
            if (bound is PSObject pso)
            {
                bound = pso.BaseObject;
            }
            return bound as Connection ?? DefaultConnection.Current;
        }

        internal static IEnumerable<CompletionResult> Matching(IEnumerable<(string Value, string Tooltip)> candidates, string wordToComplete)
        {
            string prefix = (wordToComplete ?? "").Trim('\'', '"');
            foreach (var (value, tooltip) in candidates)
            {
                if (value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    string text = value.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,|&@#<>".IndexOf(c) >= 0)
                        ? "'" + value.Replace("'", "''") + "'"
                        : value;
                    yield return new CompletionResult(text, value, CompletionResultType.ParameterValue, string.IsNullOrEmpty(tooltip) ? value : tooltip);
                }
            }
        }
    }

    /// <summary>One list tab completion offers, cached per connection for <c>lifetime</c>.</summary>
    internal sealed class CompletionList<T>
    {
        private readonly TimeSpan _lifetime;
        private readonly Func<Connection, CancellationToken, IAsyncEnumerable<T>> _fetch;
        private readonly ConditionalWeakTable<Connection, Entry> _cache = new ConditionalWeakTable<Connection, Entry>();

        internal CompletionList(TimeSpan lifetime, Func<Connection, CancellationToken, IAsyncEnumerable<T>> fetch)
        {
            _lifetime = lifetime;
            _fetch = fetch;
        }

        private sealed class Entry
        {
            public Entry(DateTime fetched, IReadOnlyList<T> items)
            {
                Fetched = fetched;
                Items = items;
            }

            public DateTime Fetched { get; }
            public IReadOnlyList<T> Items { get; }
        }

        internal IReadOnlyList<T> Get(Connection? connection)
        {
            if (connection is null || connection.IsClosed)
            {
                return Array.Empty<T>();
            }
            lock (_cache)
            {
                if (_cache.TryGetValue(connection, out var cached) && DateTime.UtcNow - cached.Fetched < _lifetime)
                {
                    return cached.Items;
                }
            }
            var items = CompletionCache.Fetch(connection, _fetch);
            lock (_cache)
            {
                _cache.Remove(connection);
                _cache.Add(connection, new Entry(DateTime.UtcNow, items));
            }
            return items;
        }
    }

    /// <summary>Completes -ThreadId with the threads of the connection, most recently updated first.</summary>
    public sealed class ThreadIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionCache.Matching(
                CompletionCache.Threads(fakeBoundParameters)
                    .OrderByDescending(t => t.UpdatedAt)
                    .Select(t => (t.Id, $"{string.Join(", ", t.Participants)} ({t.Messages.Length} messages, updated {t.UpdatedAt:u})")),
                wordToComplete).ToList();
    }

    /// <summary>Completes agent ids (-To, -Cc, -Bcc, -From) with the agents seen in the connection's threads.</summary>
    public sealed class AgentIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionCache.Matching(
                CompletionCache.Threads(fakeBoundParameters)
                    .SelectMany(t => t.Participants.Concat(t.SilentParticipants))
                    .Distinct(StringComparer.Ordinal)
                    .OrderBy(a => a, StringComparer.OrdinalIgnoreCase)
                    .Select(a => (a, a)),
                wordToComplete).ToList();
    }
}
