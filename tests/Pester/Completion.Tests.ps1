BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Tab completion' {
    It 'offers nothing, and quickly, when not connected' {
        Disconnect-AgentMailbox -ErrorAction SilentlyContinue
        $watch = [Diagnostics.Stopwatch]::StartNew()
        @(Get-Completion 'Get-AgentThread -ThreadId ').Count | Should -Be 0
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
    }

    Context 'when connected' {
        BeforeAll {
            $script:me = New-TestAgentId me
            $script:peer = "peer with space-$(New-TestAgentId p)"
            Connect-AgentMailbox $me -Server $server.Uri
            $script:sent = Send-AgentMessage -To $peer -Cc (New-TestAgentId watcher) -Payload 1
            $script:other = Send-AgentMessage -To (New-TestAgentId second) -Payload 2
        }

        It 'completes -ThreadId with the connection''s threads, filtered by what was typed' {
            $all = Get-Completion 'Get-AgentThread -ThreadId '
            $all.ListItemText | Should -Contain $sent.ThreadId
            $all.ListItemText | Should -Contain $other.ThreadId
            $prefix = $sent.ThreadId.Substring(0, 6)
            $some = Get-Completion "Set-AgentThreadRead -ThreadId $prefix"
            $some.ListItemText | Should -Contain $sent.ThreadId
            $some.ListItemText | ForEach-Object { $_ | Should -BeLike "$prefix*" }
            $some[0].ToolTip | Should -Match 'messages'
        }

        It 'completes agent ids from the threads'' participants, quoting ids that need it' {
            $agents = Get-Completion 'Send-AgentMessage -To '
            $agents.ListItemText | Should -Contain $peer
            ($agents | Where-Object ListItemText -eq $peer).CompletionText | Should -Be "'$peer'"
            (Get-Completion 'Get-AgentInbox -From peer').ListItemText | Should -Contain $peer
        }

        It 'uses the connection given with -Connection' {
            $otherId = New-TestAgentId elsewhere
            $connection = Connect-AgentMailbox $otherId -Server $server.Uri -PassThru
            Connect-AgentMailbox $me -Server $server.Uri
            $own = Send-AgentMessage -Connection $connection -To (New-TestAgentId x) -Payload 1
            $line = 'Get-AgentThread -Connection $connection -ThreadId '
            $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
            $offered.ListItemText | Should -Contain $own.ThreadId
            $offered.ListItemText | Should -Not -Contain $sent.ThreadId
        }
    }
}
