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
    /// The threads of a connection, fetched for tab completion: cached for a short while per connection, fetched
    /// with a one-second budget so completion never blocks the prompt, and empty when not connected.
    /// </summary>
    internal static class CompletionCache
    {
        private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
        /// <summary>How long a fetch may run before it is cancelled, and how long the completer waits for a cancelled
        /// fetch to end: together under the second the prompt may wait.</summary>
        private static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(750);
        private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(200);
        private const int MaxThreads = 500;

        private sealed class Entry
        {
            public Entry(DateTime fetched, IReadOnlyList<AgentThread> threads)
            {
                Fetched = fetched;
                Threads = threads;
            }

            public DateTime Fetched { get; }
            public IReadOnlyList<AgentThread> Threads { get; }
        }

        private static readonly ConditionalWeakTable<Connection, Entry> Cache = new ConditionalWeakTable<Connection, Entry>();

        internal static IReadOnlyList<AgentThread> Threads(IDictionary fakeBoundParameters)
        {
            var connection = ConnectionOf(fakeBoundParameters);
            if (connection is null || connection.IsClosed)
            {
                return Array.Empty<AgentThread>();
            }
            lock (Cache)
            {
                if (Cache.TryGetValue(connection, out var cached) && DateTime.UtcNow - cached.Fetched < Lifetime)
                {
                    return cached.Threads;
                }
            }
            var threads = Fetch(connection);
            lock (Cache)
            {
                Cache.Remove(connection);
                Cache.Add(connection, new Entry(DateTime.UtcNow, threads));
            }
            return threads;
        }

        private static int s_inFlight;

        /// <summary>Fetches that have not ended yet (for tests: none may outlive the completer that started it).</summary>
        internal static int InFlight => Volatile.Read(ref s_inFlight);

        private static IReadOnlyList<AgentThread> Fetch(Connection connection)
        {
            var threads = new List<AgentThread>();
            if (!connection.TryLease())
            {
                return threads;
            }
            var budget = new CancellationTokenSource(Budget);
            Interlocked.Increment(ref s_inFlight);
            Task? task = null;
            try
            {
                task = Task.Run(async () =>
                {
                    await foreach (var thread in connection.Client.GetThreadsAsync(connection.AgentId, 100, 0, null, MaxThreads, budget.Token).ConfigureAwait(false))
                    {
                        lock (threads)
                        {
                            threads.Add(thread);
                        }
                    }
                });
                if (!task.Wait(Budget))
                {
                    // Out of budget: cancel the fetch and let it end (a cancelled read is released by closing its
                    // answer) before returning, so no request and no token source outlive the completer.
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
                    // Still not ended after its cancellation: release what it holds only when it does end.
                    task.ContinueWith(_ =>
                    {
                        budget.Dispose();
                        Interlocked.Decrement(ref s_inFlight);
                        connection.Release();
                    }, TaskScheduler.Default);
                }
            }
            lock (threads)
            {
                return threads.ToArray();
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
