BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Get-AgentThread' {
    BeforeAll {
        $script:meId = New-TestAgentId me
        $script:me = Connect-AgentMailbox $meId -Server $server.Uri -PassThru
        # 230 distinct peers give 230 threads: three pages of 100.
        $script:sent = 1..230 | ForEach-Object { Send-AgentMessage -Connection $me -To "peer-$_-$meId" -Payload $_ }
    }

    It 'walks every page of the mailbox, each thread once' {
        Clear-MockRequest $server
        $threads = @(Get-AgentThread -Connection $me)
        $threads.Count | Should -Be 230
        ($threads.Id | Select-Object -Unique).Count | Should -Be 230
        ($threads.Id | Sort-Object) | Should -Be ($sent.ThreadId | Sort-Object)
        $threads[0] | Should -BeOfType ([AgentMailbox.AgentThread])
        @(Get-MockRequest $server '/mailbox/*').Count | Should -Be 3
    }

    It 'pages with -First and -Skip, and stops requesting once -First is met' {
        $all = @(Get-AgentThread -Connection $me)
        Clear-MockRequest $server
        $page = @(Get-AgentThread -Connection $me -Skip 5 -First 3)
        $page.Id | Should -Be $all[5..7].Id
        @(Get-MockRequest $server '/mailbox/*').Count | Should -Be 1
    }

    It 'reports the total with -IncludeTotalCount, also when -First ends the listing on the first page' {
        $output = @(Get-AgentThread -Connection $me -First 300 -IncludeTotalCount)
        $total = $output | Where-Object { $_ -isnot [AgentMailbox.AgentThread] }
        $total | Should -Match '230'
        Clear-MockRequest $server
        $output = @(Get-AgentThread -Connection $me -First 3 -IncludeTotalCount)
        @($output | Where-Object { $_ -is [AgentMailbox.AgentThread] }).Count | Should -Be 3
        $output | Where-Object { $_ -isnot [AgentMailbox.AgentThread] } | Should -Match '230'
        @(Get-MockRequest $server '/mailbox/*').Count | Should -Be 1
    }

    It 'gets threads by id, from the pipeline too, and goes on past a missing one' {
        $missing = [guid]::NewGuid().ToString()
        $ids = @($sent[0].ThreadId, $missing, $sent[1].ThreadId)
        $threads = $ids | ForEach-Object { [pscustomobject]@{ ThreadId = $_ } } |
            Get-AgentThread -Connection $me -ErrorVariable failures -ErrorAction SilentlyContinue
        @($threads).Id | Should -Be @($sent[0].ThreadId, $sent[1].ThreadId)
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'ThreadNotFound,AgentMailbox.PowerShell.Commands.GetAgentThreadCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -Be $missing
    }

    It 'exposes ThreadId as an alias of Id, so threads pipe into the thread cmdlets' {
        $thread = Get-AgentThread -Connection $me -ThreadId $sent[0].ThreadId
        $thread.ThreadId | Should -Be $thread.Id
        ($thread | Get-AgentThreadContext -Connection $me).RecentMessages.Count | Should -Be 1
    }
}

Describe 'Get-AgentThreadContext, Get-AgentThreadParticipant and Set-AgentThreadRead' {
    BeforeAll {
        $script:aId = New-TestAgentId a; $script:bId = New-TestAgentId b; $script:cId = New-TestAgentId c; $script:dId = New-TestAgentId d
        $script:a = Connect-AgentMailbox $aId -Server $server.Uri -PassThru
        $script:b = Connect-AgentMailbox $bId -Server $server.Uri -PassThru
        $script:d = Connect-AgentMailbox $dId -Server $server.Uri -PassThru
        $script:msg = Send-AgentMessage -Connection $a -To $bId -Cc $cId -Bcc $dId -Payload 'p' -ContextSnapshot @{ step = 'one' }
    }

    It 'has the Sync-AgentThread alias' {
        (Get-Alias Sync-AgentThread).ResolvedCommandName | Should -Be 'Get-AgentThreadContext'
    }

    It 'outputs the thread context with its snapshot and recent messages' {
        $context = $msg | Sync-AgentThread -Connection $b -Recent 5
        $context | Should -BeOfType ([AgentMailbox.ThreadContext])
        $context.Snapshot.step | Should -Be 'one'
        $context.RecentMessages[0].Payload | Should -Be 'p'
        $context.TokenCount | Should -BeGreaterThan 0
    }

    It 'shows roles, with bcc only to the agent that bcc''d and to the bcc recipient' {
        $asSender = @($msg | Get-AgentThreadParticipant -Connection $a)
        ($asSender | Where-Object AgentId -eq $dId).Role | Should -Be ([AgentMailbox.ParticipantRole]::Bcc)
        ($asSender | Where-Object AgentId -eq $cId).Role | Should -Be 'Cc'
        ($asSender | Where-Object AgentId -eq $bId).Role | Should -Be 'To'
        $asRecipient = @($msg | Get-AgentThreadParticipant -Connection $b)
        $asRecipient.AgentId | Should -Not -Contain $dId
        $asHidden = @($msg | Get-AgentThreadParticipant -Connection $d)
        ($asHidden | Where-Object AgentId -eq $dId).Role | Should -Be 'Bcc'
    }

    It 'marks a thread read, outputting its id only with -PassThru' {
        @(Get-AgentInbox -Connection $b).Count | Should -Be 1
        $msg | Set-AgentThreadRead -Connection $b | Should -BeNullOrEmpty
        @(Get-AgentInbox -Connection $b).Count | Should -Be 0
        Set-AgentThreadRead -Connection $d -ThreadId $msg.ThreadId -PassThru | ForEach-Object ThreadId | Should -Be $msg.ThreadId
    }

    It 'marks nothing under -WhatIf' {
        $again = Send-AgentMessage -Connection $a -To $bId -Cc $cId -Payload 'again'
        Set-AgentThreadRead -Connection $b -ThreadId $again.ThreadId -WhatIf
        @(Get-AgentInbox -Connection $b).Count | Should -Be 1
    }
}

Describe 'Wait-AgentMessage' {
    BeforeAll {
        $script:aId = New-TestAgentId waiter-a; $script:bId = New-TestAgentId waiter-b
        $script:a = Connect-AgentMailbox $aId -Server $server.Uri -PassThru
        $script:b = Connect-AgentMailbox $bId -Server $server.Uri -PassThru
    }

    It 'returns at once when a matching message is already unread, marking nothing' {
        Send-AgentMessage -Connection $a -To $bId -Payload 'ready' | Out-Null
        $got = @(Wait-AgentMessage -Connection $b -From $aId -TimeoutSec 5)
        $got.Payload | Should -Be @('ready')
        @(Get-AgentInbox -Connection $b).Count | Should -Be 1
        Receive-AgentMessage -Connection $b | Out-Null
    }

    It 'returns when another process sends' {
        $job = Start-ThreadJob -ScriptBlock {
            param($module, $uri, $from, $to)
            Import-Module $module
            Start-Sleep -Milliseconds 1500
            $c = Connect-AgentMailbox $from -Server $uri -PassThru
            Send-AgentMessage -Connection $c -To $to -Payload 'late'
        } -ArgumentList (Get-BuiltModulePath), $server.Uri, $aId, $bId
        try {
            $got = @(Wait-AgentMessage -Connection $b -From $aId -TimeoutSec 20 -PollIntervalSec 0.5)
            $got.Payload | Should -Be @('late')
        }
        finally { $job | Wait-Job | Remove-Job -Force }
        Receive-AgentMessage -Connection $b | Out-Null
    }

    It 'polls with the context window given by -Recent' {
        1..3 | ForEach-Object { Send-AgentMessage -Connection $a -To $bId -Payload $_ } | Out-Null
        Clear-MockRequest $server
        $got = @(Wait-AgentMessage -Connection $b -From $aId -Recent 2 -TimeoutSec 5)
        $got.Count | Should -Be 3
        $got[2].Context.RecentMessages.Count | Should -Be 2
        (Get-MockRequest $server '*/unread')[0].query | Should -Be 'recent=2'
        Receive-AgentMessage -Connection $b | Out-Null
    }

    It 'writes an OperationTimeout error and outputs nothing on timeout' {
        $got = Wait-AgentMessage -Connection $b -From $aId -TimeoutSec 1 -PollIntervalSec 0.2 -ErrorVariable failures -ErrorAction SilentlyContinue
        $got | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $failures[0].FullyQualifiedErrorId | Should -Be 'WaitTimedOut,AgentMailbox.PowerShell.Commands.WaitAgentMessageCommand'
    }

    It 'stops at once on Ctrl+C' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-BuiltModulePath)'; `$c = Connect-AgentMailbox waiter-stop -Server '$($server.Uri)' -PassThru; Wait-AgentMessage -Connection `$c -PollIntervalSec 30")
        $null = $ps.BeginInvoke()
        Start-Sleep -Milliseconds 1500
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        # The README's promise: Ctrl+C ends any cmdlet within a second.
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()
    }
}
