using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Text.Json;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Sends a message with a context snapshot. Piped objects are payloads when -To is given, and whole message
    /// descriptions (To, Cc, Bcc, ThreadId, ReplyTo, Payload, ContextSnapshot properties) when it is not, so
    /// <c>Import-Csv tasks.csv | Send-AgentMessage</c> works.
    /// </summary>
    [Cmdlet(VerbsCommunications.Send, "AgentMessage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(SendResult))]
    public sealed class SendAgentMessageCommand : AgentMailboxRequestCmdlet
    {
        private bool _toOnCommandLine;
        private bool _payloadOnCommandLine;
        private ThrottledRequests<SendResult>? _sends;

        /// <summary>The thread each participant set's sends landed in, learned from their results (see <see cref="ThreadOrderKey"/>).</summary>
        private readonly Dictionary<string, string> _threadOfParticipants = new Dictionary<string, string>(StringComparer.Ordinal);

        /// <summary>Sends queued and not yet written; and whether the last one queued went to a thread unknown beforehand.</summary>
        private int _outstanding;
        private bool _lastThreadUnknown;

        #region Parameters

        /// <summary>The recipient.</summary>
        [Parameter(Position = 0)]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string? To { get; set; }

        /// <summary>The body: any value, or a script block run for each piped object with $_ bound to it.</summary>
        [Parameter(Position = 1)]
        [AllowNull]
        public object? Payload { get; set; }

        /// <summary>Carbon-copy recipients (visible to everyone in the thread).</summary>
        [Parameter]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string[]? Cc { get; set; }

        /// <summary>Blind-copy recipients (hidden from everyone but the sender).</summary>
        [Parameter]
        [ValidateAgentId]
        [ArgumentCompleter(typeof(AgentIdCompleter))]
        public string[]? Bcc { get; set; }

        /// <summary>The context snapshot to carry (hashtable, ordered dictionary or PSCustomObject), so the recipient never starts cold.</summary>
        [Parameter]
        [AllowNull]
        public object? ContextSnapshot { get; set; }

        /// <summary>Post into this existing thread instead of the one the participant set selects.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ThreadIdCompleter))]
        public string? ThreadId { get; set; }

        /// <summary>A reply-to address stored with the message (no routing effect on the server).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ReplyTo { get; set; }

        /// <summary>Asks the server for a handoff packet: goal, nextAction, includeFields, maxContextBytes.</summary>
        [Parameter]
        public Hashtable? Handoff { get; set; }

        /// <summary>
        /// How many sends may be in flight at once (1 to 64; default 1, one after another). Results still come out in
        /// input order, and messages that go to the same thread are sent one after another in input order.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>A piped payload (with -To) or message description (without).</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        [AllowNull]
        public PSObject? InputObject { get; set; }

        #endregion

        #region Overrides

        protected override void BeginProcessing()
        {
            _toOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(To));
            _payloadOnCommandLine = MyInvocation.BoundParameters.ContainsKey(nameof(Payload));
            _sends = StartRequests<SendResult>(ThrottleLimit, new CommandProgress(this, "Send-AgentMessage", "sent"));
        }

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var sends = _sends!;
            var input = InputObject;
            bool piped = MyInvocation.BoundParameters.ContainsKey(nameof(InputObject));
            SendMessageRequest message;
            Func<object?> payload;
            try
            {
                message = piped && !_toOnCommandLine ? FromDescription(input, out payload) : FromParameters(piped, out payload);
                message.From = connection.AgentId;
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                object? target = input ?? (object?)To;
                sends.Post(() => WriteFailure(ex, InputErrorId(ex), target));
                return;
            }

            // Asked before the payload is computed, so that under -WhatIf a script-block payload does not run either.
            if (!ShouldProcess(Describe(message), $"Send message as {connection.AgentId}"))
            {
                return;
            }
            try
            {
                // Computed here, on the pipeline thread, even when a worker sends it.
                message.Payload = sends.Detach(payload());
                message.ContextSnapshot = sends.Detach(message.ContextSnapshot);
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                object? target = input ?? (object?)To;
                sends.Post(() => WriteFailure(ex, InputErrorId(ex), target));
                return;
            }
            object? sendTarget = input ?? (object?)message.To;
            string? participants = message.ThreadId is null ? ParticipantsKey(message) : null;
            string orderKey = ThreadOrderKey(message, participants, out bool threadUnknown);
            if (threadUnknown != _lastThreadUnknown && _outstanding > 0)
            {
                // A send whose thread the server has yet to pick may land in a thread that sends in flight go to by id
                // (or the other way round): neither starts beside the other.
                sends.Drain();
            }
            _lastThreadUnknown = threadUnknown;
            _outstanding++;
            sends.Submit(orderKey, ct => connection.Client.SendAsync(message, ct),
                result =>
                {
                    _outstanding--;
                    if (participants is not null)
                    {
                        _threadOfParticipants[participants] = result.ThreadId;
                    }
                    WriteObject(result);
                },
                ex =>
                {
                    _outstanding--;
                    WriteFailure(ex, ErrorIds.SendMessageFailed, sendTarget, ErrorIds.ThreadNotFound);
                });
        }

        protected override void EndProcessing() => _sends?.Complete();

        #endregion

        #region Private methods

        private SendMessageRequest FromParameters(bool piped, out Func<object?> payload)
        {
            if (string.IsNullOrEmpty(To))
            {
                throw new MissingRecipientException("No recipient: give -To, or pipe objects that have a To property.");
            }
            var input = InputObject;
            if (!piped)
            {
                payload = () => ResolvePayload(Payload, null);
            }
            else if (!_payloadOnCommandLine)
            {
                payload = () => input;
            }
            else if (PSJsonValueConverter.Unwrap(Payload, out _) is ScriptBlock)
            {
                payload = () => ResolvePayload(Payload, input);
            }
            else
            {
                throw new ArgumentException(
                    "With -To, each piped object is the payload; -Payload may then only be a script block that computes it from $_.", nameof(Payload));
            }
            return new SendMessageRequest
            {
                To = To!,
                Cc = Cc,
                Bcc = Bcc,
                ContextSnapshot = CheckSnapshot(ContextSnapshot, nameof(ContextSnapshot)),
                ThreadId = ThreadId,
                ReplyTo = ReplyTo,
                Handoff = ToHandoff(Handoff),
            };
        }

        /// <summary>A piped object that describes a whole message; command-line values fill what it lacks.</summary>
        private SendMessageRequest FromDescription(PSObject? input, out Func<object?> payload)
        {
            string? to = Text(Property(input, "To"));
            if (string.IsNullOrEmpty(to))
            {
                throw new MissingRecipientException("No recipient: the piped object has no To value, and -To was not given.");
            }

            if (_payloadOnCommandLine)
            {
                payload = () => ResolvePayload(Payload, input);
            }
            else if (TryProperty(input, "Payload", out object? fromInput))
            {
                payload = () => fromInput;
            }
            else
            {
                // A row without a Payload column (Import-Csv of To,Task,Priority): its other columns are the payload.
                var rest = OtherProperties(input);
                if (rest is null)
                {
                    throw new ArgumentException(
                        "The piped object has no Payload property and no other properties to send. Give it a Payload, or compute the payload with -Payload { … $_ … }.",
                        nameof(Payload));
                }
                payload = () => rest;
            }

            object? snapshot = TryProperty(input, "ContextSnapshot", out var snapshotFromInput) && snapshotFromInput is not null ? snapshotFromInput : ContextSnapshot;
            if (PSJsonValueConverter.Unwrap(snapshot, out _) is string json)
            {
                snapshot = string.IsNullOrWhiteSpace(json) ? null : ParseJsonObject(json);
            }

            return new SendMessageRequest
            {
                To = to!,
                Cc = Addresses(Property(input, "Cc")) ?? Cc,
                Bcc = Addresses(Property(input, "Bcc")) ?? Bcc,
                ContextSnapshot = CheckSnapshot(snapshot, nameof(ContextSnapshot)),
                ThreadId = Text(Property(input, "ThreadId")) ?? ThreadId,
                ReplyTo = Text(Property(input, "ReplyTo")) ?? ReplyTo,
                Handoff = ToHandoff(Handoff),
            };
        }

        /// <summary>The properties of a piped row that describe the message itself; the others are its payload when it has no Payload.</summary>
        private static readonly string[] MessageProperties = { "To", "Cc", "Bcc", "ThreadId", "ReplyTo", "ContextSnapshot", "Payload" };

        /// <summary>A piped row's properties other than the message's own (To, Cc, …), as an object; null when it has none.</summary>
        private static PSObject? OtherProperties(PSObject? input)
        {
            if (input is null)
            {
                return null;
            }
            var rest = new PSObject();
            int count = 0;
            if (input.BaseObject is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    string key = entry.Key?.ToString() ?? "";
                    if (!IsMessageProperty(key))
                    {
                        rest.Properties.Add(new PSNoteProperty(key, entry.Value));
                        count++;
                    }
                }
            }
            else
            {
                foreach (var property in input.Properties)
                {
                    if (property.IsGettable && !IsMessageProperty(property.Name))
                    {
                        rest.Properties.Add(new PSNoteProperty(property.Name, property.Value));
                        count++;
                    }
                }
            }
            return count == 0 ? null : rest;
        }

        private static bool IsMessageProperty(string name)
            => Array.Exists(MessageProperties, p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase));

        /// <summary>
        /// The order key of a send: its thread, as far as it is known before sending. That is its ThreadId, else the thread
        /// that earlier sends with the same visible participant set {from, to, cc} landed in (the server picks the thread by
        /// that set, protocol §1.3), else the set itself, with <paramref name="threadUnknown"/> true. Sends with the same
        /// key keep their order.
        /// </summary>
        private string ThreadOrderKey(SendMessageRequest message, string? participants, out bool threadUnknown)
        {
            threadUnknown = false;
            if (message.ThreadId is not null)
            {
                return "thread\n" + message.ThreadId;
            }
            if (_threadOfParticipants.TryGetValue(participants!, out var thread))
            {
                return "thread\n" + thread;
            }
            threadUnknown = true;
            return participants!;
        }

        /// <summary>The visible participant set {from, to, cc} of a send, sorted, as one key.</summary>
        private static string ParticipantsKey(SendMessageRequest message)
        {
            var participants = new SortedSet<string>(StringComparer.Ordinal) { message.From, message.To };
            if (message.Cc is not null)
            {
                participants.UnionWith(message.Cc);
            }
            return "participants\n" + string.Join("\n", participants);
        }

        private static object? Property(PSObject? input, string name) => TryProperty(input, name, out var value) ? value : null;

        /// <summary>Reads a property of a PSObject, or a key of a piped hashtable, case-insensitively.</summary>
        private static bool TryProperty(PSObject? input, string name, out object? value)
        {
            value = null;
            if (input is null)
            {
                return false;
            }
            if (input.BaseObject is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (string.Equals(entry.Key?.ToString(), name, StringComparison.OrdinalIgnoreCase))
                    {
                        value = entry.Value;
                        return true;
                    }
                }
                return false;
            }
            var property = input.Properties[name];
            if (property is null)
            {
                return false;
            }
            value = property.Value;
            return true;
        }

        private static string? Text(object? value)
        {
            value = PSJsonValueConverter.Unwrap(value, out _);
            string? text = value is null ? null : value as string ?? LanguagePrimitives.ConvertTo<string>(value);
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }

        /// <summary>A list of agent ids: an array, or one string separated by ',' or ';' (as a CSV cell holds them).</summary>
        private static string[]? Addresses(object? value)
        {
            value = PSJsonValueConverter.Unwrap(value, out _);
            if (value is null)
            {
                return null;
            }
            IEnumerable<string> items = value is string single
                ? single.Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries)
                : LanguagePrimitives.ConvertTo<string[]>(value);
            var result = items.Select(s => s.Trim()).Where(s => s.Length > 0).ToArray();
            return result.Length == 0 ? null : result;
        }

        private static object? ParseJsonObject(string json)
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = PSJsonValueConverter.MaxDepth });
            try
            {
                reader.Read();
                var value = PSJsonValueConverter.Instance.Read(ref reader);
                if (value is PSObject)
                {
                    return value;
                }
            }
            catch (JsonException)
            {
            }
            throw new ArgumentException("The piped ContextSnapshot text is not a JSON object.", nameof(ContextSnapshot));
        }

        private static string Describe(SendMessageRequest message)
        {
            var text = new StringBuilder(message.To);
            if (message.Cc is { Count: > 0 })
            {
                text.Append(" (cc ").Append(string.Join(", ", message.Cc)).Append(')');
            }
            if (message.Bcc is { Count: > 0 })
            {
                text.Append(" (bcc ").Append(string.Join(", ", message.Bcc)).Append(')');
            }
            if (message.ThreadId is not null)
            {
                text.Append(" in thread ").Append(message.ThreadId);
            }
            return text.ToString();
        }


        #endregion
    }
}
