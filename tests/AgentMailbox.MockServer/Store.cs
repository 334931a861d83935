using System.Text;
using AgentMailbox.MockServer.Json;
using AgentMailbox.MockServer.Protocol;

namespace AgentMailbox.MockServer;

/// <summary>
/// The in-memory mailbox with the reference server's semantics (agentsmcp 0.5.2 on SQLite):
/// thread choice by visible participant set (including the creation-set quirk), fan-out and
/// unread counters, the mark-read cursor, bcc stripping, context assembly and handoff packets.
/// All state sits behind one lock.
/// </summary>
internal sealed partial class Store
{
    private const int CompressionThreshold = 20;
    private const int DefaultMaxContextBytes = 16000;

    private static readonly IReadOnlyList<StoredMessage> NoMessages = [];

    private readonly object _gate = new();
    private readonly Dictionary<string, long> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ThreadState> _threads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ThreadState>> _threadsByCurrentSet = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ThreadState> _threadsByCreationSet = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Mailbox> _mailboxes = new(StringComparer.Ordinal);
    private long _messageCount;
    private long _sequence;
    private long _lastTimestamp;
    private BeforeReadHookState? _beforeReadHook;
    private string? _lastHookOutcome;

    public void Reset()
    {
        lock (_gate)
        {
            _agents.Clear();
            _threads.Clear();
            _threadsByCurrentSet.Clear();
            _threadsByCreationSet.Clear();
            _mailboxes.Clear();
            _messageCount = 0;
            _beforeReadHook = null;
            _lastHookOutcome = null;
            ResetContext();
        }
    }

    public (int Agents, int Threads, long Messages) Counts()
    {
        lock (_gate)
        {
            return (_agents.Count, _threads.Count, _messageCount);
        }
    }

    public void SetBeforeReadHook(BeforeReadHookState? hook)
    {
        lock (_gate)
        {
            _beforeReadHook = hook;
        }
    }

    public (bool Pending, string? AgentId, string? LastOutcome) HookState()
    {
        lock (_gate)
        {
            return (_beforeReadHook is not null, _beforeReadHook?.AgentId, _lastHookOutcome);
        }
    }

    /// <summary><c>Date.now()</c>, kept monotonic so messages stay in timestamp order.</summary>
    private long Now()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (now < _lastTimestamp)
        {
            now = _lastTimestamp;
        }

        _lastTimestamp = now;
        return now;
    }

    private bool Register(string agentId, long now) => _agents.TryAdd(agentId, now);

    // ---------------------------------------------------------------- agents

    public StoreResult RegisterAgent(string agentId)
    {
        lock (_gate)
        {
            bool created = Register(agentId, Now());
            var b = new ByteBuffer();
            b.Write("{\"agentId\":"u8);
            JsJsonWriter.WriteString(b, agentId);
            b.Write(created ? ",\"created\":true}"u8 : ",\"created\":false}"u8);
            return StoreResult.Json(201, b);
        }
    }

    public bool TryGetAgentCard(string agentId, out long createdAt, out int threadCount, out long unreadCount)
    {
        lock (_gate)
        {
            threadCount = 0;
            unreadCount = 0;
            if (!_agents.TryGetValue(agentId, out createdAt))
            {
                return false;
            }

            if (_mailboxes.TryGetValue(agentId, out Mailbox? mailbox))
            {
                foreach (MailboxEntry entry in mailbox.Entries.Values.Take(100))
                {
                    threadCount++;
                    unreadCount += entry.UnreadCount;
                }
            }

            return true;
        }
    }

    // ---------------------------------------------------------------- sending

    public StoreResult Send(SendRequest r)
    {
        lock (_gate)
        {
            return SendLocked(r);
        }
    }

    private StoreResult SendLocked(SendRequest r)
    {
        long now = Now();
        Register(r.From, now);
        Register(r.To, now);
        foreach (string a in r.Cc ?? [])
        {
            Register(a, now);
        }

        foreach (string a in r.Bcc ?? [])
        {
            Register(a, now);
        }

        ThreadState? thread;
        IReadOnlyList<StoredMessage> history;
        if (!string.IsNullOrEmpty(r.ThreadId))
        {
            if (!_threads.TryGetValue(r.ThreadId, out thread))
            {
                return StoreResult.Error(404, $"thread {r.ThreadId} not found");
            }

            history = thread.Messages;
        }
        else
        {
            var visible = new SortedSet<string>(StringComparer.Ordinal) { r.From, r.To };
            foreach (string a in r.Cc ?? [])
            {
                visible.Add(a);
            }

            string key = SetKey(visible);
            if (_threadsByCurrentSet.TryGetValue(key, out List<ThreadState>? candidates) && candidates.Count > 0)
            {
                thread = candidates.MinBy(t => t.Sequence)!;
                history = thread.Messages;
            }
            else if (_threadsByCreationSet.TryGetValue(key, out thread))
            {
                // The insert is ignored because of the unique creation set and the server goes on
                // with a stub of the existing thread that carries no messages.
                history = NoMessages;
            }
            else
            {
                thread = CreateThread(visible, r.Bcc, key, now);
                history = NoMessages;
            }
        }

        JsObject snapshot = r.Handoff is not null
            ? BuildHandoffPacket(history, thread.Id, r.ContextSnapshot, r.Handoff, now)
            : r.ContextSnapshot ?? new JsObject();
        StoredMessage message = CreateMessage(thread.Id, r.From, r.To, r.Cc, r.Bcc, r.ReplyTo, r.Payload, snapshot, now);
        Append(thread, message);

        var deliveredTo = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string a in Enumerable.Repeat(r.To, 1).Concat(r.Cc ?? []).Concat(r.Bcc ?? []))
        {
            if (seen.Add(a) && a != r.From)
            {
                deliveredTo.Add(a);
            }
        }

        return SendResponse(message.Id, thread.Id, deliveredTo);
    }

    public StoreResult ReplyAll(ReplyAllRequest r)
    {
        lock (_gate)
        {
            if (!_threads.TryGetValue(r.ThreadId, out ThreadState? thread))
            {
                return StoreResult.Error(404, "thread not found");
            }

            long now = Now();
            Register(r.From, now);
            List<string> visible = thread.Participants.Where(p => p != r.From).ToList();
            if (visible.Count == 0)
            {
                return StoreResult.Error(400, "no other visible participants to reply to");
            }

            JsObject snapshot = r.Handoff is not null
                ? BuildHandoffPacket(thread.Messages, thread.Id, r.ContextSnapshot, r.Handoff, now)
                : r.ContextSnapshot ?? new JsObject();
            StoredMessage message = CreateMessage(
                r.ThreadId, r.From, visible[0], visible.Count > 1 ? visible.Skip(1).ToList() : null, null, null, r.Payload, snapshot, now);
            Append(thread, message);
            return SendResponse(message.Id, r.ThreadId, visible);
        }
    }

    private static StoreResult SendResponse(string messageId, string threadId, IEnumerable<string> deliveredTo)
    {
        var b = new ByteBuffer();
        b.Write("{\"messageId\":"u8);
        JsJsonWriter.WriteString(b, messageId);
        b.Write(",\"threadId\":"u8);
        JsJsonWriter.WriteString(b, threadId);
        b.Write(",\"deliveredTo\":"u8);
        JsJsonWriter.WriteStringArray(b, deliveredTo);
        b.WriteByte((byte)'}');
        return StoreResult.Json(200, b);
    }

    /// <summary>The participants key: <c>JSON.stringify</c> of the sorted, de-duplicated set.</summary>
    private static string SetKey(IEnumerable<string> sortedUnique)
    {
        var b = new ByteBuffer();
        JsJsonWriter.WriteStringArray(b, sortedUnique);
        return Encoding.UTF8.GetString(b.WrittenSpan);
    }

    private ThreadState CreateThread(SortedSet<string> visible, IReadOnlyList<string>? bcc, string key, long now)
    {
        var thread = new ThreadState
        {
            Id = Guid.NewGuid().ToString(),
            Sequence = ++_sequence,
            CreatedAt = now,
            UpdatedAt = now,
            CreationKey = key,
            CurrentKey = key,
        };
        thread.Participants.UnionWith(visible);
        thread.Silent.UnionWith(bcc ?? []);
        _threads.Add(thread.Id, thread);
        _threadsByCreationSet.Add(key, thread);
        AddToCurrentSet(thread);
        return thread;
    }

    private void AddToCurrentSet(ThreadState thread)
    {
        if (!_threadsByCurrentSet.TryGetValue(thread.CurrentKey, out List<ThreadState>? list))
        {
            list = [];
            _threadsByCurrentSet.Add(thread.CurrentKey, list);
        }

        list.Add(thread);
    }

    private StoredMessage CreateMessage(
        string threadId,
        string from,
        string to,
        IReadOnlyList<string>? cc,
        IReadOnlyList<string>? bcc,
        string? replyTo,
        object? payload,
        JsObject snapshot,
        long timestamp)
    {
        string[]? ccStored = cc is { Count: > 0 } ? cc.Distinct(StringComparer.Ordinal).ToArray() : null;
        string[]? bccStored = bcc is { Count: > 0 } ? bcc.Distinct(StringComparer.Ordinal).ToArray() : null;
        byte[] payloadJson = JsJsonWriter.Serialize(payload);
        byte[] snapshotJson = JsJsonWriter.Serialize(snapshot);
        int payloadTextLength = payload switch
        {
            null => 0,
            string s => s.Length,
            _ => JsJsonWriter.JsonTextLength(payloadJson),
        };
        string? goalHint = null;
        if (payload is JsObject payloadObject)
        {
            goalHint = ScalarText(payloadObject, "goal") ?? ScalarText(payloadObject, "task");
        }

        var message = new StoredMessage
        {
            Id = Guid.NewGuid().ToString(),
            ThreadId = threadId,
            From = from,
            To = to,
            Cc = ccStored,
            Bcc = bccStored,
            ReplyTo = replyTo,
            Timestamp = timestamp,
            Sequence = ++_sequence,
            PayloadTextLength = payloadTextLength,
            GoalHint = goalHint,
        };

        var b = new ByteBuffer(payloadJson.Length + snapshotJson.Length + 256);
        b.Write("{\"id\":"u8);
        JsJsonWriter.WriteString(b, message.Id);
        b.Write(",\"threadId\":"u8);
        JsJsonWriter.WriteString(b, threadId);
        b.Write(",\"from\":"u8);
        JsJsonWriter.WriteString(b, from);
        b.Write(",\"to\":"u8);
        JsJsonWriter.WriteString(b, to);
        b.Write(",\"payload\":"u8);
        int payloadStart = b.Length;
        b.Write(payloadJson);
        b.Write(",\"contextSnapshot\":"u8);
        int snapshotStart = b.Length;
        b.Write(snapshotJson);
        b.Write(",\"timestamp\":"u8);
        JsJsonWriter.WriteNumber(b, timestamp);
        if (ccStored is not null)
        {
            b.Write(",\"cc\":"u8);
            JsJsonWriter.WriteStringArray(b, ccStored);
        }

        int bccStart = b.Length;
        if (bccStored is not null)
        {
            b.Write(",\"bcc\":"u8);
            JsJsonWriter.WriteStringArray(b, bccStored);
        }

        int bccEnd = b.Length;
        if (replyTo is not null)
        {
            b.Write(",\"replyTo\":"u8);
            JsJsonWriter.WriteString(b, replyTo);
        }

        b.WriteByte((byte)'}');
        byte[] json = b.ToArray();
        message.Json = json;
        message.PayloadJson = json.AsMemory(payloadStart, payloadJson.Length);
        message.SnapshotJson = json.AsMemory(snapshotStart, snapshotJson.Length);
        if (bccStored is null)
        {
            message.JsonWithoutBcc = json;
        }
        else
        {
            var without = new byte[json.Length - (bccEnd - bccStart)];
            json.AsSpan(0, bccStart).CopyTo(without);
            json.AsSpan(bccEnd).CopyTo(without.AsSpan(bccStart));
            message.JsonWithoutBcc = without;
        }

        return message;
    }

    private static string? ScalarText(JsObject obj, string key)
    {
        if (obj.TryGetValue(key, out object? value) && value is string s)
        {
            string trimmed = JsValue.TrimJs(s);
            return trimmed.Length > 0 ? trimmed : null;
        }

        return null;
    }

    /// <summary>Stores a message and fans it out, like the SQLite backend's appendMessage transaction.</summary>
    private void Append(ThreadState thread, StoredMessage m)
    {
        thread.Messages.Add(m);
        thread.UpdatedAt = m.Timestamp;
        _messageCount++;

        bool visibleChanged = thread.Participants.Add(m.From);
        visibleChanged |= thread.Participants.Add(m.To);
        foreach (string a in m.Cc ?? [])
        {
            visibleChanged |= thread.Participants.Add(a);
        }

        if (visibleChanged)
        {
            if (_threadsByCurrentSet.TryGetValue(thread.CurrentKey, out List<ThreadState>? list))
            {
                list.Remove(thread);
                if (list.Count == 0)
                {
                    _threadsByCurrentSet.Remove(thread.CurrentKey);
                }
            }

            thread.CurrentKey = SetKey(thread.Participants);
            AddToCurrentSet(thread);
            thread.ParticipantsJson = null;
        }

        bool silentChanged = false;
        foreach (string a in m.Bcc ?? [])
        {
            silentChanged |= thread.Silent.Add(a);
        }

        if (silentChanged)
        {
            thread.SilentJson = null;
        }

        UpgradeRole(thread, m.From, "to", m.Timestamp);
        UpgradeRole(thread, m.To, "to", m.Timestamp);
        foreach (string a in m.Cc ?? [])
        {
            UpgradeRole(thread, a, "cc", m.Timestamp);
        }

        foreach (string a in m.Bcc ?? [])
        {
            UpgradeRole(thread, a, "bcc", m.Timestamp);
        }

        if (m.Bcc is not null)
        {
            if (!thread.BccBySender.TryGetValue(m.From, out HashSet<string>? bccd))
            {
                bccd = new HashSet<string>(StringComparer.Ordinal);
                thread.BccBySender.Add(m.From, bccd);
            }

            bccd.UnionWith(m.Bcc);
        }

        // Fan-out. Every visible or silent participant already has a mailbox row from an
        // earlier message, so only the people on this message can need a new one.
        GetOrCreateEntry(m.From, thread);
        var recipients = new HashSet<string>(StringComparer.Ordinal);
        foreach (string a in Enumerable.Repeat(m.To, 1).Concat(m.Cc ?? []).Concat(m.Bcc ?? []))
        {
            if (!recipients.Add(a))
            {
                continue;
            }

            (Mailbox mailbox, MailboxEntry entry) = GetOrCreateEntry(a, thread);
            if (a == m.From)
            {
                continue;
            }

            entry.UnreadCount++;
            if (m.Timestamp > entry.LastSyncedAt)
            {
                entry.Pending.Add(m);
                mailbox.WithPending.Add(entry);
            }
        }
    }

    private static void UpgradeRole(ThreadState thread, string agentId, string role, long at)
    {
        if (!thread.RoleIndex.TryGetValue(agentId, out ParticipantRole? current))
        {
            var added = new ParticipantRole(agentId, role, at);
            thread.RoleIndex.Add(agentId, added);
            thread.Roles.Add(added);
            return;
        }

        if (ParticipantRole.Priority(role) > ParticipantRole.Priority(current.Role))
        {
            current.Role = role;
        }

        current.JoinedAt = Math.Min(current.JoinedAt, at);
    }

    private (Mailbox Mailbox, MailboxEntry Entry) GetOrCreateEntry(string agentId, ThreadState thread)
    {
        if (!_mailboxes.TryGetValue(agentId, out Mailbox? mailbox))
        {
            mailbox = new Mailbox();
            _mailboxes.Add(agentId, mailbox);
        }

        if (!mailbox.Entries.TryGetValue(thread.Id, out MailboxEntry? entry))
        {
            entry = new MailboxEntry(thread);
            mailbox.Entries.Add(thread.Id, entry);
        }

        return (mailbox, entry);
    }

    // ---------------------------------------------------------------- handoff

    private static JsObject BuildHandoffPacket(
        IReadOnlyList<StoredMessage> history, string threadId, JsObject? requestSnapshot, HandoffOptions options, long now)
    {
        JsObject snapshot = requestSnapshot
            ?? (history.Count > 0
                ? JsJsonParser.Parse(Encoding.UTF8.GetString(history[^1].SnapshotJson.Span)) as JsObject ?? new JsObject()
                : new JsObject());
        var packet = new JsObject();
        packet.Set("version", 1.0);
        string? goal = options.Goal ?? InferGoal(history);
        if (goal is not null)
        {
            packet.Set("goal", goal);
        }

        if (options.NextAction is not null)
        {
            packet.Set("nextAction", options.NextAction);
        }

        packet.Set("context", SelectContext(snapshot, options));
        packet.Set("decisions", new JsArray());
        packet.Set("openQuestions", new JsArray());
        packet.Set("artifacts", new JsObject());
        packet.Set("sourceThreadId", threadId);
        packet.Set("generatedAt", (double)now);
        return packet;
    }

    /// <summary>The goal hint of the latest message (the first stored one among equal timestamps,
    /// as a stable descending sort picks it).</summary>
    private static string? InferGoal(IReadOnlyList<StoredMessage> history)
    {
        if (history.Count == 0)
        {
            return null;
        }

        int i = history.Count - 1;
        long latest = history[i].Timestamp;
        while (i > 0 && history[i - 1].Timestamp == latest)
        {
            i--;
        }

        return history[i].GoalHint;
    }

    private static JsObject SelectContext(JsObject snapshot, HandoffOptions options)
    {
        HashSet<string>? requested = options.IncludeFields is null ? null : new HashSet<string>(options.IncludeFields, StringComparer.Ordinal);
        double maxBytes = options.MaxContextBytes ?? DefaultMaxContextBytes;
        double used = 0;
        var selected = new JsObject();
        foreach (KeyValuePair<string, object?> entry in snapshot.Entries)
        {
            if (entry.Key.StartsWith('_') || entry.Key == "handoff")
            {
                continue;
            }

            if (requested is not null && !requested.Contains(entry.Key))
            {
                continue;
            }

            int size = JsJsonWriter.Serialize(entry.Value).Length;
            if (used + size > maxBytes)
            {
                continue;
            }

            selected.Set(entry.Key, entry.Value);
            used += size;
        }

        return selected;
    }

    // ---------------------------------------------------------------- reading

    public StoreResult MarkRead(string agentId, string threadId)
    {
        lock (_gate)
        {
            if (_beforeReadHook is { } hook && (hook.AgentId is null || hook.AgentId == agentId))
            {
                _beforeReadHook = null;
                StoreResult stored = SendLocked(hook.Request);
                _lastHookOutcome = $"{stored.Status} {Encoding.UTF8.GetString(stored.Body)}";
            }

            if (_mailboxes.TryGetValue(agentId, out Mailbox? mailbox) && mailbox.Entries.TryGetValue(threadId, out MailboxEntry? entry))
            {
                entry.UnreadCount = 0;
                entry.LastSyncedAt = Now();
                entry.Pending.RemoveAll(m => m.Timestamp <= entry.LastSyncedAt);
                if (entry.Pending.Count == 0)
                {
                    mailbox.WithPending.Remove(entry);
                }
            }

            return new StoreResult(200, "{\"ok\":true}"u8.ToArray());
        }
    }

    public StoreResult Mailbox(string agentId, double limit, double offset)
    {
        lock (_gate)
        {
            _mailboxes.TryGetValue(agentId, out Mailbox? mailbox);
            if (Math.Floor(limit) != limit || Math.Floor(offset) != offset)
            {
                // SQLite rejects "LIMIT 2.5" / "OFFSET 1.5".
                return StoreResult.Internal("datatype mismatch");
            }

            int total = mailbox?.Entries.Count ?? 0;
            long unread = 0;
            var b = new ByteBuffer();
            b.Write("{\"threads\":["u8);
            if (mailbox is not null && offset < total)
            {
                bool first = true;
                foreach (MailboxEntry entry in mailbox.Entries.Values.Skip((int)offset).Take((int)limit))
                {
                    if (!first)
                    {
                        b.WriteByte((byte)',');
                    }

                    first = false;
                    unread += entry.UnreadCount;
                    WriteThread(b, entry.Thread, agentId);
                }
            }

            b.Write("],\"unreadCount\":"u8);
            JsJsonWriter.WriteNumber(b, unread);
            b.Write(",\"total\":"u8);
            JsJsonWriter.WriteNumber(b, total);
            b.Write(",\"limit\":"u8);
            JsJsonWriter.WriteNumber(b, limit);
            b.Write(",\"offset\":"u8);
            JsJsonWriter.WriteNumber(b, offset);
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    public StoreResult Unread(string agentId, double recent)
    {
        lock (_gate)
        {
            var b = new ByteBuffer();
            b.Write("{\"messages\":["u8);
            if (_mailboxes.TryGetValue(agentId, out Mailbox? mailbox) && mailbox.WithPending.Count > 0)
            {
                var messages = new List<StoredMessage>();
                foreach (MailboxEntry entry in mailbox.WithPending)
                {
                    foreach (StoredMessage m in entry.Pending)
                    {
                        if (m.Timestamp > entry.LastSyncedAt)
                        {
                            messages.Add(m);
                        }
                    }
                }

                messages.Sort(static (x, y) => x.Timestamp != y.Timestamp ? x.Timestamp.CompareTo(y.Timestamp) : x.Sequence.CompareTo(y.Sequence));
                var contexts = new Dictionary<ThreadState, byte[]>();
                long now = Now();
                for (int i = 0; i < messages.Count; i++)
                {
                    StoredMessage m = messages[i];
                    ThreadState thread = _threads[m.ThreadId];
                    if (!contexts.TryGetValue(thread, out byte[]? context))
                    {
                        var cb = new ByteBuffer();
                        WriteContext(cb, thread, recent, agentId, now);
                        context = cb.ToArray();
                        contexts.Add(thread, context);
                    }

                    if (i > 0)
                    {
                        b.WriteByte((byte)',');
                    }

                    b.Write("{\"id\":"u8);
                    JsJsonWriter.WriteString(b, m.Id);
                    b.Write(",\"threadId\":"u8);
                    JsJsonWriter.WriteString(b, m.ThreadId);
                    b.Write(",\"from\":"u8);
                    JsJsonWriter.WriteString(b, m.From);
                    b.Write(",\"to\":"u8);
                    JsJsonWriter.WriteString(b, m.To);
                    b.Write(",\"timestamp\":"u8);
                    JsJsonWriter.WriteNumber(b, m.Timestamp);
                    b.Write(",\"payload\":"u8);
                    b.Write(m.PayloadJson.Span);
                    b.Write(",\"context\":"u8);
                    b.Write(context);
                    if (m.Cc is not null)
                    {
                        b.Write(",\"cc\":"u8);
                        JsJsonWriter.WriteStringArray(b, m.Cc);
                    }

                    if (m.Bcc is not null && m.From == agentId)
                    {
                        b.Write(",\"bcc\":"u8);
                        JsJsonWriter.WriteStringArray(b, m.Bcc);
                    }

                    if (m.ReplyTo is not null)
                    {
                        b.Write(",\"replyTo\":"u8);
                        JsJsonWriter.WriteString(b, m.ReplyTo);
                    }

                    b.WriteByte((byte)'}');
                }
            }

            b.Write("]}"u8);
            return StoreResult.Json(200, b);
        }
    }

    public StoreResult Thread(string threadId, string? requester)
    {
        lock (_gate)
        {
            if (!_threads.TryGetValue(threadId, out ThreadState? thread))
            {
                return StoreResult.Error(404, "thread not found");
            }

            var b = new ByteBuffer();
            b.Write("{\"thread\":"u8);
            WriteThread(b, thread, requester);
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    public StoreResult Sync(string threadId, string? requester, double recent)
    {
        lock (_gate)
        {
            if (!_threads.TryGetValue(threadId, out ThreadState? thread))
            {
                return StoreResult.Error(404, "thread not found");
            }

            var b = new ByteBuffer();
            b.Write("{\"context\":"u8);
            WriteContext(b, thread, recent, requester, Now());
            b.WriteByte((byte)'}');
            return StoreResult.Json(200, b);
        }
    }

    public StoreResult Participants(string threadId, string? requester)
    {
        lock (_gate)
        {
            if (!_threads.TryGetValue(threadId, out ThreadState? thread))
            {
                return StoreResult.Error(404, "thread not found");
            }

            IEnumerable<ParticipantRole> roles = thread.Messages.Count == 0
                ? thread.Participants.Select(p => new ParticipantRole(p, "to", thread.CreatedAt)).ToList()
                : thread.Roles.OrderBy(r => r.JoinedAt);
            HashSet<string>? bccVisible = null;
            if (!string.IsNullOrEmpty(requester))
            {
                bccVisible = thread.BccBySender.TryGetValue(requester, out HashSet<string>? bccd)
                    ? new HashSet<string>(bccd, StringComparer.Ordinal)
                    : new HashSet<string>(StringComparer.Ordinal);
                bccVisible.Add(requester);
            }

            var b = new ByteBuffer();
            b.Write("{\"participants\":["u8);
            bool first = true;
            foreach (ParticipantRole role in roles)
            {
                if (role.Role == "bcc" && (bccVisible is null || !bccVisible.Contains(role.AgentId)))
                {
                    continue;
                }

                if (!first)
                {
                    b.WriteByte((byte)',');
                }

                first = false;
                b.Write("{\"agentId\":"u8);
                JsJsonWriter.WriteString(b, role.AgentId);
                b.Write(",\"role\":"u8);
                JsJsonWriter.WriteString(b, role.Role);
                b.Write(",\"joinedAt\":"u8);
                JsJsonWriter.WriteNumber(b, role.JoinedAt);
                b.WriteByte((byte)'}');
            }

            b.Write("]}"u8);
            return StoreResult.Json(200, b);
        }
    }

    // ---------------------------------------------------------------- views

    /// <summary>A thread as <c>stripBccFromThread(thread, requester)</c> returns it.</summary>
    private static void WriteThread(ByteBuffer b, ThreadState thread, string? requester)
    {
        thread.ParticipantsJson ??= StringArrayJson(thread.Participants);
        b.Write("{\"id\":"u8);
        JsJsonWriter.WriteString(b, thread.Id);
        b.Write(",\"participants\":"u8);
        b.Write(thread.ParticipantsJson);
        b.Write(",\"silentParticipants\":"u8);
        if (!string.IsNullOrEmpty(requester) && thread.Silent.Contains(requester))
        {
            thread.SilentJson ??= StringArrayJson(thread.Silent);
            b.Write(thread.SilentJson);
        }
        else
        {
            b.Write("[]"u8);
        }

        b.Write(",\"messages\":["u8);
        for (int i = 0; i < thread.Messages.Count; i++)
        {
            if (i > 0)
            {
                b.WriteByte((byte)',');
            }

            b.Write(thread.Messages[i].JsonFor(requester));
        }

        b.Write("],\"createdAt\":"u8);
        JsJsonWriter.WriteNumber(b, thread.CreatedAt);
        b.Write(",\"updatedAt\":"u8);
        JsJsonWriter.WriteNumber(b, thread.UpdatedAt);
        b.WriteByte((byte)'}');
    }

    private static byte[] StringArrayJson(IEnumerable<string> items)
    {
        var b = new ByteBuffer();
        JsJsonWriter.WriteStringArray(b, items);
        return b.ToArray();
    }

    /// <summary>
    /// The context frame of <c>assembleContext</c> with the no-op compressor: the last snapshot,
    /// an empty summary text, the last <paramref name="recent"/> messages, the token estimate, and
    /// the cached structured summary once 20 or more older messages were left uncovered.
    /// </summary>
    private static void WriteContext(ByteBuffer b, ThreadState thread, double recent, string? requester, long now)
    {
        List<StoredMessage> messages = thread.Messages;
        int count = messages.Count;
        int recentCount = (int)Math.Min(count, Math.Truncate(recent));
        int olderCount = (int)Math.Truncate(Math.Max(0, count - recent));

        bool includeSummary = false;
        if (olderCount > 0)
        {
            int uncovered = Math.Max(0, olderCount - thread.SummaryCoveredCount);
            if (uncovered >= CompressionThreshold)
            {
                thread.SummaryCoveredCount = olderCount;
                var sb = new ByteBuffer(64 + (olderCount * 39));
                sb.Write("{\"text\":\"\",\"decisions\":[],\"openQuestions\":[],\"artifacts\":{},\"coversMessageIds\":["u8);
                for (int i = 0; i < olderCount; i++)
                {
                    if (i > 0)
                    {
                        sb.WriteByte((byte)',');
                    }

                    JsJsonWriter.WriteString(sb, messages[i].Id);
                }

                sb.Write("],\"generatedAt\":"u8);
                JsJsonWriter.WriteNumber(sb, now);
                sb.WriteByte((byte)'}');
                thread.SummaryJson = sb.ToArray();
            }

            includeSummary = thread.SummaryJson is not null;
        }

        b.Write("{\"snapshot\":"u8);
        if (count > 0)
        {
            b.Write(messages[count - 1].SnapshotJson.Span);
        }
        else
        {
            b.Write("{}"u8);
        }

        b.Write(",\"threadSummary\":\"\",\"recentMessages\":["u8);
        long textLength = 0;
        for (int i = count - recentCount; i < count; i++)
        {
            if (i > count - recentCount)
            {
                b.WriteByte((byte)',');
            }

            b.Write(messages[i].JsonFor(requester));
            textLength += messages[i].PayloadTextLength;
        }

        // ceil(len(threadSummary + "\n" + payloads joined by "\n") / 4)
        textLength += recentCount == 0 ? 1 : recentCount;
        b.Write("],\"tokenCount\":"u8);
        JsJsonWriter.WriteNumber(b, (textLength + 3) / 4);
        if (includeSummary)
        {
            b.Write(",\"threadSummaryStructured\":"u8);
            b.Write(thread.SummaryJson);
        }

        b.WriteByte((byte)'}');
    }
}
