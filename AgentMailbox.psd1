@{
    RootModule             = 'AgentMailbox.PowerShell.dll'
    ModuleVersion          = '{{ModuleVersion}}'
    CompatiblePSEditions   = @('Desktop', 'Core')
    GUID                   = '6f5c0f3e-2b7a-4d43-9d0e-5a8b1c2d7e41'
    Author                 = 'AgentMailbox for PowerShell contributors'
    CompanyName            = 'AgentMailbox for PowerShell'
    Copyright              = '(c) AgentMailbox for PowerShell contributors. MIT License.'
    Description            = 'PowerShell client of the AgentMailbox context-sync protocol for AI agents: mailboxes, threads with to/cc/bcc, and a context snapshot on every message.'
    # 5.1 for Windows PowerShell. PowerShell 7 needs 7.4 or later (.NET 8, for System.Text.Json 8): on 7.0-7.3 the
    # module refuses at import (RuntimeSupport in ModuleLifecycle.cs), as one minimum cannot say both here.
    PowerShellVersion      = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess       = @('AgentMailbox.Format.ps1xml')
    CmdletsToExport        = @(
        'Connect-AgentMailbox'
        'Disconnect-AgentMailbox'
        'Get-AgentMailboxConnection'
        'Test-AgentMailbox'
        'Send-AgentMessage'
        'Get-AgentInbox'
        'Invoke-AgentReplyAll'
        'Receive-AgentMessage'
        'Wait-AgentMessage'
        'Get-AgentThread'
        'Get-AgentThreadContext'
        'Get-AgentThreadParticipant'
        'Set-AgentThreadRead'
        'Checkpoint-AgentContext'
        'Get-AgentContextCheckpoint'
        'Compare-AgentContextCheckpoint'
        'Restore-AgentContextCheckpoint'
        'Remove-AgentContextCheckpoint'
        'Merge-AgentContextBranch'
        'Set-AgentIndexEntry'
        'Get-AgentIndexEntry'
        'Search-AgentIndex'
        'Remove-AgentIndexEntry'
        'Merge-AgentIndexEntry'
        'Set-AgentGraphNode'
        'Set-AgentGraphEdge'
        'Search-AgentGraph'
        'Remove-AgentGraphNode'
        'Remove-AgentGraphEdge'
        'Get-AgentCard'
    )
    FunctionsToExport      = @()
    VariablesToExport      = @()
    AliasesToExport        = @('Sync-AgentThread')
    PrivateData            = @{
        PSData = @{
            Tags         = @('AgentMailbox', 'agents', 'AI', 'messaging', 'context', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = '{{ModuleProjectUri}}'
            LicenseUri   = '{{ModuleLicenseUri}}'
            ReleaseNotes = '{{ModuleReleaseNotes}}'
            Prerelease   = '{{ModulePrerelease}}'
        }
    }
}
