BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Receive-AgentMessage' {
    BeforeEach {
        $null = Invoke-RestMethod -Method Delete -Uri "$($server.Uri)/_mock/hooks"
        $script:aliceId = New-TestAgentId alice
        $script:bobId = New-TestAgentId bob
        $script:carolId = New-TestAgentId carol
        $script:alice = Connect-AgentMailbox $aliceId -Server $server.Uri -PassThru
        $script:carol = Connect-AgentMailbox $carolId -Server $server.Uri -PassThru
        $script:bob = Connect-AgentMailbox $bobId -Server $server.Uri -PassThru
    }

    It 'outputs the unread messages and marks their threads read' {
        $sent = 1..3 | ForEach-Object { Send-AgentMessage -Connection $alice -To $bobId -Payload @{ n = $_ } }
        $got = @(Receive-AgentMessage -Connection $bob)
        $got.Id | Should -Be $sent.MessageId
        $got[0] | Should -BeOfType ([AgentMailbox.InboxMessage])
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 0
    }

    It 'marks nothing with -Keep' {
        Send-AgentMessage -Connection $alice -To $bobId -Payload 1 | Out-Null
        @(Receive-AgentMessage -Connection $bob -Keep).Count | Should -Be 1
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 1
    }

    It 'leaves a thread unread when -From leaves some of its unread messages behind' {
        $thread = Send-AgentMessage -Connection $alice -To $bobId -Cc $carolId -Payload 'from alice'
        Send-AgentMessage -Connection $carol -To $bobId -ThreadId $thread.ThreadId -Payload 'from carol' | Out-Null
        $other = Send-AgentMessage -Connection $alice -To $bobId -Payload 'alice alone'
        $got = @(Receive-AgentMessage -Connection $bob -From $aliceId)
        $got.Payload | Should -Be @('from alice', 'alice alone')
        $left = @(Get-AgentInbox -Connection $bob)
        $left.Payload | Should -Be @('from alice', 'from carol')
        $left.ThreadId | Select-Object -Unique | Should -Be $thread.ThreadId
        $left.ThreadId | Should -Not -Contain $other.ThreadId
    }

    It 'outputs, exactly once, a message that arrives between reading and marking read' {
        $first = Send-AgentMessage -Connection $alice -To $bobId -Payload @{ seq = 1 }
        Send-AgentMessage -Connection $alice -To $bobId -Payload @{ seq = 2 } | Out-Null
        # The mock delivers this message just before it performs the next mark-read: the server's race.
        $hook = @{ agentId = $bobId; from = $aliceId; to = $bobId; threadId = $first.ThreadId; payload = @{ seq = 3 } } | ConvertTo-Json
        $null = Invoke-RestMethod -Method Post -Uri "$($server.Uri)/_mock/hooks/before-read" -ContentType 'application/json' -Body $hook

        $got = @(Receive-AgentMessage -Connection $bob)
        $got.Payload.seq | Should -Be @(1, 2, 3)
        ($got.Id | Select-Object -Unique).Count | Should -Be 3
        $got[2].Context.RecentMessages.Id | Should -Contain $got[2].Id -Because 'a recovered message carries its thread context too'
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 0
        @(Receive-AgentMessage -Connection $bob).Count | Should -Be 0
    }

    It 'asks for a smaller context window with -Recent' {
        1..3 | ForEach-Object { Send-AgentMessage -Connection $alice -To $bobId -Payload $_ } | Out-Null
        Clear-MockRequest $server
        $got = @(Receive-AgentMessage -Connection $bob -Recent 1)
        $got.Count | Should -Be 3
        $got | ForEach-Object { $_.Context.RecentMessages.Count | Should -Be 1 }
        (Get-MockRequest $server '*/unread')[0].query | Should -Be 'recent=1'
    }

    It 'marks nothing under -WhatIf' {
        Send-AgentMessage -Connection $alice -To $bobId -Payload 1 | Out-Null
        Receive-AgentMessage -Connection $bob -WhatIf | Out-Null
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 1
    }
}
