using AgentMailbox.MockServer.Json;
using AgentMailbox.MockServer.Protocol;

namespace AgentMailbox.MockServer;

/// <summary>The answer of a store operation: a status and a JSON body, or an internal error
/// message that the pipeline turns into <c>500 {"error":…,"requestId":…}</c>.</summary>
internal readonly record struct StoreResult(int Status, byte[] Body, string? InternalError = null)
{
    public static StoreResult Json(int status, ByteBuffer body) => new(status, body.ToArray());

    public static StoreResult Error(int status, string message)
    {
        var b = new ByteBuffer();
        b.Write("{\"error\":"u8);
        JsJsonWriter.WriteString(b, message);
        b.WriteByte((byte)'}');
        return new StoreResult(status, b.ToArray());
    }

    public static StoreResult Internal(string message) => new(500, [], message);
}

/// <summary>One stored message. Immutable; its JSON is rendered once, with and without <c>bcc</c>.</summary>
internal sealed class StoredMessage
{
    public required string Id { get; init; }

    public required string ThreadId { get; init; }

    public required string From { get; init; }

    public required string To { get; init; }

    public string[]? Cc { get; init; }

    public string[]? Bcc { get; init; }

    public string? ReplyTo { get; init; }

    public long Timestamp { get; init; }

    /// <summary>Store-wide insertion order; breaks timestamp ties.</summary>
    public long Sequence { get; init; }

    /// <summary>The full message object (with <c>bcc</c>).</summary>
    public byte[] Json { get; set; } = [];

    /// <summary>The message object without <c>bcc</c> (the same array when there is none).</summary>
    public byte[] JsonWithoutBcc { get; set; } = [];

    public ReadOnlyMemory<byte> PayloadJson { get; set; }

    public ReadOnlyMemory<byte> SnapshotJson { get; set; }

    /// <summary>UTF-16 length of the text the context assembler counts tokens on.</summary>
    public int PayloadTextLength { get; init; }

    /// <summary><c>payload.goal</c> or <c>payload.task</c> (trimmed, non-empty) when the payload is an object.</summary>
    public string? GoalHint { get; init; }

    public byte[] JsonFor(string? requester) => requester is not null && requester == From ? Json : JsonWithoutBcc;
}

internal sealed class ParticipantRole(string agentId, string role, long joinedAt)
{
    public string AgentId { get; } = agentId;

    public string Role { get; set; } = role;

    public long JoinedAt { get; set; } = joinedAt;

    public static int Priority(string role) => role switch { "to" => 3, "cc" => 2, _ => 1 };
}

internal sealed class ThreadState
{
    public required string Id { get; init; }

    public long Sequence { get; init; }

    public long CreatedAt { get; init; }

    public long UpdatedAt { get; set; }

    public SortedSet<string> Participants { get; } = new(StringComparer.Ordinal);

    public SortedSet<string> Silent { get; } = new(StringComparer.Ordinal);

    /// <summary>The participant set the thread was created with (SQLite's unique participants_hash).</summary>
    public required string CreationKey { get; init; }

    public required string CurrentKey { get; set; }

    public List<StoredMessage> Messages { get; } = [];

    public List<ParticipantRole> Roles { get; } = [];

    public Dictionary<string, ParticipantRole> RoleIndex { get; } = new(StringComparer.Ordinal);

    /// <summary>For each sender, everyone it has bcc'd in this thread.</summary>
    public Dictionary<string, HashSet<string>> BccBySender { get; } = new(StringComparer.Ordinal);

    /// <summary>How many of the oldest messages the cached structured summary covers.</summary>
    public int SummaryCoveredCount { get; set; }

    public byte[]? SummaryJson { get; set; }

    public byte[]? ParticipantsJson { get; set; }

    public byte[]? SilentJson { get; set; }
}

internal sealed class MailboxEntry(ThreadState thread)
{
    public ThreadState Thread { get; } = thread;

    public int UnreadCount { get; set; }

    public long LastSyncedAt { get; set; }

    /// <summary>Messages addressed to the agent with a timestamp after <see cref="LastSyncedAt"/>.</summary>
    public List<StoredMessage> Pending { get; } = [];
}

internal sealed class Mailbox
{
    public SortedDictionary<string, MailboxEntry> Entries { get; } = new(StringComparer.Ordinal);

    public HashSet<MailboxEntry> WithPending { get; } = [];
}

internal sealed record BeforeReadHookState(string? AgentId, SendRequest Request);
