using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Creates or replaces entries of the agent's codebase index. Files piped from Get-ChildItem get their path
    /// relative to -RelativeTo as their key; -Summary and -Metadata may be script blocks run per input. Every entry
    /// carries a fingerprint of its content in a reserved metadata property; with -Incremental, inputs whose
    /// fingerprint the server already holds are not sent, and the rollups of the parents of changed entries are
    /// made again so their parent links survive (the server clears them on every upsert, quirk 22).
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "AgentIndexEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(IndexEntry))]
    public sealed class SetAgentIndexEntryCommand : AgentMailboxRequestCmdlet
    {
        private string _basePath = "";
        private Baseline? _baseline;
        private readonly List<string> _affectedParents = new List<string>();
        private int _inputs;
        private int _sent;
        private int _skipped;
        private ThrottledRequests<Outcome>? _requests;

        #region Parameters

        /// <summary>The entry's key; for a piped file without -Key, its path relative to -RelativeTo with '/' separators.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? Key { get; set; }

        /// <summary>One of the server's seven categories.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateSet("file", "symbol", "api", "config", "architecture", "module", "overview")]
        public string Category { get; set; } = "";

        /// <summary>The summary text, or a script block run for each input with $_ bound to it.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Summary { get; set; }

        /// <summary>Free-form metadata (a JSON object), or a script block run for each input with $_ bound to it.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Metadata { get; set; }

        /// <summary>The folder piped files' keys are relative to; the current location when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RelativeTo { get; set; }

        /// <summary>Skips inputs whose content the server already holds, and keeps the parent links of those it sends.</summary>
        [Parameter]
        public SwitchParameter Incremental { get; set; }

        /// <summary>Outputs each entry (also the ones -Incremental skipped).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>
        /// How many requests (upserts, and with -Incremental without a checkpoint the reads of keys) may be in flight at
        /// once (1 to 64; default 1, one after another). Outputs still come out in input order, and inputs with the same
        /// key are handled one after another in input order (the last one wins).
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>A piped object: a file from Get-ChildItem, or an object with Key, Category, Summary, Metadata properties.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        [AllowNull]
        public PSObject? InputObject { get; set; }

        #endregion

        #region Overrides

        protected override void BeginProcessing()
        {
            string location = RelativeTo is null
                ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : SessionState.Path.GetUnresolvedProviderPathFromPSPath(RelativeTo);
            _basePath = location;
            _requests = StartRequests<Outcome>(ThrottleLimit, new CommandProgress(this, "Set-AgentIndexEntry", "files"));
        }

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var requests = _requests!;
            string category = Category;
            _inputs++;
            object? target = InputObject ?? (object?)Key;
            string key;
            FileInfo? file;
            try
            {
                file = PSJsonValueConverter.Unwrap(InputObject, out _) as FileInfo;
                if (!string.IsNullOrEmpty(Key))
                {
                    key = Key!;
                }
                else if (file is not null)
                {
                    key = IndexMetadata.RelativeKey(_basePath, file.FullName);
                }
                else if (PSJsonValueConverter.Unwrap(InputObject, out _) is DirectoryInfo directory)
                {
                    throw new ArgumentException($"'{directory.FullName}' is a directory: pipe files (Get-ChildItem -File), or roll a directory up with Merge-AgentIndexEntry.", nameof(Key));
                }
                else
                {
                    throw new ArgumentException("No key: give -Key, or pipe files or objects that have a Key property.", nameof(Key));
                }
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                requests.Post(() => WriteFailure(ex, ErrorIds.InvalidIndexEntryInput, target));
                return;
            }

            // Asked before the script blocks run, so that under -WhatIf nothing runs and nothing is sent.
            if (!ShouldProcess($"index entry '{key}'", $"Set ({category}) for {connection.AgentId}"))
            {
                return;
            }

            IndexEntry entry;
            IndexMetadata.Composed composed;
            try
            {
                string summary = SummaryText(ResolvePayload(Summary, InputObject));
                object? metadata = CheckSnapshot(ResolvePayload(Metadata, InputObject), nameof(Metadata));
                string? contentHash = file is null ? null : IndexMetadata.HashFile(file.FullName);
                composed = IndexMetadata.Compose(category, summary, metadata, contentHash);
                entry = new IndexEntry(key, category, summary, composed.Wire);
            }
            catch (Exception ex) when (IsReportable(ex) || ex is IOException || ex is UnauthorizedAccessException)
            {
                requests.Post(() => WriteFailure(ex, ex is RuntimeException ? ErrorIds.PayloadScriptFailed : ErrorIds.InvalidIndexEntryInput, target));
                return;
            }

            Baseline? baseline = null;
            if (Incremental)
            {
                try
                {
                    // Loaded on the first input, on this thread; its reads of single keys (without a checkpoint) are then
                    // made per input, with that input's request.
                    _baseline ??= LoadBaseline(connection);
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    requests.Post(() => WriteFailure(ex, ErrorIds.SetIndexEntryFailed, target));
                    return;
                }
                baseline = _baseline;
                // Keys not known from a checkpoint become known in input order, whichever read finishes first: a rollup
                // made again lists its children in the same order as without -ThrottleLimit.
                baseline.Reserve(key);
            }

            // The skip is decided with the input's own request, after every earlier input with the same key has been
            // handled, so a key given twice is compared with what the first one sent.
            var client = connection.Client;
            string agentId = connection.AgentId;
            string fingerprint = composed.Fingerprint;
            requests.Submit("index\n" + key,
                ct => HandleAsync(client, agentId, baseline, entry, fingerprint, ct),
                outcome =>
                {
                    if (outcome.Skipped)
                    {
                        _skipped++;
                        WriteVerbose($"Unchanged, not sent: '{key}'.");
                    }
                    else
                    {
                        _sent++;
                        if (outcome.ParentKey is not null && !_affectedParents.Contains(outcome.ParentKey))
                        {
                            _affectedParents.Add(outcome.ParentKey);
                        }
                    }
                    Output(key, category, composed, entry.Summary, outcome.ParentKey);
                },
                ex => WriteFailure(ex, ErrorIds.SetIndexEntryFailed, target));
        }

        protected override void EndProcessing()
        {
            if (!Incremental)
            {
                _requests?.Complete();
                return;
            }
            // Every upsert has completed (and been written) before a parent is rolled up again: an upsert clears the
            // parent link of its entry, so a rollup made before it would be undone.
            _requests?.Drain();
            var connection = CurrentConnection;
            int rolled = 0;
            foreach (string parent in _affectedParents)
            {
                var children = _baseline!.ChildrenOf(parent);
                if (children.Count == 0)
                {
                    continue;
                }
                if (children.Count > ContextVocabulary.MaxRollupKeys)
                {
                    WriteWarning($"'{parent}' has {children.Count} children, more than one rollup takes ({ContextVocabulary.MaxRollupKeys}): its rollup was not made again, so the entries sent lost their link to it.");
                    continue;
                }
                try
                {
                    Await(ct => connection.Client.MergeIndexEntriesAsync(connection.AgentId, parent, children, ct));
                    rolled++;
                    WriteVerbose($"Rolled '{parent}' up again from its {children.Count} entries, to keep their parent links.");
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.ParentRollupFailed, parent);
                }
            }
            WriteVerbose($"Incremental index: {_inputs} input(s), {_sent} sent, {_skipped} unchanged and not sent, {rolled} parent rollup(s) made again.");
            _requests?.Complete();
        }

        #endregion

        #region Private methods

        private void Output(string key, string category, IndexMetadata.Composed composed, string summary, string? parentKey)
        {
            if (PassThru)
            {
                WriteObject(new IndexEntry(key, category, summary, composed.User) { ParentKey = parentKey });
            }
        }

        /// <summary>
        /// One input's request (on a worker with a throttle limit above 1): with a baseline, what the server holds for the
        /// key (a GET when the baseline does not know it), and no upsert when that has the same fingerprint and category.
        /// The baseline then records what was sent, so a later input with the same key compares with it.
        /// </summary>
        private static async Task<Outcome> HandleAsync(AgentMailboxClient client, string agentId, Baseline? baseline, IndexEntry entry,
            string fingerprint, CancellationToken cancellationToken)
        {
            string? parentKey = null;
            if (baseline is not null)
            {
                if (!baseline.TryGet(entry.Key, out var known) && !baseline.Complete)
                {
                    known = await FetchAsync(client, agentId, entry.Key, cancellationToken).ConfigureAwait(false);
                    baseline.Record(entry.Key, known);
                }
                parentKey = known?.ParentKey;
                if (known is not null && known.Fingerprint == fingerprint && known.Category == entry.Category)
                {
                    return new Outcome(skipped: true, parentKey);
                }
            }
            await client.SetIndexEntryAsync(agentId, entry, cancellationToken).ConfigureAwait(false);
            baseline?.Record(entry.Key, new Known(entry.Category, fingerprint, parentKey));
            return new Outcome(skipped: false, parentKey);
        }

        private static async Task<Known?> FetchAsync(AgentMailboxClient client, string agentId, string key, CancellationToken cancellationToken)
        {
            try
            {
                var live = await client.GetIndexEntryAsync(agentId, key, cancellationToken).ConfigureAwait(false);
                return new Known(live.Category, IndexMetadata.FingerprintOf(live.Metadata), live.ParentKey) { Live = true };
            }
            catch (AgentMailboxNotFoundException)
            {
                return null;
            }
        }

        private static string SummaryText(object? value)
        {
            value = PSJsonValueConverter.Unwrap(value, out _);
            string? text = value is null ? null : value as string ?? LanguagePrimitives.ConvertTo<string>(value);
            if (string.IsNullOrEmpty(text))
            {
                throw new ArgumentException("-Summary is empty: the server needs a non-empty summary text.", nameof(Summary));
            }
            return text!;
        }

        /// <summary>
        /// The baseline: the newest checkpoint read by id (every entry with its metadata) corrected by the diff from it
        /// to the live state (a GET for each key added or modified since; removed keys dropped). Without a checkpoint,
        /// or when it cannot be read, each key is read when it is first needed.
        /// </summary>
        private Baseline LoadBaseline(Connection connection)
        {
            ContextCheckpoint? newest;
            try
            {
                newest = AwaitEach(ct => connection.Client.GetCheckpointsAsync(connection.AgentId, null, 1, ct)).FirstOrDefault();
                if (newest is null)
                {
                    WriteVerbose("No checkpoint: each key is read from the server when first needed.");
                    return new Baseline(complete: false);
                }
                string id = newest.Id;
                var full = Await(ct => connection.Client.GetCheckpointAsync(connection.AgentId, id, ct));
                var diff = Await(ct => connection.Client.CompareCheckpointsAsync(connection.AgentId, id, null, ct));
                var baseline = new Baseline(complete: true);
                foreach (var snapshotEntry in full.Snapshot?.IndexEntries ?? Array.Empty<IndexEntry>())
                {
                    baseline.Record(snapshotEntry.Key, new Known(snapshotEntry.Category, IndexMetadata.FingerprintOf(snapshotEntry.Metadata), snapshotEntry.ParentKey));
                }
                foreach (string removed in diff.IndexRemoved)
                {
                    baseline.Forget(removed);
                }
                var modules = new List<(string Key, string Summary)>();
                foreach (string changed in diff.IndexAdded.Concat(diff.IndexModified).Distinct(StringComparer.Ordinal))
                {
                    var live = FetchEntry(connection, changed);
                    if (live is null)
                    {
                        baseline.Forget(changed);
                        continue;
                    }
                    baseline.Record(changed, new Known(live.Category, IndexMetadata.FingerprintOf(live.Metadata), live.ParentKey) { Live = true });
                    if (live.Category == "module")
                    {
                        modules.Add((live.Key, live.Summary));
                    }
                }
                // A rollup made since the checkpoint links its children without changing them, so the diff does not
                // name them: the live rollup summaries ("[key] summary" lines) do.
                foreach (var (moduleKey, summary) in modules)
                {
                    foreach (string child in IndexMetadata.KeysNamedBy(summary, baseline.Keys))
                    {
                        baseline.Relink(child, moduleKey);
                    }
                }
                WriteVerbose($"Baseline: checkpoint {id} with {full.Snapshot?.IndexEntries.Length ?? 0} entries, {diff.IndexAdded.Length + diff.IndexModified.Length} changed and {diff.IndexRemoved.Length} removed since.");
                return baseline;
            }
            catch (Exception ex) when (ex is AgentMailboxException && !(ex is AgentMailboxConnectionException))
            {
                var record = CreateErrorRecord(ex, ErrorIds.IndexBaselineUnavailable, connection.AgentId);
                WriteWarning($"The newest checkpoint could not be used as a baseline ({record.Exception.Message}); each key is read from the server instead.");
                return new Baseline(complete: false);
            }
        }

        private IndexEntry? FetchEntry(Connection connection, string key)
        {
            try
            {
                return Await(ct => connection.Client.GetIndexEntryAsync(connection.AgentId, key, ct));
            }
            catch (AgentMailboxNotFoundException)
            {
                return null;
            }
        }

        #endregion

        #region Baseline

        /// <summary>What one input's request did: skipped (unchanged) or sent, and the parent its entry had.</summary>
        private sealed class Outcome
        {
            public Outcome(bool skipped, string? parentKey)
            {
                Skipped = skipped;
                ParentKey = parentKey;
            }

            public bool Skipped { get; }
            public string? ParentKey { get; }
        }

        /// <summary>What the server holds for one key, as far as incremental indexing needs it.</summary>
        private sealed class Known
        {
            public Known(string category, string? fingerprint, string? parentKey)
            {
                Category = category;
                Fingerprint = fingerprint;
                ParentKey = parentKey;
            }

            public string Category { get; }
            public string? Fingerprint { get; }
            public string? ParentKey { get; set; }

            /// <summary>Read from the live entry (not from the checkpoint), so its parent is certain.</summary>
            public bool Live { get; set; }
        }

        /// <summary>
        /// The server's index as this invocation knows it. Complete when it came from a checkpoint and its diff. Requests
        /// on worker threads read and record keys in it (each key by one request at a time), so it takes a lock.
        /// </summary>
        private sealed class Baseline
        {
            private readonly object _gate = new object();
            private readonly Dictionary<string, Known?> _entries = new Dictionary<string, Known?>(StringComparer.Ordinal);
            private readonly List<string> _order = new List<string>();
            private readonly HashSet<string> _ordered = new HashSet<string>(StringComparer.Ordinal);

            public Baseline(bool complete) => Complete = complete;

            public bool Complete { get; }

            /// <summary>The keys known now (a copy).</summary>
            public ICollection<string> Keys
            {
                get
                {
                    lock (_gate)
                    {
                        return new List<string>(_entries.Keys);
                    }
                }
            }

            public bool TryGet(string key, out Known? known)
            {
                lock (_gate)
                {
                    return _entries.TryGetValue(key, out known);
                }
            }

            /// <summary>
            /// Gives a key its place in the order of <see cref="ChildrenOf"/> before anything is known of it, so keys
            /// first learned by this command's reads take input order, whichever read finishes first.
            /// </summary>
            public void Reserve(string key)
            {
                lock (_gate)
                {
                    if (_ordered.Add(key))
                    {
                        _order.Add(key);
                    }
                }
            }

            public void Record(string key, Known? known)
            {
                lock (_gate)
                {
                    if (_ordered.Add(key))
                    {
                        _order.Add(key);
                    }
                    _entries[key] = known;
                }
            }

            public void Forget(string key)
            {
                lock (_gate)
                {
                    _entries.Remove(key);
                }
            }

            public void Relink(string key, string parentKey)
            {
                lock (_gate)
                {
                    if (_entries.TryGetValue(key, out var known) && known is not null && !known.Live)
                    {
                        known.ParentKey = parentKey;
                    }
                }
            }

            /// <summary>The keys whose parent is <paramref name="parentKey"/>, in the order they became known.</summary>
            public List<string> ChildrenOf(string parentKey)
            {
                lock (_gate)
                {
                    var children = new List<string>();
                    foreach (string key in _order)
                    {
                        if (_entries.TryGetValue(key, out var known) && known is not null && known.ParentKey == parentKey)
                        {
                            children.Add(key);
                        }
                    }
                    return children;
                }
            }
        }

        #endregion
    }
}
