using System;
using System.Collections.Generic;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Rolls index entries up into a module entry: collects the keys of all its input and makes one rollup at the
    /// end (the server takes 1 to 500 keys), then outputs the module entry as the server holds it.
    /// </summary>
    [Cmdlet(VerbsData.Merge, "AgentIndexEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(IndexEntry))]
    public sealed class MergeAgentIndexEntryCommand : AgentMailboxRequestCmdlet
    {
        private readonly List<string> _keys = new List<string>();
        private readonly HashSet<string> _seen = new HashSet<string>(StringComparer.Ordinal);

        #region Parameters

        /// <summary>The module entry to make or rewrite; its summary lists the entries' summaries, one "[key] summary" line each.</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string ModuleKey { get; set; } = "";

        /// <summary>The entries to roll up; plain strings pipe in by value, index entries by their Key property.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Key { get; set; } = Array.Empty<string>();

        #endregion

        #region Overrides

        protected override void ProcessRecord()
        {
            foreach (string key in Key)
            {
                if (_seen.Add(key))
                {
                    _keys.Add(key);
                }
            }
        }

        protected override void EndProcessing()
        {
            var connection = CurrentConnection;
            if (_keys.Count > ContextVocabulary.MaxRollupKeys)
            {
                var error = new ArgumentException(
                    $"A rollup takes 1 to {ContextVocabulary.MaxRollupKeys} keys; {_keys.Count} distinct keys were given. Roll up smaller groups (for example one per directory), then roll those modules up.",
                    nameof(Key));
                WriteError(new ErrorRecord(error, ErrorIds.InvalidRollupKeys, ErrorCategory.InvalidArgument, ModuleKey));
                return;
            }
            if (_keys.Count == 0)
            {
                return;
            }
            if (!ShouldProcess($"module entry '{ModuleKey}'", $"Roll up {_keys.Count} index entries for {connection.AgentId}"))
            {
                return;
            }
            try
            {
                var entry = Await(async ct =>
                {
                    await connection.Client.MergeIndexEntriesAsync(connection.AgentId, ModuleKey, _keys, ct).ConfigureAwait(false);
                    return await connection.Client.GetIndexEntryAsync(connection.AgentId, ModuleKey, ct).ConfigureAwait(false);
                });
                WriteObject(IndexMetadata.Strip(entry));
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                WriteFailure(ex, ErrorIds.MergeIndexEntryFailed, ModuleKey);
            }
        }

        #endregion
    }
}
