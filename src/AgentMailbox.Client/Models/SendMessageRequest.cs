using System.Collections.Generic;

namespace AgentMailbox
{
    /// <summary>A message to send (<c>POST /messages/send</c>).</summary>
    public sealed class SendMessageRequest
    {
        public string From { get; set; } = "";
        public string To { get; set; } = "";
        public IList<string>? Cc { get; set; }
        public IList<string>? Bcc { get; set; }

        /// <summary>Any JSON value, written by the client's value converter; null is sent as JSON null.</summary>
        public object? Payload { get; set; }

        /// <summary>A JSON object (dictionary or object), or null to leave the server's default <c>{}</c>.</summary>
        public object? ContextSnapshot { get; set; }

        public string? ThreadId { get; set; }
        public string? ReplyTo { get; set; }
        public HandoffOptions? Handoff { get; set; }
    }

    /// <summary>A reply to every visible participant of a thread (<c>POST /messages/reply-all</c>).</summary>
    public sealed class ReplyAllRequest
    {
        public string From { get; set; } = "";
        public string ThreadId { get; set; } = "";
        public object? Payload { get; set; }
        public object? ContextSnapshot { get; set; }
        public HandoffOptions? Handoff { get; set; }
    }
}
