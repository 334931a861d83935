using System;
using System.Management.Automation;

namespace AgentMailbox.PowerShell.Commands
{
    /// <summary>
    /// Creates or replaces a node of the agent's context graph. Every parameter binds by property name, so rows of
    /// <c>Import-Csv</c> and the nodes of another agent's <c>Search-AgentGraph</c> pipe in.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "AgentGraphNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(GraphNode))]
    public sealed class SetAgentGraphNodeCommand : AgentMailboxRequestCmdlet
    {
        private ThrottledRequests<GraphNode>? _upserts;

        #region Parameters

        /// <summary>The node's id, unique per agent; upserting an existing id replaces that node.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Id { get; set; } = "";

        /// <summary>message, file, symbol, decision or task.</summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateSet("message", "file", "symbol", "decision", "task")]
        public string Type { get; set; } = "";

        /// <summary>The node's name; Search-AgentGraph matches it.</summary>
        [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "";

        /// <summary>An optional description; Search-AgentGraph matches it too.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        [AllowEmptyString]
        public string? Description { get; set; }

        /// <summary>Free-form data, a JSON object; or a script block run for each input with $_ bound to it.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Metadata { get; set; }

        /// <summary>Outputs the node as the server stores it.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>
        /// How many upserts may be in flight at once (1 to 64; default 1, one after another). Outputs still come out in
        /// input order, and inputs for the same node id are sent one after another in input order (the last one wins).
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>The piped object, for a script-block -Metadata.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        [AllowNull]
        public PSObject? InputObject { get; set; }

        #endregion

        #region Overrides

        protected override void BeginProcessing()
            => _upserts = StartRequests<GraphNode>(ThrottleLimit, new CommandProgress(this, "Set-AgentGraphNode", "set"));

        protected override void ProcessRecord()
        {
            var connection = CurrentConnection;
            var upserts = _upserts!;
            string id = Id;
            string name = Name;
            string? description = Description;
            bool passThru = PassThru;
            string type = ContextInput.Canonical(ContextVocabulary.NodeTypes, Type);
            object? target = InputObject ?? (object)Id;
            bool isScript = PSJsonValueConverter.Unwrap(Metadata, out _) is ScriptBlock;
            object? metadata = null;
            if (!isScript)
            {
                try
                {
                    metadata = ContextInput.Metadata(Metadata, nameof(Metadata));
                }
                catch (ArgumentException ex)
                {
                    upserts.Post(() => WriteFailure(ex, ErrorIds.InvalidMetadata, target));
                    return;
                }
            }

            // Asked before a script-block -Metadata runs, so that under -WhatIf it does not run either.
            if (!ShouldProcess($"node {id} ({type}) of {connection.AgentId}", "Set graph node"))
            {
                return;
            }
            if (isScript)
            {
                try
                {
                    metadata = ContextInput.Metadata(ResolvePayload(Metadata, InputObject), nameof(Metadata));
                }
                catch (ArgumentException ex)
                {
                    upserts.Post(() => WriteFailure(ex, ErrorIds.InvalidMetadata, target));
                    return;
                }
                catch (Exception ex) when (IsReportable(ex))
                {
                    upserts.Post(() => WriteFailure(ex, ErrorIds.MetadataScriptFailed, target));
                    return;
                }
            }

            // The node as output keeps the metadata as given; the one sent carries it converted on this thread.
            var node = new GraphNode(id, type, name, description, metadata);
            object? wireMetadata;
            try
            {
                wireMetadata = upserts.Detach(metadata);
            }
            catch (Exception ex) when (IsReportable(ex))
            {
                upserts.Post(() => WriteFailure(ex, ErrorIds.InvalidMetadata, target));
                return;
            }
            var wire = upserts.IsConcurrent ? new GraphNode(id, type, name, description, wireMetadata) : node;
            upserts.Submit("node\n" + id, ct => connection.Client.SetGraphNodeAsync(connection.AgentId, wire, ct),
                _ =>
                {
                    if (passThru)
                    {
                        // The server stores {} when no metadata is sent, and reads give it back as an empty object.
                        WriteObject(metadata is null ? new GraphNode(id, type, name, description, new PSObject()) : node);
                    }
                },
                ex => WriteFailure(ex, ErrorIds.SetGraphNodeFailed, target));
        }

        protected override void EndProcessing() => _upserts?.Complete();

        #endregion
    }
}
