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
    /// <summary>Completes checkpoint ids with the connection's log, newest first; the tooltip gives branch, message and time.</summary>
    public sealed class CheckpointIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionCache.Matching(
                CompletionCache.Checkpoints(fakeBoundParameters)
                    .Select(c => (c.Id, $"{c.Branch}: {c.Message} ({c.NodeCount} nodes, {c.IndexCount} index entries, {c.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss})")),
                wordToComplete).ToList();
    }

    /// <summary>Completes branch names with the branches in the connection's log, most recently checkpointed first.</summary>
    public sealed class CheckpointBranchCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
            => CompletionCache.Matching(
                CompletionCache.Checkpoints(fakeBoundParameters)
                    .Select(c => c.Branch)
                    .Distinct(StringComparer.Ordinal)
                    .Select(b => (b, b)),
                wordToComplete).ToList();
    }
}
