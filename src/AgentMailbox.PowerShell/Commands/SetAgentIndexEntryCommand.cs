using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;

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
        }

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
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
                WriteFailure(ex, ErrorIds.InvalidIndexEntryInput, target);
                return;
            }

            // Asked before the script blocks run, so that under -WhatIf nothing runs and nothing is sent.
            if (!ShouldProcess($"index entry '{key}'", $"Set ({Category}) for {connection.AgentId}"))
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
                composed = IndexMetadata.Compose(Category, summary, metadata, contentHash);
                entry = new IndexEntry(key, Category, summary, composed.Wire);
            }
            catch (Exception ex) when (IsReportable(ex) || ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteFailure(ex, ex is RuntimeException ? ErrorIds.PayloadScriptFailed : ErrorIds.InvalidIndexEntryInput, target);
                return;
            }

            string? parentKey = null;
            if (Incremental)
            {
                Known? known;
                try
                {
                    known = Lookup(connection, key);
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    WriteFailure(ex, ErrorIds.SetIndexEntryFailed, target);
                    return;
                }
                parentKey = known?.ParentKey;
                if (known is not null && known.Fingerprint == composed.Fingerprint && known.Category == Category)
                {
                    _skipped++;
                    WriteVerbose($"Unchanged, not sent: '{key}'.");
                    Output(key, composed, entry.Summary, parentKey);
                    return;
                }
            }

            try
            {
                Await(ct => connection.Client.SetIndexEntryAsync(connection.AgentId, entry, ct));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.SetIndexEntryFailed, target);
                return;
            }
            _sent++;
            if (_baseline is not null)
            {
                _baseline.Record(key, new Known(Category, composed.Fingerprint, parentKey));
                if (parentKey is not null && !_affectedParents.Contains(parentKey))
                {
                    _affectedParents.Add(parentKey);
                }
            }
            Output(key, composed, entry.Summary, parentKey);
        }

        protected override void EndProcessing()
        {
            if (!Incremental)
            {
                return;
            }
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
        }

        #endregion

        #region Private methods

        private void Output(string key, IndexMetadata.Composed composed, string summary, string? parentKey)
        {
            if (PassThru)
            {
                WriteObject(new IndexEntry(key, Category, summary, composed.User) { ParentKey = parentKey });
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

        /// <summary>What the server holds for a key, from the baseline loaded on the first input; null when it has none.</summary>
        private Known? Lookup(Connection connection, string key)
        {
            _baseline ??= LoadBaseline(connection);
            if (_baseline.TryGet(key, out var known))
            {
                return known;
            }
            if (_baseline.Complete)
            {
                return null;
            }
            known = Fetch(connection, key);
            _baseline.Record(key, known);
            return known;
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

        private Known? Fetch(Connection connection, string key)
        {
            var live = FetchEntry(connection, key);
            return live is null ? null : new Known(live.Category, IndexMetadata.FingerprintOf(live.Metadata), live.ParentKey) { Live = true };
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

        /// <summary>The server's index as this invocation knows it. Complete when it came from a checkpoint and its diff.</summary>
        private sealed class Baseline
        {
            private readonly Dictionary<string, Known?> _entries = new Dictionary<string, Known?>(StringComparer.Ordinal);
            private readonly List<string> _order = new List<string>();

            public Baseline(bool complete) => Complete = complete;

            public bool Complete { get; }

            public ICollection<string> Keys => _entries.Keys;

            public bool TryGet(string key, out Known? known) => _entries.TryGetValue(key, out known);

            public void Record(string key, Known? known)
            {
                if (!_entries.ContainsKey(key))
                {
                    _order.Add(key);
                }
                _entries[key] = known;
            }

            public void Forget(string key) => _entries.Remove(key);

            public void Relink(string key, string parentKey)
            {
                if (_entries.TryGetValue(key, out var known) && known is not null && !known.Live)
                {
                    known.ParentKey = parentKey;
                }
            }

            /// <summary>The keys whose parent is <paramref name="parentKey"/>, in the order they became known.</summary>
            public List<string> ChildrenOf(string parentKey)
            {
                var children = new List<string>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (string key in _order)
                {
                    if (seen.Add(key) && _entries.TryGetValue(key, out var known) && known is not null && known.ParentKey == parentKey)
                    {
                        children.Add(key);
                    }
                }
                return children;
            }
        }

        #endregion
    }
}
