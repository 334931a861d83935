BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Get-AgentInbox' {
    BeforeAll {
        $script:reader = New-TestAgentId reader
        $senders = 1..3 | ForEach-Object { Connect-AgentMailbox (New-TestAgentId "sender$_") -Server $server.Uri -PassThru }
        foreach ($i in 1..30) {
            Send-AgentMessage -Connection $senders[$i % 3] -To $reader -Payload @{ seq = $i } -ContextSnapshot @{ at = $i } | Out-Null
        }
        $script:readerConnection = Connect-AgentMailbox $reader -Server $server.Uri -PassThru
    }
    BeforeEach { Clear-MockFault $server }

    It 'outputs typed messages with PSCustomObject payloads, oldest first' {
        $all = @(Get-AgentInbox -Connection $readerConnection)
        $all.Count | Should -Be 30
        $all[0] | Should -BeOfType ([AgentMailbox.InboxMessage])
        $all[0].Payload | Should -BeOfType ([System.Management.Automation.PSCustomObject])
        $all.Payload.seq | Should -Be (1..30)
        $all[0].Timestamp.Offset | Should -Be ([TimeSpan]::Zero)
    }

    It 'converts a payload once: the object read is the object kept, changes included, in every runspace' {
        # Payloads and snapshots are converted when first read (README "One-shot jobs"); a getter that converted on
        # every read would lose the change below and give each runspace its own object.
        $all = @(Get-AgentInbox -Connection $readerConnection)
        $message = $all[4]
        $message.Payload.seq = 'changed'
        $message.Payload.seq | Should -Be 'changed'
        $message.Context.Snapshot | Should -BeOfType ([System.Management.Automation.PSCustomObject])
        # First read in other runspaces: each adds a property, and all of them land on the one object.
        $fresh = $all[6]
        1..3 | ForEach-Object -Parallel { ($using:fresh).Payload | Add-Member -NotePropertyName "p$_" -NotePropertyValue $_ } -ThrottleLimit 1
        @($fresh.Payload.p1, $fresh.Payload.p2, $fresh.Payload.p3, $fresh.Payload.seq) | Should -Be @(1, 2, 3, 7)
        $recent = $message.Context.RecentMessages | Select-Object -Last 1
        $recent.Payload | Should -BeOfType ([System.Management.Automation.PSCustomObject])
        $recent.ContextSnapshot.at | Should -Be $all[4].Context.Snapshot.at
        $all.Payload.seq | Should -Be (@(1..4) + 'changed' + @(6..30))
    }

    It 'writes each message as it is decoded, so Select-Object -First 1 returns while the body is still arriving' {
        # The server sends half of the inbox and holds the rest for minutes: only a cmdlet that writes each message
        # as it is decoded returns; one that buffered the body would time out on the held half, with nothing out.
        $patient = Connect-AgentMailbox $reader -Server $server.Uri -TimeoutSec 30 -PassThru
        Add-MockFault $server -Path '/mailbox/*' -Method GET -Action stall-mid-body | Out-Null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $first = Get-AgentInbox -Connection $patient -ErrorVariable failures -ErrorAction SilentlyContinue | Select-Object -First 1
        $watch.Stop()
        $failures | Should -BeNullOrEmpty
        $first.Payload.seq | Should -Be 1
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 20 -Because 'the rest of the body is held for 5 minutes and the connection times out at 30 s'
        $patient | Disconnect-AgentMailbox
    }

    It 'marks nothing read' {
        @(Get-AgentInbox -Connection $readerConnection).Count | Should -Be 30
        @(Get-AgentInbox -Connection $readerConnection).Count | Should -Be 30
    }

    It 'stops promptly on Ctrl+C while the server is slow' {
        Add-MockFault $server -Path '/mailbox/*' -Method GET -DelayMs 30000 | Out-Null
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$(Get-BuiltModulePath)'; Connect-AgentMailbox stopper -Server '$($server.Uri)'; Get-AgentInbox")
        Clear-MockRequest $server
        $async = $ps.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while ([DateTime]::UtcNow -lt $deadline -and -not @(Get-MockRequest $server -PathLike '/mailbox/*').Count) { Start-Sleep -Milliseconds 50 }
        Start-Sleep -Milliseconds 300
        $async.IsCompleted | Should -BeFalse
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $watch.Stop()
        # The README's promise: Ctrl+C ends any cmdlet within a second (the Stop() call returns when the pipeline has stopped).
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $ps.Dispose()
    }

    It 'reports a timeout as OperationTimeout' {
        $quick = Connect-AgentMailbox $reader -Server $server.Uri -TimeoutSec 1 -PassThru
        Add-MockFault $server -Path '/mailbox/*' -Method GET -DelayMs 5000 | Out-Null
        Get-AgentInbox -Connection $quick -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $failures[0].FullyQualifiedErrorId | Should -Be 'GetInboxFailed,AgentMailbox.PowerShell.Commands.GetAgentInboxCommand'
    }

    It 'reports an HTML error page with its text' {
        Add-MockFault $server -Path '/mailbox/*' -Method GET -Status 404 -ContentType 'text/html' -Body '<!DOCTYPE html><html><body><pre>Cannot GET /mailbox/x/unread</pre></body></html>' | Out-Null
        Get-AgentInbox -Connection $readerConnection -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].Exception.Message | Should -Match 'Cannot GET /mailbox/x/unread'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Invoke-AgentReplyAll' {
    BeforeAll {
        $script:alice = Connect-AgentMailbox (New-TestAgentId alice) -Server $server.Uri -PassThru
        $script:bobId = New-TestAgentId bob
        $script:bob = Connect-AgentMailbox $bobId -Server $server.Uri -PassThru
    }
    BeforeEach { Clear-MockRequest $server }

    It 'pipes inbox messages in by ThreadId and runs a script-block payload per message' {
        1..2 | ForEach-Object { Send-AgentMessage -Connection $alice -To $bobId -Payload @{ task = "t$_" } } | Out-Null
        $replies = Get-AgentInbox -Connection $bob | Invoke-AgentReplyAll -Connection $bob -Payload { @{ result = "done: $($_.Payload.task)" } }
        $replies.Count | Should -Be 2
        $bodies = @(Get-MockRequest $server '/messages/reply-all') | ForEach-Object { $_.body | ConvertFrom-Json }
        $bodies.payload.result | Should -Be @('done: t1', 'done: t2')
        $bodies.from | Select-Object -Unique | Should -Be $bobId
    }

    It 'sends nothing under -WhatIf' {
        $sent = Send-AgentMessage -Connection $alice -To $bobId -Payload 'x'
        Clear-MockRequest $server
        $sent | Invoke-AgentReplyAll -Connection $bob -Payload 'y' -WhatIf | Should -BeNullOrEmpty
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'requires -ThreadId and -Payload' {
        $parameters = (Get-Command Invoke-AgentReplyAll).Parameters
        $parameters.ThreadId.Attributes.Where({ $_ -is [Parameter] }).Mandatory | Should -Contain $true
        $parameters.Payload.Attributes.Where({ $_ -is [Parameter] }).Mandatory | Should -Contain $true
    }
}
