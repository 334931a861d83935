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
    /// The checkpoint log of a connection, fetched for tab completion: one request (the newest 100, the most the
    /// server gives) with a one-second budget, cancelled when the budget runs out and waited for briefly, so no
    /// request outlives the completion; cached for a few seconds per connection (a new checkpoint shows up soon);
    /// empty when not connected.
    /// </summary>
    internal static class CheckpointCompletionCache
    {
        private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);
        private static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(250);

        private sealed class Entry
        {
            public Entry(DateTime fetched, IReadOnlyList<ContextCheckpoint> checkpoints)
            {
                Fetched = fetched;
                Checkpoints = checkpoints;
            }

            public DateTime Fetched { get; }
            public IReadOnlyList<ContextCheckpoint> Checkpoints { get; }
        }

        private static readonly ConditionalWeakTable<Connection, Entry> Cache = new ConditionalWeakTable<Connection, Entry>();

        internal static IReadOnlyList<ContextCheckpoint> Checkpoints(IDictionary fakeBoundParameters)
        {
            object? bound = fakeBoundParameters?["Connection"];
            if (bound is PSObject pso)
            {
                bound = pso.BaseObject;
            }
            var connection = bound as Connection ?? DefaultConnection.Current;
            if (connection is null || connection.IsClosed)
            {
                return Array.Empty<ContextCheckpoint>();
            }
            lock (Cache)
            {
                if (Cache.TryGetValue(connection, out var cached) && DateTime.UtcNow - cached.Fetched < Lifetime)
                {
                    return cached.Checkpoints;
                }
            }
            var checkpoints = Fetch(connection);
            lock (Cache)
            {
                Cache.Remove(connection);
                Cache.Add(connection, new Entry(DateTime.UtcNow, checkpoints));
            }
            return checkpoints;
        }

        private static IReadOnlyList<ContextCheckpoint> Fetch(Connection connection)
        {
            var checkpoints = new List<ContextCheckpoint>();
            using var budget = new CancellationTokenSource();
            Task? task = null;
            try
            {
                task = Task.Run(async () =>
                {
                    await foreach (var checkpoint in connection.Client.GetCheckpointsAsync(connection.AgentId, null, 100, budget.Token).ConfigureAwait(false))
                    {
                        lock (checkpoints)
                        {
                            checkpoints.Add(checkpoint);
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
            lock (checkpoints)
            {
                return checkpoints.ToArray();
            }
        }
    }

    /// <summary>Completes checkpoint ids with the connection's log, newest first; the tooltip gives branch, message and time.</summary>
    public sealed class CheckpointIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionCache.Matching(
                CheckpointCompletionCache.Checkpoints(fakeBoundParameters)
                    .Select(c => (c.Id, $"{c.Branch}: {c.Message} ({c.NodeCount} nodes, {c.IndexCount} index entries, {c.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss})")),
                wordToComplete).ToList();
    }

    /// <summary>Completes branch names with the branches in the connection's log, most recently checkpointed first.</summary>
    public sealed class CheckpointBranchCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionCache.Matching(
                CheckpointCompletionCache.Checkpoints(fakeBoundParameters)
                    .Select(c => c.Branch)
                    .Distinct(StringComparer.Ordinal)
                    .Select(b => (b, b)),
                wordToComplete).ToList();
    }
}
