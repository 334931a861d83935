namespace AgentMailbox.PowerShell
{
    /// <summary>Stable error ids, one per failure site; the first part of every FullyQualifiedErrorId the module writes.</summary>
    internal static class ErrorIds
    {
        internal const string AgentMailboxNotConnected = nameof(AgentMailboxNotConnected);
        internal const string ConnectionClosed = nameof(ConnectionClosed);
        internal const string MissingAgentId = nameof(MissingAgentId);
        internal const string UnencryptedAuthentication = nameof(UnencryptedAuthentication);
        internal const string ConnectFailed = nameof(ConnectFailed);
        internal const string SendMessageFailed = nameof(SendMessageFailed);
        internal const string MissingRecipient = nameof(MissingRecipient);
        internal const string InvalidMessageInput = nameof(InvalidMessageInput);
        internal const string InvalidPayload = nameof(InvalidPayload);
        internal const string InvalidContextSnapshot = nameof(InvalidContextSnapshot);
        internal const string InvalidHandoff = nameof(InvalidHandoff);
        internal const string PayloadScriptFailed = nameof(PayloadScriptFailed);
        internal const string GetInboxFailed = nameof(GetInboxFailed);
        internal const string ReplyAllFailed = nameof(ReplyAllFailed);
        internal const string ThreadNotFound = nameof(ThreadNotFound);
        internal const string GetThreadFailed = nameof(GetThreadFailed);
        internal const string GetThreadContextFailed = nameof(GetThreadContextFailed);
        internal const string GetParticipantsFailed = nameof(GetParticipantsFailed);
        internal const string MarkReadFailed = nameof(MarkReadFailed);
        internal const string ReceiveFailed = nameof(ReceiveFailed);
        internal const string WaitFailed = nameof(WaitFailed);
        internal const string WaitTimedOut = nameof(WaitTimedOut);
        internal const string CheckpointFailed = nameof(CheckpointFailed);
        internal const string CheckpointNotFound = nameof(CheckpointNotFound);
        internal const string GetCheckpointFailed = nameof(GetCheckpointFailed);
        internal const string CompareCheckpointFailed = nameof(CompareCheckpointFailed);
        internal const string RestoreCheckpointFailed = nameof(RestoreCheckpointFailed);
        internal const string RemoveCheckpointFailed = nameof(RemoveCheckpointFailed);
        internal const string CheckpointHasChildren = nameof(CheckpointHasChildren);
        internal const string MergeBranchFailed = nameof(MergeBranchFailed);
        internal const string ContextBranchNotFound = nameof(ContextBranchNotFound);
        internal const string SetIndexEntryFailed = nameof(SetIndexEntryFailed);
        internal const string InvalidIndexEntryInput = nameof(InvalidIndexEntryInput);
        internal const string IndexEntryNotFound = nameof(IndexEntryNotFound);
        internal const string GetIndexEntryFailed = nameof(GetIndexEntryFailed);
        internal const string SearchIndexFailed = nameof(SearchIndexFailed);
        internal const string RemoveIndexEntryFailed = nameof(RemoveIndexEntryFailed);
        internal const string MergeIndexEntryFailed = nameof(MergeIndexEntryFailed);
        internal const string InvalidRollupKeys = nameof(InvalidRollupKeys);
        internal const string IndexBaselineUnavailable = nameof(IndexBaselineUnavailable);
        internal const string ParentRollupFailed = nameof(ParentRollupFailed);
        internal const string SetGraphNodeFailed = nameof(SetGraphNodeFailed);
        internal const string SetGraphEdgeFailed = nameof(SetGraphEdgeFailed);
        internal const string SearchGraphFailed = nameof(SearchGraphFailed);
        internal const string RemoveGraphNodeFailed = nameof(RemoveGraphNodeFailed);
        internal const string RemoveGraphEdgeFailed = nameof(RemoveGraphEdgeFailed);
        internal const string InvalidGraphInput = nameof(InvalidGraphInput);
        internal const string InvalidMetadata = nameof(InvalidMetadata);
        internal const string MetadataScriptFailed = nameof(MetadataScriptFailed);
        internal const string GetAgentCardFailed = nameof(GetAgentCardFailed);
        internal const string AgentNotFound = nameof(AgentNotFound);
        internal const string MissingServer = nameof(MissingServer);
    }
}
