using System;
using System.Collections.Generic;

namespace AgentMailbox
{
    /// <summary>The closed sets of words the server accepts in the context half of the protocol.</summary>
    public static class ContextVocabulary
    {
        /// <summary>The graph node types, in the server's order.</summary>
        public static IReadOnlyList<string> NodeTypes { get; } = new[] { "message", "file", "symbol", "decision", "task" };

        /// <summary>The index categories, in the server's order.</summary>
        public static IReadOnlyList<string> IndexCategories { get; } = new[] { "file", "symbol", "api", "config", "architecture", "module", "overview" };

        /// <summary>The merge strategies: union keeps the nodes, edges and entries of both branches; ours keeps the target branch's checkpoint, theirs the source branch's.</summary>
        public static IReadOnlyList<string> MergeStrategies { get; } = new[] { "union", "ours", "theirs" };

        /// <summary>The most keys one rollup takes.</summary>
        public const int MaxRollupKeys = 500;

        internal static bool Contains(IReadOnlyList<string> words, string? value)
        {
            foreach (string word in words)
            {
                if (string.Equals(word, value, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        }
    }
}
