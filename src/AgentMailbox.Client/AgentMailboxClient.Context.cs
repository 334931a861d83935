using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox
{
    // The context half of the protocol (protocol.md §5): the graph, the codebase index, checkpoints and agent cards.
    // Retries follow the messaging rules: reads, deletes and upserts (idempotent by key) may be repeated after a
    // broken connection or a 502/503/504; a checkpoint or a merge (each creates a commit) never once it may have
    // reached the server.
    public sealed partial class AgentMailboxClient
    {
        #region Context graph

        /// <summary><c>POST /mailbox/:a/graph/nodes</c>: creates or replaces the node; returns it as sent.</summary>
        public async Task<GraphNode> SetGraphNodeAsync(string agentId, GraphNode node, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            if (node is null)
            {
                throw new ArgumentNullException(nameof(node));
            }
            RequireText(node.Id, "Id");
            RequireWord(ContextVocabulary.NodeTypes, node.Type, "Type", "node type");
            RequireText(node.Name, "Name");
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("id", node.Id);
                w.WriteString("type", node.Type);
                w.WriteString("name", node.Name);
                if (node.Description is not null)
                {
                    w.WriteString("description", node.Description);
                }
                WriteMetadata(w, node.Metadata);
                w.WriteEndObject();
            });
            await ExecuteAsync<JsonElement>(HttpMethod.Post, AgentPath(agentId, "/graph/nodes"), null, body, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
            return node;
        }

        /// <summary><c>POST /mailbox/:a/graph/edges</c>: creates or replaces the edge (keyed by source, target and type); returns it as sent.</summary>
        public async Task<GraphEdge> SetGraphEdgeAsync(string agentId, GraphEdge edge, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            if (edge is null)
            {
                throw new ArgumentNullException(nameof(edge));
            }
            RequireEdgeKey(edge.SourceId, edge.TargetId, edge.Type);
            if (double.IsNaN(edge.Weight) || double.IsInfinity(edge.Weight) || edge.Weight <= 0)
            {
                throw new ArgumentOutOfRangeException("Weight", edge.Weight, "The weight must be a positive finite number.");
            }
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("sourceId", edge.SourceId);
                w.WriteString("targetId", edge.TargetId);
                w.WriteString("type", edge.Type);
                w.WriteNumber("weight", edge.Weight);
                w.WriteEndObject();
            });
            await ExecuteAsync<JsonElement>(HttpMethod.Post, AgentPath(agentId, "/graph/edges"), null, body, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
            return edge;
        }

        /// <summary>
        /// <c>GET /mailbox/:a/graph/query</c>: the nodes whose name or description contains <paramref name="query"/>,
        /// the nodes within <paramref name="depth"/> hops of them (at most <paramref name="limit"/> in all), and the
        /// edges among them.
        /// </summary>
        /// <param name="depth">1 to 5 (server default 2).</param>
        /// <param name="limit">1 to 200 (server default 30).</param>
        public async Task<GraphQueryResult> SearchGraphAsync(string agentId, string query, int? depth = null, int? limit = null,
            CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(query, nameof(query));
            RequireRange(depth, 1, 5, nameof(depth));
            RequireRange(limit, 1, 200, nameof(limit));
            var parts = new List<string>(3) { "q=" + UriEscaper.Escape(query) };
            AddNumber(parts, "limit", limit);
            AddNumber(parts, "depth", depth);
            var result = await ExecuteAsync<GraphQueryResult>(HttpMethod.Get, AgentPath(agentId, "/graph/query"), string.Join("&", parts), null,
                idempotent: true, cancellationToken).ConfigureAwait(false);
            result.Query = query;
            return result;
        }

        /// <summary><c>DELETE /mailbox/:a/graph/nodes/:id</c>: removes the node and every edge to or from it; succeeds when it is missing.</summary>
        public async Task RemoveGraphNodeAsync(string agentId, string nodeId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(nodeId, nameof(nodeId));
            await ExecuteAsync<JsonElement>(HttpMethod.Delete, AgentPath(agentId, "/graph/nodes/" + UriEscaper.Escape(nodeId)), null, null,
                idempotent: true, cancellationToken).ConfigureAwait(false);
        }

        /// <summary><c>DELETE /mailbox/:a/graph/edges</c>: removes the edge; succeeds when it is missing.</summary>
        public async Task RemoveGraphEdgeAsync(string agentId, string sourceId, string targetId, string type, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireEdgeKey(sourceId, targetId, type);
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("sourceId", sourceId);
                w.WriteString("targetId", targetId);
                w.WriteString("type", type);
                w.WriteEndObject();
            });
            await ExecuteAsync<JsonElement>(HttpMethod.Delete, AgentPath(agentId, "/graph/edges"), null, body, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
        }

        #endregion

        #region Codebase index

        /// <summary>
        /// <c>POST /mailbox/:a/index</c>: creates or replaces the entry; returns it as sent. The server sets its
        /// UpdatedAt and clears its ParentKey on every upsert (protocol.md §8 quirks 22–23).
        /// </summary>
        public async Task<IndexEntry> SetIndexEntryAsync(string agentId, IndexEntry entry, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            if (entry is null)
            {
                throw new ArgumentNullException(nameof(entry));
            }
            RequireText(entry.Key, "Key");
            RequireWord(ContextVocabulary.IndexCategories, entry.Category, "Category", "index category");
            RequireText(entry.Summary, "Summary");
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("key", entry.Key);
                w.WriteString("category", entry.Category);
                w.WriteString("summary", entry.Summary);
                WriteMetadata(w, entry.Metadata);
                w.WriteEndObject();
            });
            await ExecuteAsync<JsonElement>(HttpMethod.Post, AgentPath(agentId, "/index"), null, body, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
            return entry;
        }

        /// <summary><c>GET /mailbox/:a/index/&lt;key&gt;</c>; a missing key is an <see cref="AgentMailboxNotFoundException"/>.</summary>
        public Task<IndexEntry> GetIndexEntryAsync(string agentId, string key, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(key, nameof(key));
            return ExecuteAsync<IndexEntry>(HttpMethod.Get, IndexKeyPath(agentId, key), null, null, idempotent: true, cancellationToken);
        }

        /// <summary>
        /// <c>GET /mailbox/:a/index?q=&amp;category=&amp;limit=</c>: entries whose key or summary contains
        /// <paramref name="query"/>, most recently written first, each yielded as soon as it is decoded.
        /// </summary>
        /// <param name="limit">1 to 200 (server default 20).</param>
        public IAsyncEnumerable<IndexEntry> SearchIndexAsync(string agentId, string query, string? category = null, int? limit = null,
            CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(query, nameof(query));
            if (category is not null)
            {
                RequireWord(ContextVocabulary.IndexCategories, category, nameof(category), "index category");
            }
            RequireRange(limit, 1, 200, nameof(limit));
            var parts = new List<string>(3) { "q=" + UriEscaper.Escape(query) };
            if (category is not null)
            {
                parts.Add("category=" + UriEscaper.Escape(category));
            }
            AddNumber(parts, "limit", limit);
            return StreamAsync<IndexEntry>(AgentPath(agentId, "/index"), string.Join("&", parts), "entries", null, cancellationToken);
        }

        /// <summary><c>DELETE /mailbox/:a/index/&lt;key&gt;</c>: succeeds when the key is missing.</summary>
        public async Task RemoveIndexEntryAsync(string agentId, string key, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(key, nameof(key));
            await ExecuteAsync<JsonElement>(HttpMethod.Delete, IndexKeyPath(agentId, key), null, null, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
        }

        /// <summary>
        /// <c>POST /mailbox/:a/index/rollup</c>: makes (or rewrites) the module entry <paramref name="moduleKey"/> whose
        /// summary lists the given entries' summaries as "[key] summary" lines, and sets their ParentKey to it. Keys
        /// with no entry are left out of the summary. Takes 1 to 500 keys.
        /// </summary>
        public Task<IndexRollupResult> MergeIndexEntriesAsync(string agentId, string moduleKey, IReadOnlyCollection<string> keys,
            CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(moduleKey, nameof(moduleKey));
            if (keys is null)
            {
                throw new ArgumentNullException(nameof(keys));
            }
            if (keys.Count == 0 || keys.Count > ContextVocabulary.MaxRollupKeys)
            {
                throw new ArgumentOutOfRangeException(nameof(keys), keys.Count,
                    $"A rollup takes 1 to {ContextVocabulary.MaxRollupKeys} keys; {keys.Count} were given.");
            }
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("moduleKey", moduleKey);
                w.WriteStartArray("fileKeys");
                foreach (string key in keys)
                {
                    RequireText(key, nameof(keys));
                    w.WriteStringValue(key);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            });
            return ExecuteAsync<IndexRollupResult>(HttpMethod.Post, AgentPath(agentId, "/index/rollup"), null, body, idempotent: true, cancellationToken);
        }

        #endregion

        #region Checkpoints

        /// <summary>
        /// <c>POST /mailbox/:a/git/commit</c>: checkpoints the live graph and index on <paramref name="branch"/>
        /// (server default main). Never repeated once it may have reached the server: a repeat would commit twice.
        /// The agent must be registered (an unregistered agent gets a 500 from the server, quirk 13).
        /// </summary>
        public Task<ContextCheckpoint> CheckpointAsync(string agentId, string message, string? branch = null, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(message, nameof(message));
            if (branch is not null)
            {
                RequireText(branch, nameof(branch));
            }
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("message", message);
                if (branch is not null)
                {
                    w.WriteString("branch", branch);
                }
                w.WriteEndObject();
            });
            return ExecuteAsync<ContextCheckpoint>(HttpMethod.Post, AgentPath(agentId, "/git/commit"), null, body, idempotent: false, cancellationToken);
        }

        /// <summary><c>GET /mailbox/:a/git/log?branch=&amp;limit=</c>: checkpoints newest first, without snapshots, each as it is decoded.</summary>
        /// <param name="branch">Only this branch; null for every branch.</param>
        /// <param name="limit">1 to 100 (server default 20).</param>
        public IAsyncEnumerable<ContextCheckpoint> GetCheckpointsAsync(string agentId, string? branch = null, int? limit = null,
            CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireRange(limit, 1, 100, nameof(limit));
            var parts = new List<string>(2);
            if (branch is not null)
            {
                RequireText(branch, nameof(branch));
                parts.Add("branch=" + UriEscaper.Escape(branch));
            }
            AddNumber(parts, "limit", limit);
            return StreamAsync<ContextCheckpoint>(AgentPath(agentId, "/git/log"), string.Join("&", parts), "commits", null, cancellationToken);
        }

        /// <summary><c>GET /mailbox/:a/git/commits/:id</c>: one checkpoint with its snapshot; a missing one is an <see cref="AgentMailboxNotFoundException"/>.</summary>
        public Task<ContextCheckpoint> GetCheckpointAsync(string agentId, string checkpointId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(checkpointId, nameof(checkpointId));
            return ExecuteAsync<ContextCheckpoint>(HttpMethod.Get, AgentPath(agentId, "/git/commits/" + UriEscaper.Escape(checkpointId)), null, null,
                idempotent: true, cancellationToken);
        }

        /// <summary>
        /// <c>DELETE /mailbox/:a/git/commits/:id</c>. A missing checkpoint is an <see cref="AgentMailboxNotFoundException"/>;
        /// one that is another's parent cannot be removed (the server answers 500, quirk 18).
        /// </summary>
        public async Task RemoveCheckpointAsync(string agentId, string checkpointId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(checkpointId, nameof(checkpointId));
            await ExecuteAsync<JsonElement>(HttpMethod.Delete, AgentPath(agentId, "/git/commits/" + UriEscaper.Escape(checkpointId)), null, null,
                idempotent: true, cancellationToken).ConfigureAwait(false);
        }

        /// <summary><c>POST /mailbox/:a/git/restore/:id</c>: replaces the live graph and index with the checkpoint's.</summary>
        public async Task RestoreCheckpointAsync(string agentId, string checkpointId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(checkpointId, nameof(checkpointId));
            await ExecuteAsync<JsonElement>(HttpMethod.Post, AgentPath(agentId, "/git/restore/" + UriEscaper.Escape(checkpointId)), null, null,
                idempotent: true, cancellationToken).ConfigureAwait(false);
        }

        /// <summary><c>GET /mailbox/:a/git/diff?from=&amp;to=</c>: what changed from one checkpoint to another, or to the live state when <paramref name="toId"/> is null.</summary>
        public async Task<ContextDiff> CompareCheckpointsAsync(string agentId, string fromId, string? toId = null, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(fromId, nameof(fromId));
            string query = "from=" + UriEscaper.Escape(fromId);
            if (toId is not null)
            {
                RequireText(toId, nameof(toId));
                query += "&to=" + UriEscaper.Escape(toId);
            }
            var diff = await ExecuteAsync<ContextDiff>(HttpMethod.Get, AgentPath(agentId, "/git/diff"), query, null, idempotent: true, cancellationToken)
                .ConfigureAwait(false);
            diff.ReferenceId = fromId;
            diff.DifferenceId = toId;
            return diff;
        }

        /// <summary>
        /// <c>POST /mailbox/:a/git/merge</c>: merges the newest checkpoint of <paramref name="fromBranch"/> into that of
        /// <paramref name="toBranch"/>, makes the result the live graph and index (like a restore, quirk 21) and
        /// checkpoints it on <paramref name="toBranch"/>. Never repeated once it may have reached the server.
        /// </summary>
        /// <param name="strategy">union, ours or theirs (server default union).</param>
        public Task<ContextCheckpoint> MergeBranchAsync(string agentId, string fromBranch, string toBranch, string? strategy = null, string? message = null,
            CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            RequireText(fromBranch, nameof(fromBranch));
            RequireText(toBranch, nameof(toBranch));
            if (strategy is not null)
            {
                RequireWord(ContextVocabulary.MergeStrategies, strategy, nameof(strategy), "merge strategy");
            }
            if (message is not null)
            {
                RequireText(message, nameof(message));
            }
            byte[] body = WriteBody(w =>
            {
                w.WriteStartObject();
                w.WriteString("fromBranch", fromBranch);
                w.WriteString("toBranch", toBranch);
                if (strategy is not null)
                {
                    w.WriteString("strategy", strategy);
                }
                if (message is not null)
                {
                    w.WriteString("message", message);
                }
                w.WriteEndObject();
            });
            return ExecuteAsync<ContextCheckpoint>(HttpMethod.Post, AgentPath(agentId, "/git/merge"), null, body, idempotent: false, cancellationToken);
        }

        #endregion

        #region Agent cards

        /// <summary><c>GET /.well-known/agent-card.json</c>: the server's own card (public: no key needed).</summary>
        public Task<AgentCard> GetServerCardAsync(CancellationToken cancellationToken = default)
            => ExecuteAsync<AgentCard>(HttpMethod.Get, "/.well-known/agent-card.json", null, null, idempotent: true, cancellationToken);

        /// <summary><c>GET /.well-known/agent-card/:id</c>: a registered agent's card; an unknown agent is an <see cref="AgentMailboxNotFoundException"/>.</summary>
        public Task<AgentCard> GetAgentCardAsync(string agentId, CancellationToken cancellationToken = default)
        {
            RequireText(agentId, nameof(agentId));
            return ExecuteAsync<AgentCard>(HttpMethod.Get, "/.well-known/agent-card/" + UriEscaper.Escape(agentId), null, null, idempotent: true,
                cancellationToken);
        }

        #endregion

        #region Helpers

        private static string AgentPath(string agentId, string rest) => "/mailbox/" + UriEscaper.Escape(agentId) + rest;

        /// <summary>An index key travels as one escaped segment (a '/' as %2F), so every character round-trips.</summary>
        private static string IndexKeyPath(string agentId, string key) => AgentPath(agentId, "/index/" + UriEscaper.Escape(key));

        /// <summary>Metadata is a JSON object on the wire; none is sent when it is null (the server then stores {}).</summary>
        private void WriteMetadata(Utf8JsonWriter writer, object? metadata)
        {
            if (metadata is null)
            {
                return;
            }
            writer.WritePropertyName("metadata");
            _values.Write(writer, metadata);
        }

        private static void RequireWord(IReadOnlyList<string> words, string? value, string name, string what)
        {
            if (!ContextVocabulary.Contains(words, value))
            {
                throw new ArgumentException($"'{value}' is not a {what}; use one of: {string.Join(", ", words)}.", name);
            }
        }

        private static void RequireEdgeKey(string? sourceId, string? targetId, string? type)
        {
            RequireText(sourceId, "SourceId");
            RequireText(targetId, "TargetId");
            RequireText(type, "Type");
        }

        private static void RequireRange(int? value, int min, int max, string name)
        {
            if (value is not null && (value < min || value > max))
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be {min} to {max}.");
            }
        }

        private static void AddNumber(List<string> parts, string name, int? value)
        {
            if (value is not null)
            {
                parts.Add(name + "=" + value.Value.ToString(CultureInfo.InvariantCulture));
            }
        }

        #endregion
    }
}
