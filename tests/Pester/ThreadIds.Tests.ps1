<#
    Thread ids as strings: the thread cmdlets take plain strings from the pipeline by value, arrays positionally,
    and objects by their ThreadId property; output keeps input order and an unknown id is an error for that id alone.
#>
BeforeDiscovery {
    $readers = @(
        @{ Cmdlet = 'Get-AgentThread'; Type = 'AgentMailbox.AgentThread'; ErrorId = 'ThreadNotFound,AgentMailbox.PowerShell.Commands.GetAgentThreadCommand' }
        @{ Cmdlet = 'Get-AgentThreadContext'; Type = 'AgentMailbox.ThreadContext'; ErrorId = 'ThreadNotFound,AgentMailbox.PowerShell.Commands.GetAgentThreadContextCommand' }
        @{ Cmdlet = 'Get-AgentThreadParticipant'; Type = 'AgentMailbox.ThreadParticipant'; ErrorId = 'ThreadNotFound,AgentMailbox.PowerShell.Commands.GetAgentThreadParticipantCommand' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    $script:meId = New-TestAgentId ids-me
    $script:peerId = New-TestAgentId ids-peer
    $script:peer = Connect-AgentMailbox $peerId -Server $server.Uri -PassThru
    $script:me = Connect-AgentMailbox $meId -Server $server.Uri -PassThru
    # Three threads, each with its own participant set.
    $script:sent = @(1..3 | ForEach-Object { Send-AgentMessage -Connection $peer -To $meId -Cc "cc$_-$meId" -Payload $_ })
    $script:ids = [string[]]$sent.ThreadId
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe '<Cmdlet> takes thread ids as strings' -ForEach $readers {
    It 'binds strings piped by value, in input order' {
        $got = @($ids[2], $ids[0], $ids[1] | & $Cmdlet -Connection $me)
        $got | ForEach-Object { $_ | Should -BeOfType ([type]$Type) }
        @($got.ThreadId | Select-Object -Unique) | Should -Be @($ids[2], $ids[0], $ids[1])
    }

    It 'binds an array positionally, in input order' {
        $got = @(& $Cmdlet -Connection $me $ids[1], $ids[2])
        @($got.ThreadId | Select-Object -Unique) | Should -Be @($ids[1], $ids[2])
    }

    It 'still binds a piped message by its ThreadId property, not as a string' {
        $inbox = @(Get-AgentInbox -Connection $me | Where-Object ThreadId -EQ $ids[0])
        $inbox.Count | Should -Be 1
        $got = @($inbox | & $Cmdlet -Connection $me)
        @($got.ThreadId | Select-Object -Unique) | Should -Be @($ids[0]) -Because 'an InboxMessage whose ToString() is its message id must bind by ThreadId'
    }

    It 'writes a non-terminating ObjectNotFound error for an unknown id and goes on with the next' {
        $missing = "missing-$([Guid]::NewGuid().ToString('N'))"
        $got = @($ids[0], $missing, $ids[1] | & $Cmdlet -Connection $me -ErrorVariable failures -ErrorAction SilentlyContinue)
        @($got.ThreadId | Select-Object -Unique) | Should -Be @($ids[0], $ids[1])
        $failures.Count | Should -Be 1
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $missing
        $failures[0].FullyQualifiedErrorId | Should -Be $ErrorId
    }

    It 'outputs objects that pipe on into Get-AgentThread' {
        $got = @($ids[1] | & $Cmdlet -Connection $me | Get-AgentThread -Connection $me)
        $got.Count | Should -BeGreaterThan 0
        @($got.Id | Select-Object -Unique) | Should -Be @($ids[1])
    }
}

Describe 'Set-AgentThreadRead takes thread ids as strings' {
    It 'marks the threads of strings piped by value and outputs a ThreadReadResult for each with -PassThru' {
        $t = @(1..2 | ForEach-Object { (Send-AgentMessage -Connection $peer -To $meId -Cc "read$_-$meId" -Payload $_).ThreadId })
        $got = @($t[1], $t[0] | Set-AgentThreadRead -Connection $me -PassThru)
        $got | ForEach-Object { $_ | Should -BeOfType ([AgentMailbox.ThreadReadResult]) }
        $got.ThreadId | Should -Be @($t[1], $t[0])
        $got.AgentId | Select-Object -Unique | Should -Be $meId
        @(Get-AgentInbox -Connection $me).ThreadId | Should -Not -Contain $t[0]
        @(Get-AgentInbox -Connection $me).ThreadId | Should -Not -Contain $t[1]
    }

    It 'marks an array given positionally, and its -PassThru output pipes into Get-AgentThread' {
        $t = @(1..2 | ForEach-Object { (Send-AgentMessage -Connection $peer -To $meId -Cc "pos$_-$meId" -Payload $_).ThreadId })
        $threads = @(Set-AgentThreadRead -Connection $me $t[0], $t[1] -PassThru | Get-AgentThread -Connection $me)
        $threads.Id | Should -Be $t
        @(Get-AgentInbox -Connection $me).ThreadId | Where-Object { $_ -in $t } | Should -BeNullOrEmpty
    }

    It 'reports an unknown id as ObjectNotFound with the id as its target, marks nothing for it, and goes on' {
        $t = (Send-AgentMessage -Connection $peer -To $meId -Cc "unknown-$meId" -Payload 'u').ThreadId
        $missing = [Guid]::NewGuid().ToString()
        Clear-MockRequest $server
        $got = @($missing, $t | Set-AgentThreadRead -Connection $me -PassThru -ErrorVariable failed -ErrorAction SilentlyContinue)
        $got.ThreadId | Should -Be @($t)
        $failed.Count | Should -Be 1
        $failed[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ThreadNotFound,*'
        $failed[0].TargetObject | Should -Be $missing
        @(Get-MockRequest $server -PathLike '*/read').Count | Should -Be 1 -Because 'the unknown thread is not marked'
        @(Get-AgentInbox -Connection $me).ThreadId | Should -Not -Contain $t
    }

    It 'shows a ThreadReadResult as a table with ThreadId and AgentId' {
        $text = Set-AgentThreadRead -Connection $me $ids[0] -PassThru | Out-String
        $text | Should -Match 'ThreadId\s+AgentId'
        $text | Should -Match ([regex]::Escape($ids[0]))
    }
}

Describe 'ThreadContext and ThreadParticipant carry ThreadId' {
    It 'sets ThreadId on the context of a received message too' {
        $m = Send-AgentMessage -Connection $peer -To $meId -Cc "ctx-$meId" -Payload 'ctx'
        $inbox = @(Get-AgentInbox -Connection $me | Where-Object ThreadId -EQ $m.ThreadId)
        $inbox[0].Context.ThreadId | Should -Be $m.ThreadId
    }
}
