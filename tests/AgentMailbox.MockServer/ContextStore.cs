using System.Security.Cryptography;
using System.Text;
using AgentMailbox.MockServer.Json;

namespace AgentMailbox.MockServer;

/// <summary>
/// The context half of the reference server's storage (agentsmcp 0.5.2, SQLite backend): the
/// graph (nodes per agent, edges global), the codebase index and the git-style commits of both.
/// Row order follows what SQLite returns for the server's queries: rows scanned through an index
/// on the agent come back in insertion (rowid) order, <c>IN (…)</c> lookups through a primary key
/// come back sorted by that key (BINARY, i.e. code point order), and <c>ORDER BY … DESC</c> ties
/// keep the scan order.
/// </summary>
internal sealed partial class Store
{
    private const int MaxCommitNodes = 5000;
    private const int MaxCommitIndexEntries = 5000;

    private readonly Dictionary<string, Dictionary<string, GraphNode>> _graphNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Source, string Target, string Type), GraphEdge> _graphEdges = new();
    private readonly Dictionary<string, Dictionary<string, IndexRow>> _indexRows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CommitRow> _commits = new(StringComparer.Ordinal);
    private long _contextRowId;

    private void ResetContext()
    {
        _graphNodes.Clear();
        _graphEdges.Clear();
        _indexRows.Clear();
        _commits.Clear();
    }

    private long NextRowId() => ++_contextRowId;

    // ---------------------------------------------------------------- graph

    public void UpsertNode(string agentId, string id, string type, string name, string? description, byte[] metadata)
    {
        lock (_gate)
        {
            long now = Now();
            Dictionary<string, GraphNode> nodes = AgentNodes(agentId);
            if (nodes.TryGetValue(id, out GraphNode? node))
            {
                node.Type = type;
                node.Name = name;
                node.Description = description;
                node.Metadata = metadata;
                node.UpdatedAt = now;
            }
            else
            {
                nodes[id] = new GraphNode { Id = id, Type = type, Name = name, Description = description, Metadata = metadata, UpdatedAt = now, RowId = NextRowId() };
            }
        }
    }

    public void AddEdge(string sourceId, string targetId, string type, double weight)
    {
        lock (_gate)
        {
            if (_graphEdges.TryGetValue((sourceId, targetId, type), out GraphEdge? edge))
            {
                edge.Weight = weight;
            }
            else
            {
                _graphEdges[(sourceId, targetId, type)] = new GraphEdge { SourceId = sourceId, TargetId = targetId, Type = type, Weight = weight, RowId = NextRowId() };
            }
        }
    }

    /// <summary>Deletes the edges touching <paramref name="nodeId"/> (anyone's: edges are global), then the node.</summary>
    public void DeleteNode(string agentId, string nodeId)
    {
        lock (_gate)
        {
            foreach (var key in _graphEdges.Keys.Where(k => k.Source == nodeId || k.Target == nodeId).ToList())
            {
                _graphEdges.Remove(key);
            }

            if (_graphNodes.TryGetValue(agentId, out Dictionary<string, GraphNode>? nodes))
            {
                nodes.Remove(nodeId);
            }
        }
    }

    public void DeleteEdge(string sourceId, string targetId, string type)
    {
        lock (_gate)
        {
            _graphEdges.Remove((sourceId, targetId, type));
        }
    }

    /// <summary><c>queryGraph</c>: seeds by <c>LIKE %q%</c> on name or description, a breadth-first
    /// recursive walk over the global edges up to <paramref name="depth"/> hops, the first
    /// <paramref name="limit"/> distinct ids reached, then this agent's nodes among them and every
    /// edge whose two ends are among them.</summary>
    public StoreResult QueryGraph(string agentId, string query, double limit, double depth)
    {
        lock (_gate)
        {
            double maxDepth = Math.Min(Math.Max(1, depth), 5);
            double nodeLimit = Math.Min(Math.Max(1, limit), 200);
            int[] pattern = SqlLike.Pattern(query);
            Dictionary<string, GraphNode> nodes = AgentNodes(agentId);
            List<string> seeds = nodes.Values
                .Where(n => SqlLike.Matches(pattern, n.Name) || (n.Description is not null && SqlLike.Matches(pattern, n.Description)))
                .Select(n => n.Id)
                .ToList();
            if (seeds.Count == 0)
            {
                return new StoreResult(200, Raw("{\"nodes\":[],\"edges\":[]}"));
            }

            if (nodeLimit != Math.Floor(nodeLimit))
            {
                return StoreResult.Internal("datatype mismatch");
            }

            seeds.Sort(BinaryComparer.Instance);
            List<string> reached = Walk(seeds, maxDepth, (int)nodeLimit);
            var ids = new HashSet<string>(reached, StringComparer.Ordinal);
            var b = new ByteBuffer();
            b.Write("{\"nodes\":["u8);
            bool first = true;
            foreach (string id in reached.Order(BinaryComparer.Instance))
            {
                if (!nodes.TryGetValue(id, out GraphNode? node))
                {
                    continue;
                }

                if (!first)
                {
                    b.WriteByte((byte)',');
                }

                first = false;
                b.Write("{\"id\":"u8);
                JsJsonWriter.WriteString(b, node.Id);
                b.Write(",\"type\":"u8);
                JsJsonWriter.WriteString(b, node.Type);
                b.Write(",\"name\":"u8);
                JsJsonWriter.WriteString(b, node.Name);
                if (node.Description is not null)
                {
                    b.Write(",\"description\":"u8);
                    JsJsonWriter.WriteString(b, node.Description);
                }

                b.Write(",\"metadata\":"u8);
                b.Write(node.Metadata);
                b.Write(",\"updatedAt\":"u8);
                JsJsonWriter.WriteNumber(b, node.UpdatedAt);
                b.WriteByte((byte)'}');
            }

            b.Write("],\"edges\":"u8);
            WriteEdges(b, EdgesWithin(ids));
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    /// <summary>The recursive CTE: a FIFO queue of (node, depth) rows, each row queued once; a row
    /// is expanded through the edges it is the source of (in key order: target, type), then the
    /// edges it is the target of (in rowid order). The answer is the distinct ids in queue order.</summary>
    private List<string> Walk(List<string> seeds, double maxDepth, int limit)
    {
        var queued = new HashSet<(string, int)>();
        var queue = new Queue<(string Id, int Depth)>();
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (string seed in seeds)
        {
            if (queued.Add((seed, 0)))
            {
                queue.Enqueue((seed, 0));
            }
        }

        List<GraphEdge> edges = [.. _graphEdges.Values];
        while (queue.Count > 0 && result.Count < limit)
        {
            (string id, int d) = queue.Dequeue();
            if (distinct.Add(id))
            {
                result.Add(id);
                if (result.Count >= limit)
                {
                    break;
                }
            }

            if (!(d < maxDepth))
            {
                continue;
            }

            IEnumerable<GraphEdge> outgoing = edges.Where(e => e.SourceId == id)
                .OrderBy(e => e.TargetId, BinaryComparer.Instance).ThenBy(e => e.Type, BinaryComparer.Instance);
            IEnumerable<GraphEdge> incoming = edges.Where(e => e.TargetId == id && e.SourceId != id).OrderBy(e => e.RowId);
            foreach (GraphEdge e in outgoing.Concat(incoming))
            {
                string next = e.SourceId == id ? e.TargetId : e.SourceId;
                if (queued.Add((next, d + 1)))
                {
                    queue.Enqueue((next, d + 1));
                }
            }
        }

        return result;
    }

    /// <summary>Edges with both ends in <paramref name="ids"/>, in primary key order.</summary>
    private List<GraphEdge> EdgesWithin(HashSet<string> ids) =>
        [.. _graphEdges.Values
            .Where(e => ids.Contains(e.SourceId) && ids.Contains(e.TargetId))
            .OrderBy(e => e.SourceId, BinaryComparer.Instance)
            .ThenBy(e => e.TargetId, BinaryComparer.Instance)
            .ThenBy(e => e.Type, BinaryComparer.Instance)];

    private static void WriteEdges(ByteBuffer b, IEnumerable<GraphEdge> edges)
    {
        b.WriteByte((byte)'[');
        bool first = true;
        foreach (GraphEdge e in edges)
        {
            if (!first)
            {
                b.WriteByte((byte)',');
            }

            first = false;
            WriteEdge(b, e.SourceId, e.TargetId, e.Type, e.Weight);
        }

        b.WriteByte((byte)']');
    }

    private static void WriteEdge(ByteBuffer b, string sourceId, string targetId, string type, double weight)
    {
        b.Write("{\"sourceId\":"u8);
        JsJsonWriter.WriteString(b, sourceId);
        b.Write(",\"targetId\":"u8);
        JsJsonWriter.WriteString(b, targetId);
        b.Write(",\"type\":"u8);
        JsJsonWriter.WriteString(b, type);
        b.Write(",\"weight\":"u8);
        JsJsonWriter.WriteNumber(b, weight);
        b.WriteByte((byte)'}');
    }

    private Dictionary<string, GraphNode> AgentNodes(string agentId)
    {
        if (!_graphNodes.TryGetValue(agentId, out Dictionary<string, GraphNode>? nodes))
        {
            nodes = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
            _graphNodes[agentId] = nodes;
        }

        return nodes;
    }

    // ---------------------------------------------------------------- index

    /// <summary><c>upsertIndex</c>: always clears parentKey, contentHash, indexedBy and stale, and sets updatedAt.</summary>
    public void UpsertIndex(string agentId, string key, string category, string summary, byte[] metadata)
    {
        lock (_gate)
        {
            long now = Now();
            Dictionary<string, IndexRow> rows = AgentIndex(agentId);
            if (rows.TryGetValue(key, out IndexRow? row))
            {
                row.Category = category;
                row.Summary = summary;
                row.Metadata = metadata;
                row.ParentKey = null;
                row.ContentHash = null;
                row.Stale = false;
                row.UpdatedAt = now;
            }
            else
            {
                rows[key] = new IndexRow { Key = key, Category = category, Summary = summary, Metadata = metadata, UpdatedAt = now, RowId = NextRowId() };
            }
        }
    }

    public StoreResult GetIndex(string agentId, string key)
    {
        lock (_gate)
        {
            if (!AgentIndex(agentId).TryGetValue(key, out IndexRow? row))
            {
                return StoreResult.Error(404, "index entry not found");
            }

            var b = new ByteBuffer();
            WriteIndexEntry(b, row);
            return StoreResult.Json(200, b);
        }
    }

    /// <summary><c>searchIndex</c>: <c>key LIKE %q% OR summary LIKE %q%</c>, optional category,
    /// newest <c>updatedAt</c> first (ties in insertion order).</summary>
    public StoreResult SearchIndex(string agentId, string query, string? category, double limit)
    {
        lock (_gate)
        {
            double resultLimit = Math.Min(Math.Max(1, limit), 200);
            if (resultLimit != Math.Floor(resultLimit))
            {
                return StoreResult.Internal("datatype mismatch");
            }

            int[] pattern = SqlLike.Pattern(query);
            IEnumerable<IndexRow> rows = AgentIndex(agentId).Values
                .Where(r => SqlLike.Matches(pattern, r.Key) || SqlLike.Matches(pattern, r.Summary))
                .Where(r => category is null || r.Category == category)
                .OrderBy(r => r.RowId)
                .OrderByDescending(r => r.UpdatedAt)
                .Take((int)resultLimit);
            var b = new ByteBuffer();
            b.Write("{\"entries\":["u8);
            bool first = true;
            foreach (IndexRow row in rows)
            {
                if (!first)
                {
                    b.WriteByte((byte)',');
                }

                first = false;
                WriteIndexEntry(b, row);
            }

            b.Write("]}"u8);
            return StoreResult.Json(200, b);
        }
    }

    public void DeleteIndex(string agentId, string key)
    {
        lock (_gate)
        {
            AgentIndex(agentId).Remove(key);
        }
    }

    /// <summary><c>checkStaleness</c>: no entry can carry a content hash over HTTP, so every
    /// existing key is stale (and gets flagged); the answer keeps the request's order and duplicates.</summary>
    public StoreResult CheckStaleness(string agentId, IReadOnlyList<string> keys)
    {
        lock (_gate)
        {
            Dictionary<string, IndexRow> rows = AgentIndex(agentId);
            var stale = new List<string>();
            var missing = new List<string>();
            foreach (string key in keys)
            {
                if (rows.TryGetValue(key, out IndexRow? row))
                {
                    stale.Add(key);
                    row.Stale = true;
                }
                else
                {
                    missing.Add(key);
                }
            }

            var b = new ByteBuffer();
            b.Write("{\"fresh\":[],\"stale\":"u8);
            JsJsonWriter.WriteStringArray(b, stale);
            b.Write(",\"missing\":"u8);
            JsJsonWriter.WriteStringArray(b, missing);
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    /// <summary><c>rollupModule</c>: the module's summary is <c>[key] summary</c> of each existing
    /// file key, one per line; an existing module entry keeps its category and metadata; every
    /// existing file entry gets the module as parentKey and a new updatedAt.</summary>
    public void Rollup(string agentId, string moduleKey, IReadOnlyList<string> fileKeys)
    {
        lock (_gate)
        {
            long now = Now();
            Dictionary<string, IndexRow> rows = AgentIndex(agentId);
            var parts = new List<string>();
            foreach (string key in fileKeys)
            {
                if (rows.TryGetValue(key, out IndexRow? row))
                {
                    parts.Add("[" + key + "] " + row.Summary);
                }
            }

            string combined = string.Join("\n", parts);
            if (rows.TryGetValue(moduleKey, out IndexRow? module))
            {
                module.Summary = combined;
                module.Stale = false;
                module.UpdatedAt = now;
            }
            else
            {
                rows[moduleKey] = new IndexRow { Key = moduleKey, Category = "module", Summary = combined, Metadata = Raw("{}"), UpdatedAt = now, RowId = NextRowId() };
            }

            foreach (string key in fileKeys)
            {
                if (rows.TryGetValue(key, out IndexRow? row))
                {
                    row.ParentKey = moduleKey;
                    row.UpdatedAt = now;
                }
            }
        }
    }

    private static void WriteIndexEntry(ByteBuffer b, IndexRow row)
    {
        b.Write("{\"key\":"u8);
        JsJsonWriter.WriteString(b, row.Key);
        b.Write(",\"category\":"u8);
        JsJsonWriter.WriteString(b, row.Category);
        b.Write(",\"summary\":"u8);
        JsJsonWriter.WriteString(b, row.Summary);
        b.Write(",\"metadata\":"u8);
        b.Write(row.Metadata);
        b.Write(",\"updatedAt\":"u8);
        JsJsonWriter.WriteNumber(b, row.UpdatedAt);
        if (!string.IsNullOrEmpty(row.ParentKey))
        {
            b.Write(",\"parentKey\":"u8);
            JsJsonWriter.WriteString(b, row.ParentKey);
        }

        if (!string.IsNullOrEmpty(row.ContentHash))
        {
            b.Write(",\"contentHash\":"u8);
            JsJsonWriter.WriteString(b, row.ContentHash);
        }

        if (row.Stale)
        {
            b.Write(",\"stale\":true"u8);
        }

        b.WriteByte((byte)'}');
    }

    private Dictionary<string, IndexRow> AgentIndex(string agentId)
    {
        if (!_indexRows.TryGetValue(agentId, out Dictionary<string, IndexRow>? rows))
        {
            rows = new Dictionary<string, IndexRow>(StringComparer.Ordinal);
            _indexRows[agentId] = rows;
        }

        return rows;
    }

    // ---------------------------------------------------------------- git

    /// <summary><c>createCommit</c>. Its 413 loses its status on the way back from the server's
    /// database worker, so it arrives as a 500 with the same message.</summary>
    public StoreResult CreateCommit(string agentId, SqlArg message, SqlArg branch, double? keepLast)
    {
        lock (_gate)
        {
            return CreateCommitLocked(agentId, message, branch, keepLast);
        }
    }

    private StoreResult CreateCommitLocked(string agentId, SqlArg message, SqlArg branchArg, double? keepLast)
    {
        string id = Guid.NewGuid().ToString();
        long createdAt = Now();
        Snapshot snapshot = CaptureSnapshot(agentId);
        if (snapshot.Nodes.Count > MaxCommitNodes)
        {
            return StoreResult.Internal($"snapshot too large: {snapshot.Nodes.Count} nodes exceeds limit of {MaxCommitNodes}");
        }

        if (snapshot.IndexEntries.Count > MaxCommitIndexEntries)
        {
            return StoreResult.Internal($"snapshot too large: {snapshot.IndexEntries.Count} index entries exceeds limit of {MaxCommitIndexEntries}");
        }

        string hash = SnapshotHash(snapshot);
        if (branchArg.BindError is { } branchError)
        {
            return StoreResult.Internal(branchError);
        }

        string branch = branchArg.Text;
        CommitRow? parent = BranchHead(agentId, branch);
        if (message.BindError is { } messageError)
        {
            return StoreResult.Internal(messageError);
        }

        if (!_agents.ContainsKey(agentId))
        {
            return StoreResult.Internal("FOREIGN KEY constraint failed");
        }

        var commit = new CommitRow
        {
            Id = id,
            AgentId = agentId,
            ParentId = parent?.Id,
            Branch = branch,
            Message = message.Text,
            Snapshot = snapshot,
            SnapshotJson = SnapshotJson(snapshot),
            SnapshotHash = hash,
            CreatedAt = createdAt,
            RowId = NextRowId(),
        };
        _commits[id] = commit;

        if (keepLast is { } keep && keep > 0)
        {
            // SELECT created_at … LIMIT 1 OFFSET keepLast-1: SQLite refuses a fractional offset.
            if (keep != Math.Floor(keep))
            {
                return StoreResult.Internal("datatype mismatch");
            }

            CommitRow? cutoff = BranchCommits(agentId, branch).Skip((int)Math.Min(keep - 1, int.MaxValue)).FirstOrDefault();
            if (cutoff is not null)
            {
                var doomed = _commits.Values.Where(c => c.AgentId == agentId && c.Branch == branch && c.CreatedAt < cutoff.CreatedAt)
                    .Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
                if (_commits.Values.Any(c => !doomed.Contains(c.Id) && c.ParentId is not null && doomed.Contains(c.ParentId)))
                {
                    return StoreResult.Internal("FOREIGN KEY constraint failed");
                }

                foreach (string gone in doomed)
                {
                    _commits.Remove(gone);
                }
            }
        }

        var b = new ByteBuffer();
        b.Write("{\"id\":"u8);
        JsJsonWriter.WriteString(b, id);
        b.Write(",\"agentId\":"u8);
        JsJsonWriter.WriteString(b, agentId);
        b.Write(",\"parentId\":"u8);
        WriteNullableString(b, parent?.Id);
        b.Write(",\"branch\":"u8);
        b.Write(branchArg.Json);
        b.Write(",\"message\":"u8);
        b.Write(message.Json);
        b.Write(",\"nodeCount\":"u8);
        JsJsonWriter.WriteNumber(b, snapshot.Nodes.Count);
        b.Write(",\"indexCount\":"u8);
        JsJsonWriter.WriteNumber(b, snapshot.IndexEntries.Count);
        b.Write(",\"snapshotHash\":"u8);
        JsJsonWriter.WriteString(b, hash);
        b.Write(",\"createdAt\":"u8);
        JsJsonWriter.WriteNumber(b, createdAt);
        b.WriteByte((byte)'}');
        return StoreResult.Json(201, b);
    }

    public StoreResult DeleteCommit(string agentId, string commitId)
    {
        lock (_gate)
        {
            if (!_commits.TryGetValue(commitId, out CommitRow? commit) || commit.AgentId != agentId)
            {
                return StoreResult.Error(404, "commit not found");
            }

            if (_commits.Values.Any(c => c.ParentId == commitId))
            {
                return StoreResult.Internal("FOREIGN KEY constraint failed");
            }

            _commits.Remove(commitId);
            return new StoreResult(200, Raw("{\"ok\":true}"));
        }
    }

    public StoreResult ListCommits(string agentId, string? branch, double limit)
    {
        lock (_gate)
        {
            double n = Math.Min(limit, 100);
            if (n != Math.Floor(n))
            {
                return StoreResult.Internal("datatype mismatch");
            }

            IEnumerable<CommitRow> commits = _commits.Values.Where(c => c.AgentId == agentId && (string.IsNullOrEmpty(branch) || c.Branch == branch))
                .OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.RowId)
                .Take((int)n);
            var b = new ByteBuffer();
            b.Write("{\"commits\":["u8);
            bool first = true;
            foreach (CommitRow c in commits)
            {
                if (!first)
                {
                    b.WriteByte((byte)',');
                }

                first = false;
                WriteCommitHeader(b, c);
                b.WriteByte((byte)'}');
            }

            b.Write("]}"u8);
            return StoreResult.Json(200, b);
        }
    }

    public StoreResult GetCommit(string agentId, string commitId)
    {
        lock (_gate)
        {
            if (!_commits.TryGetValue(commitId, out CommitRow? commit) || commit.AgentId != agentId)
            {
                return StoreResult.Error(404, "commit not found");
            }

            var b = new ByteBuffer();
            WriteCommitHeader(b, commit);
            b.Write(",\"snapshot\":"u8);
            b.Write(commit.SnapshotJson);
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    public StoreResult RestoreCommit(string agentId, string commitId)
    {
        lock (_gate)
        {
            if (!_commits.TryGetValue(commitId, out CommitRow? commit) || commit.AgentId != agentId)
            {
                return StoreResult.Error(404, $"commit {commitId} not found");
            }

            ApplySnapshot(agentId, commit.Snapshot);
            var b = new ByteBuffer();
            b.Write("{\"ok\":true,\"restoredTo\":"u8);
            JsJsonWriter.WriteString(b, commitId);
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    /// <summary><c>mergeCommits</c>: ours is the head of <paramref name="toBranch"/>, theirs the head of
    /// <paramref name="fromBranch"/>; the result replaces the live graph and index, then is committed on
    /// <paramref name="toBranch"/>.</summary>
    public StoreResult Merge(string agentId, string fromBranch, string toBranch, string strategy, SqlArg? message)
    {
        lock (_gate)
        {
            CommitRow? theirs = BranchHead(agentId, fromBranch);
            if (theirs is null)
            {
                return StoreResult.Error(404, $"branch '{fromBranch}' has no commits");
            }

            CommitRow? ours = BranchHead(agentId, toBranch);
            if (ours is null)
            {
                return StoreResult.Error(404, $"branch '{toBranch}' has no commits");
            }

            Snapshot merged = MergeSnapshots(ours.Snapshot, theirs.Snapshot, strategy);
            ApplySnapshot(agentId, merged);
            return CreateCommitLocked(agentId, message ?? SqlArg.From($"Merge '{fromBranch}' into '{toBranch}' ({strategy})"), SqlArg.From(toBranch), null);
        }
    }

    public StoreResult Diff(string agentId, string fromId, string? toId)
    {
        lock (_gate)
        {
            if (!_commits.TryGetValue(fromId, out CommitRow? from) || from.AgentId != agentId)
            {
                return StoreResult.Error(404, $"commit {fromId} not found");
            }

            Snapshot to;
            if (toId is not null)
            {
                if (!_commits.TryGetValue(toId, out CommitRow? toCommit) || toCommit.AgentId != agentId)
                {
                    return StoreResult.Error(404, $"commit {toId} not found");
                }

                to = toCommit.Snapshot;
            }
            else
            {
                to = CaptureSnapshot(agentId);
            }

            Dictionary<string, SnapNode> fromNodes = ToMap(from.Snapshot.Nodes, n => n.Id);
            Dictionary<string, SnapNode> toNodes = ToMap(to.Nodes, n => n.Id);
            Dictionary<string, SnapIndex> fromIndex = ToMap(from.Snapshot.IndexEntries, e => e.Key);
            Dictionary<string, SnapIndex> toIndex = ToMap(to.IndexEntries, e => e.Key);
            var b = new ByteBuffer();
            b.Write("{\"nodesAdded\":"u8);
            JsJsonWriter.WriteStringArray(b, DistinctKeys(to.Nodes, n => n.Id).Where(k => !fromNodes.ContainsKey(k)));
            b.Write(",\"nodesRemoved\":"u8);
            JsJsonWriter.WriteStringArray(b, DistinctKeys(from.Snapshot.Nodes, n => n.Id).Where(k => !toNodes.ContainsKey(k)));
            b.Write(",\"nodesModified\":"u8);
            JsJsonWriter.WriteStringArray(b, DistinctKeys(from.Snapshot.Nodes, n => n.Id).Where(k =>
                toNodes.TryGetValue(k, out SnapNode? after) && fromNodes[k] is var before
                && (before.Name != after.Name || before.Description != after.Description || !before.Metadata.AsSpan().SequenceEqual(after.Metadata))));
            b.Write(",\"indexAdded\":"u8);
            JsJsonWriter.WriteStringArray(b, DistinctKeys(to.IndexEntries, e => e.Key).Where(k => !fromIndex.ContainsKey(k)));
            b.Write(",\"indexRemoved\":"u8);
            JsJsonWriter.WriteStringArray(b, DistinctKeys(from.Snapshot.IndexEntries, e => e.Key).Where(k => !toIndex.ContainsKey(k)));
            b.Write(",\"indexModified\":"u8);
            JsJsonWriter.WriteStringArray(b, DistinctKeys(from.Snapshot.IndexEntries, e => e.Key).Where(k =>
                toIndex.TryGetValue(k, out SnapIndex? after) && fromIndex[k] is var before
                && (before.Summary != after.Summary || !before.Metadata.AsSpan().SequenceEqual(after.Metadata))));
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    /// <summary>A JavaScript <c>Map</c> built from pairs: the last value wins, the first position stays.</summary>
    private static Dictionary<string, T> ToMap<T>(IEnumerable<T> items, Func<T, string> key)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (T item in items)
        {
            map[key(item)] = item;
        }

        return map;
    }

    private static IEnumerable<string> DistinctKeys<T>(IEnumerable<T> items, Func<T, string> key) =>
        items.Select(key).Distinct(StringComparer.Ordinal);

    private static Snapshot MergeSnapshots(Snapshot ours, Snapshot theirs, string strategy)
    {
        if (strategy == "ours")
        {
            return ours;
        }

        if (strategy == "theirs")
        {
            return theirs;
        }

        var nodes = new OrderedMap<SnapNode>();
        foreach (SnapNode n in ours.Nodes)
        {
            nodes.Set(n.Id, n);
        }

        foreach (SnapNode n in theirs.Nodes)
        {
            if (!nodes.TryGet(n.Id, out SnapNode? cur) || string.CompareOrdinal(n.JsonText, cur!.JsonText) > 0)
            {
                nodes.Set(n.Id, n);
            }
        }

        var edges = new OrderedMap<SnapEdge>();
        foreach (SnapEdge e in ours.Edges.Concat(theirs.Edges))
        {
            edges.Set(e.SourceId + "|" + e.TargetId + "|" + e.Type, e);
        }

        var index = new OrderedMap<SnapIndex>();
        foreach (SnapIndex e in ours.IndexEntries)
        {
            index.Set(e.Key, e);
        }

        foreach (SnapIndex e in theirs.IndexEntries)
        {
            if (!index.TryGet(e.Key, out SnapIndex? cur) || string.CompareOrdinal(e.JsonText, cur!.JsonText) > 0)
            {
                index.Set(e.Key, e);
            }
        }

        return new Snapshot(
            [.. nodes.Values],
            [.. edges.Values.Where(e => nodes.Contains(e.SourceId) && nodes.Contains(e.TargetId))],
            [.. index.Values]);
    }

    /// <summary>The restore (and merge) transaction: drop the agent's live nodes, every edge touching
    /// them and the agent's index, then insert the snapshot (new updatedAt; indexedBy and stale cleared).</summary>
    private void ApplySnapshot(string agentId, Snapshot snapshot)
    {
        long now = Now();
        Dictionary<string, GraphNode> nodes = AgentNodes(agentId);
        var existing = new HashSet<string>(nodes.Keys, StringComparer.Ordinal);
        if (existing.Count > 0)
        {
            foreach (var key in _graphEdges.Keys.Where(k => existing.Contains(k.Source) || existing.Contains(k.Target)).ToList())
            {
                _graphEdges.Remove(key);
            }
        }

        nodes.Clear();
        Dictionary<string, IndexRow> rows = AgentIndex(agentId);
        rows.Clear();
        foreach (SnapNode n in snapshot.Nodes)
        {
            nodes.Remove(n.Id);
            nodes[n.Id] = new GraphNode { Id = n.Id, Type = n.Type, Name = n.Name, Description = n.Description, Metadata = n.Metadata, UpdatedAt = now, RowId = NextRowId() };
        }

        foreach (SnapEdge e in snapshot.Edges)
        {
            _graphEdges.Remove((e.SourceId, e.TargetId, e.Type));
            _graphEdges[(e.SourceId, e.TargetId, e.Type)] = new GraphEdge { SourceId = e.SourceId, TargetId = e.TargetId, Type = e.Type, Weight = e.Weight, RowId = NextRowId() };
        }

        foreach (SnapIndex e in snapshot.IndexEntries)
        {
            rows.Remove(e.Key);
            rows[e.Key] = new IndexRow
            {
                Key = e.Key,
                Category = e.Category,
                Summary = e.Summary,
                Metadata = e.Metadata,
                ParentKey = e.ParentKey,
                ContentHash = e.ContentHash,
                UpdatedAt = now,
                RowId = NextRowId(),
            };
        }
    }

    private Snapshot CaptureSnapshot(string agentId)
    {
        List<GraphNode> nodes = [.. AgentNodes(agentId).Values.OrderBy(n => n.RowId)];
        var ids = new HashSet<string>(nodes.Select(n => n.Id), StringComparer.Ordinal);
        List<SnapEdge> edges = ids.Count == 0 ? [] : [.. EdgesWithin(ids).Select(e => new SnapEdge(e.SourceId, e.TargetId, e.Type, e.Weight))];
        return new Snapshot(
            [.. nodes.Select(n => new SnapNode(n.Id, n.Type, n.Name, n.Description, n.Metadata))],
            edges,
            [.. AgentIndex(agentId).Values.OrderBy(r => r.RowId).Select(r => new SnapIndex(r.Key, r.Category, r.Summary, r.Metadata, NullIfEmpty(r.ParentKey), NullIfEmpty(r.ContentHash)))]);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>sha256 of <c>JSON.stringify({nodes: ids sorted, index: keys sorted})</c>, first 16 hex digits.</summary>
    private static string SnapshotHash(Snapshot snapshot)
    {
        var b = new ByteBuffer();
        b.Write("{\"nodes\":"u8);
        JsJsonWriter.WriteStringArray(b, snapshot.Nodes.Select(n => n.Id).Order(StringComparer.Ordinal));
        b.Write(",\"index\":"u8);
        JsJsonWriter.WriteStringArray(b, snapshot.IndexEntries.Select(e => e.Key).Order(StringComparer.Ordinal));
        b.WriteByte((byte)'}');
        return Convert.ToHexStringLower(SHA256.HashData(b.WrittenSpan))[..16];
    }

    private static byte[] SnapshotJson(Snapshot snapshot)
    {
        var b = new ByteBuffer();
        b.Write("{\"nodes\":["u8);
        for (int i = 0; i < snapshot.Nodes.Count; i++)
        {
            if (i > 0)
            {
                b.WriteByte((byte)',');
            }

            b.WriteRaw(snapshot.Nodes[i].JsonText);
        }

        b.Write("],\"edges\":["u8);
        for (int i = 0; i < snapshot.Edges.Count; i++)
        {
            if (i > 0)
            {
                b.WriteByte((byte)',');
            }

            SnapEdge e = snapshot.Edges[i];
            WriteEdge(b, e.SourceId, e.TargetId, e.Type, e.Weight);
        }

        b.Write("],\"indexEntries\":["u8);
        for (int i = 0; i < snapshot.IndexEntries.Count; i++)
        {
            if (i > 0)
            {
                b.WriteByte((byte)',');
            }

            b.WriteRaw(snapshot.IndexEntries[i].JsonText);
        }

        b.Write("]}"u8);
        return b.ToArray();
    }

    private CommitRow? BranchHead(string agentId, string branch) => BranchCommits(agentId, branch).FirstOrDefault();

    private IEnumerable<CommitRow> BranchCommits(string agentId, string branch) =>
        _commits.Values.Where(c => c.AgentId == agentId && c.Branch == branch)
            .OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.RowId);

    private static void WriteCommitHeader(ByteBuffer b, CommitRow c)
    {
        b.Write("{\"id\":"u8);
        JsJsonWriter.WriteString(b, c.Id);
        b.Write(",\"agentId\":"u8);
        JsJsonWriter.WriteString(b, c.AgentId);
        b.Write(",\"parentId\":"u8);
        WriteNullableString(b, c.ParentId);
        b.Write(",\"branch\":"u8);
        JsJsonWriter.WriteString(b, c.Branch);
        b.Write(",\"message\":"u8);
        JsJsonWriter.WriteString(b, c.Message);
        b.Write(",\"snapshotHash\":"u8);
        JsJsonWriter.WriteString(b, c.SnapshotHash);
        b.Write(",\"nodeCount\":"u8);
        JsJsonWriter.WriteNumber(b, c.Snapshot.Nodes.Count);
        b.Write(",\"indexCount\":"u8);
        JsJsonWriter.WriteNumber(b, c.Snapshot.IndexEntries.Count);
        b.Write(",\"createdAt\":"u8);
        JsJsonWriter.WriteNumber(b, c.CreatedAt);
    }

    private static void WriteNullableString(ByteBuffer b, string? s)
    {
        if (s is null)
        {
            b.Write("null"u8);
        }
        else
        {
            JsJsonWriter.WriteString(b, s);
        }
    }

    private static byte[] Raw(string json) => Encoding.UTF8.GetBytes(json);

    // ---------------------------------------------------------------- rows

    private sealed class GraphNode
    {
        public required string Id { get; init; }

        public required string Type { get; set; }

        public required string Name { get; set; }

        public string? Description { get; set; }

        public required byte[] Metadata { get; set; }

        public long UpdatedAt { get; set; }

        public long RowId { get; init; }
    }

    private sealed class GraphEdge
    {
        public required string SourceId { get; init; }

        public required string TargetId { get; init; }

        public required string Type { get; init; }

        public double Weight { get; set; }

        public long RowId { get; init; }
    }

    private sealed class IndexRow
    {
        public required string Key { get; init; }

        public required string Category { get; set; }

        public required string Summary { get; set; }

        public required byte[] Metadata { get; set; }

        public string? ParentKey { get; set; }

        public string? ContentHash { get; set; }

        public bool Stale { get; set; }

        public long UpdatedAt { get; set; }

        public long RowId { get; init; }
    }

    private sealed class CommitRow
    {
        public required string Id { get; init; }

        public required string AgentId { get; init; }

        public string? ParentId { get; init; }

        public required string Branch { get; init; }

        public required string Message { get; init; }

        public required Snapshot Snapshot { get; init; }

        public required byte[] SnapshotJson { get; init; }

        public required string SnapshotHash { get; init; }

        public long CreatedAt { get; init; }

        public long RowId { get; init; }
    }

    private sealed record Snapshot(List<SnapNode> Nodes, List<SnapEdge> Edges, List<SnapIndex> IndexEntries);

    private sealed record SnapNode(string Id, string Type, string Name, string? Description, byte[] Metadata)
    {
        /// <summary><c>JSON.stringify</c> of the node as the snapshot holds it.</summary>
        public string JsonText { get; } = BuildJson(Id, Type, Name, Description, Metadata);

        private static string BuildJson(string id, string type, string name, string? description, byte[] metadata)
        {
            var b = new ByteBuffer();
            b.Write("{\"id\":"u8);
            JsJsonWriter.WriteString(b, id);
            b.Write(",\"type\":"u8);
            JsJsonWriter.WriteString(b, type);
            b.Write(",\"name\":"u8);
            JsJsonWriter.WriteString(b, name);
            if (description is not null)
            {
                b.Write(",\"description\":"u8);
                JsJsonWriter.WriteString(b, description);
            }

            b.Write(",\"metadata\":"u8);
            b.Write(metadata);
            b.WriteByte((byte)'}');
            return Encoding.UTF8.GetString(b.WrittenSpan);
        }
    }

    private sealed record SnapEdge(string SourceId, string TargetId, string Type, double Weight);

    private sealed record SnapIndex(string Key, string Category, string Summary, byte[] Metadata, string? ParentKey, string? ContentHash)
    {
        public string JsonText { get; } = BuildJson(Key, Category, Summary, Metadata, ParentKey, ContentHash);

        private static string BuildJson(string key, string category, string summary, byte[] metadata, string? parentKey, string? contentHash)
        {
            var b = new ByteBuffer();
            b.Write("{\"key\":"u8);
            JsJsonWriter.WriteString(b, key);
            b.Write(",\"category\":"u8);
            JsJsonWriter.WriteString(b, category);
            b.Write(",\"summary\":"u8);
            JsJsonWriter.WriteString(b, summary);
            b.Write(",\"metadata\":"u8);
            b.Write(metadata);
            if (parentKey is not null)
            {
                b.Write(",\"parentKey\":"u8);
                JsJsonWriter.WriteString(b, parentKey);
            }

            if (contentHash is not null)
            {
                b.Write(",\"contentHash\":"u8);
                JsJsonWriter.WriteString(b, contentHash);
            }

            b.WriteByte((byte)'}');
            return Encoding.UTF8.GetString(b.WrittenSpan);
        }
    }

    /// <summary>A JavaScript <c>Map</c>: setting an existing key keeps its position.</summary>
    private sealed class OrderedMap<T>
        where T : class
    {
        private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
        private readonly List<T> _values = [];

        public IEnumerable<T> Values => _values;

        public bool Contains(string key) => _positions.ContainsKey(key);

        public bool TryGet(string key, out T? value)
        {
            if (_positions.TryGetValue(key, out int i))
            {
                value = _values[i];
                return true;
            }

            value = null;
            return false;
        }

        public void Set(string key, T value)
        {
            if (_positions.TryGetValue(key, out int i))
            {
                _values[i] = value;
            }
            else
            {
                _positions[key] = _values.Count;
                _values.Add(value);
            }
        }
    }
}

/// <summary>
/// A JavaScript value bound as a better-sqlite3 parameter: strings and numbers bind (a number is a
/// REAL, so a TEXT column holds and matches it as "5.0"), booleans and objects fail, and an
/// array is spread into its elements, so only a one-element array binds. <see cref="Json"/> is the
/// value as the server echoes it back from its own variables.
/// </summary>
internal readonly record struct SqlArg(string Text, byte[] Json, string? BindError)
{
    public static SqlArg From(string s) => new(s, JsJsonWriter.Serialize(s), null);

    public static SqlArg FromJs(object? value)
    {
        byte[] json = value is null or string or double or bool or JsArray or JsObject ? JsJsonWriter.Serialize(value) : [];
        switch (value)
        {
            case string s:
                return new SqlArg(s, json, null);
            case double d:
                // Numbers bind as REAL; a TEXT column stores 5 as "5.0".
                return new SqlArg(d == Math.Floor(d) && Math.Abs(d) < 1e15 ? d.ToString("0", System.Globalization.CultureInfo.InvariantCulture) + ".0" : JsNumber.ToJsString(d), json, null);
            case bool:
                return new SqlArg(string.Empty, json, "SQLite3 can only bind numbers, strings, bigints, buffers, and null");
            case JsArray { Count: 1 } a when a[0] is string or double:
                return FromJs(a[0]) with { Json = json };
            case JsArray { Count: > 1 }:
                return new SqlArg(string.Empty, json, "Too many parameter values were provided");
            default:
                return new SqlArg(string.Empty, json, "Too few parameter values were provided");
        }
    }
}

/// <summary>SQLite's <c>LIKE</c> without an escape character: <c>%</c> and <c>_</c> are wildcards,
/// <c>_</c> is one code point, and only ASCII letters compare case-insensitively.</summary>
internal static class SqlLike
{
    public static int[] Pattern(string query) => Runes("%" + query + "%");

    public static bool Matches(int[] p, string text)
    {
        int[] s = Runes(text);
        int pi = 0, si = 0, star = -1, mark = 0;
        while (si < s.Length)
        {
            if (pi < p.Length && p[pi] != '%' && (p[pi] == '_' || p[pi] == s[si]))
            {
                pi++;
                si++;
            }
            else if (pi < p.Length && p[pi] == '%')
            {
                star = pi++;
                mark = si;
            }
            else if (star >= 0)
            {
                pi = star + 1;
                si = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (pi < p.Length && p[pi] == '%')
        {
            pi++;
        }

        return pi == p.Length;
    }

    private static int[] Runes(string s)
    {
        var list = new List<int>(s.Length);
        foreach (Rune r in s.EnumerateRunes())
        {
            int v = r.Value;
            list.Add(v is >= 'A' and <= 'Z' ? v + 32 : v);
        }

        return [.. list];
    }
}

/// <summary>SQLite's BINARY collation on UTF-8 text: code point order.</summary>
internal sealed class BinaryComparer : IComparer<string>
{
    public static readonly BinaryComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        StringRuneEnumerator a = x.EnumerateRunes();
        StringRuneEnumerator b = y.EnumerateRunes();
        while (true)
        {
            bool hasA = a.MoveNext();
            bool hasB = b.MoveNext();
            if (!hasA || !hasB)
            {
                return hasA ? 1 : hasB ? -1 : 0;
            }

            int c = a.Current.Value.CompareTo(b.Current.Value);
            if (c != 0)
            {
                return c;
            }
        }
    }
}
