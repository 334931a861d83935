<#
    Receive-AgentMessage -Wait, the service loop: at least once, never lost. A thread is marked read only after its
    messages have passed through the whole rest of the pipeline. Checked against the mock server and the reference
    server (the loop relies on /unread, /read and the thread read-back behaving alike on both).
#>
BeforeDiscovery {
    $targets = @(@{ Kind = 'Mock' }, @{ Kind = 'Reference' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    Import-BuiltModule
}

Describe 'Receive-AgentMessage -Wait against the <Kind> server' -ForEach $targets {
    BeforeAll {
        $script:server = Start-AgentMailboxServer -Kind $Kind
    }
    AfterAll {
        Disconnect-AgentMailbox -ErrorAction SilentlyContinue
        $server | Stop-AgentMailboxServer
    }

    BeforeEach {
        $script:aliceId = New-TestAgentId alice
        $script:bobId = New-TestAgentId bob
        $script:carolId = New-TestAgentId carol
        $script:alice = Connect-AgentMailbox $aliceId -Server $server.Uri -PassThru
        $script:carol = Connect-AgentMailbox $carolId -Server $server.Uri -PassThru
        $script:bob = Connect-AgentMailbox $bobId -Server $server.Uri -PassThru
    }

    It 'ends cleanly under Select-Object -First 2, marking read exactly the threads it output' {
        # Three threads (the server picks a thread by its participant set, so each has its own cc).
        $sent = 1..3 | ForEach-Object { Send-AgentMessage -Connection $alice -To $bobId -Cc "cc$_-$bobId" -Payload $_ }
        ($sent.ThreadId | Select-Object -Unique).Count | Should -Be 3

        $got = @(Receive-AgentMessage -Connection $bob -Wait -PollIntervalSec 0.2 -ErrorVariable failures | Select-Object -First 2)

        $failures | Should -BeNullOrEmpty
        $got.Count | Should -Be 2
        $left = @(Get-AgentInbox -Connection $bob)
        $left.Count | Should -Be 1
        $left.ThreadId | Should -Not -BeIn $got.ThreadId
        @($got.Id) + @($left.Id) | Sort-Object | Should -Be ($sent.MessageId | Sort-Object)
    }

    It 'leaves a thread unread when Select-Object -First stops it in the middle of the thread' {
        $first = Send-AgentMessage -Connection $alice -To $bobId -Payload 'one'
        Send-AgentMessage -Connection $alice -To $bobId -ThreadId $first.ThreadId -Payload 'two' | Out-Null

        $got = @(Receive-AgentMessage -Connection $bob -Wait -PollIntervalSec 0.2 | Select-Object -First 1)

        $got.Payload | Should -Be 'one'
        @(Get-AgentInbox -Connection $bob).Payload | Should -Be @('one', 'two') -Because 'the second message never went through'
    }

    It 'outputs a message sent while it runs' {
        $job = Start-ThreadJob -ScriptBlock {
            param($module, $uri, $from, $to)
            Import-Module $module
            Start-Sleep -Milliseconds 1500
            $c = Connect-AgentMailbox $from -Server $uri -PassThru
            Send-AgentMessage -Connection $c -To $to -Payload 'late'
        } -ArgumentList (Get-BuiltModulePath), $server.Uri, $aliceId, $bobId
        try {
            $got = @(Receive-AgentMessage -Connection $bob -Wait -PollIntervalSec 0.2 | Select-Object -First 1)
            $got.Payload | Should -Be 'late'
        }
        finally { $job | Wait-Job | Remove-Job -Force }
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 0
    }

    It 'outputs a message that comes into the thread while its handler runs before it marks the thread read' {
        $first = Send-AgentMessage -Connection $alice -To $bobId -Payload 'first'
        $seen = [System.Collections.Generic.List[object]]::new()
        $got = @(Receive-AgentMessage -Connection $bob -Wait -PollIntervalSec 0.2 | ForEach-Object {
                if ($_.Payload -eq 'first') {
                    Send-AgentMessage -Connection $alice -To $bobId -ThreadId $first.ThreadId -Payload 'meanwhile' | Out-Null
                }
                else {
                    # While this message is handled, its thread must still be unread: a crash now loses nothing.
                    $seen.Add(@(Get-AgentInbox -Connection $bob).Id)
                }
                $_
            } | Select-Object -First 2)
        $got.Payload | Should -Be @('first', 'meanwhile')
        $got[1].ThreadId | Should -Be $first.ThreadId
        $seen.Count | Should -Be 1
        $seen[0] | Should -Contain $got[1].Id
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 0
    }

    It 'leaves unread the thread whose handler throws, and consumes the threads handled before it' {
        $sent = 'ok-1', 'bad', 'ok-2' | ForEach-Object { Send-AgentMessage -Connection $alice -To $bobId -Cc "cc-$_-$bobId" -Payload $_ }
        $bad = $sent[1]
        $handled = [System.Collections.Generic.List[string]]::new()
        {
            Receive-AgentMessage -Connection $bob -Wait -PollIntervalSec 0.2 | ForEach-Object {
                if ($_.Payload -eq 'bad') { throw 'the handler failed' }
                $handled.Add($_.ThreadId)
            }
        } | Should -Throw '*the handler failed*'

        $unread = @(Get-AgentInbox -Connection $bob)
        $unread.ThreadId | Should -Contain $bad.ThreadId
        foreach ($thread in $handled) { $unread.ThreadId | Should -Not -Contain $thread }
        # The next receive outputs the failed message again, with whatever was not reached.
        $again = @(Receive-AgentMessage -Connection $bob)
        $again.Id | Should -Contain $bad.MessageId
        $again.Count + $handled.Count | Should -Be 3
    }

    It 'leaves the thread unread when the handler throws on a message that came in while the thread was handled' {
        $first = Send-AgentMessage -Connection $alice -To $bobId -Payload 'first'
        {
            Receive-AgentMessage -Connection $bob -Wait -PollIntervalSec 0.2 | ForEach-Object {
                if ($_.Payload -eq 'first') {
                    Send-AgentMessage -Connection $alice -To $bobId -ThreadId $first.ThreadId -Payload 'meanwhile' | Out-Null
                }
                else { throw 'the handler failed' }
            }
        } | Should -Throw '*the handler failed*'
        @(Receive-AgentMessage -Connection $bob).Payload | Should -Be @('first', 'meanwhile')
    }

    It 'outputs a message once although -From leaves its thread unread, and goes on with other threads' {
        $mixed = Send-AgentMessage -Connection $alice -To $bobId -Cc $carolId -Payload 'from alice'
        Send-AgentMessage -Connection $carol -To $bobId -ThreadId $mixed.ThreadId -Payload 'from carol' | Out-Null
        $job = Start-ThreadJob -ScriptBlock {
            param($module, $uri, $from, $to)
            Import-Module $module
            Start-Sleep -Milliseconds 1500
            $c = Connect-AgentMailbox $from -Server $uri -PassThru
            Send-AgentMessage -Connection $c -To $to -Payload 'alice alone'
        } -ArgumentList (Get-BuiltModulePath), $server.Uri, $aliceId, $bobId
        try {
            # Several polls run before the late message: the held one must not come out again.
            $got = @(Receive-AgentMessage -Connection $bob -Wait -From $aliceId -PollIntervalSec 0.1 | Select-Object -First 2)
        }
        finally { $job | Wait-Job | Remove-Job -Force }
        $got.Payload | Should -Be @('from alice', 'alice alone')
        @(Get-AgentInbox -Connection $bob).Payload | Should -Be @('from alice', 'from carol')
    }

    It 'marks nothing under -WhatIf, and outputs each message once' {
        Send-AgentMessage -Connection $alice -To $bobId -Payload 'kept' | Out-Null
        $job = Start-ThreadJob -ScriptBlock {
            param($module, $uri, $from, $to)
            Import-Module $module
            Start-Sleep -Milliseconds 1000
            $c = Connect-AgentMailbox $from -Server $uri -PassThru
            Send-AgentMessage -Connection $c -To $to -Cc "other-$to" -Payload 'later'
        } -ArgumentList (Get-BuiltModulePath), $server.Uri, $aliceId, $bobId
        try {
            $got = @(Receive-AgentMessage -Connection $bob -Wait -WhatIf -PollIntervalSec 0.1 | Select-Object -First 2)
        }
        finally { $job | Wait-Job | Remove-Job -Force }
        $got.Payload | Should -Be @('kept', 'later')
        @(Get-AgentInbox -Connection $bob).Count | Should -Be 2
    }

    It 'stops within a second on Ctrl+C, leaving the thread in hand unread' {
        $held = Send-AgentMessage -Connection $alice -To $bobId -Payload 'in hand'
        $signal = [hashtable]::Synchronized(@{})
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $connection, $signal)
                Import-Module $module
                Receive-AgentMessage -Connection $connection -Wait -PollIntervalSec 0.2 | ForEach-Object { $signal.Id = $_.Id; Start-Sleep -Seconds 60 }
            }).AddArgument((Get-BuiltModulePath)).AddArgument($bob).AddArgument($signal)
        $null = $ps.BeginInvoke()
        try {
            $wait = [Diagnostics.Stopwatch]::StartNew()
            while (-not $signal.Id -and $wait.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 50 }
            $signal.Id | Should -Be $held.MessageId
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
        @(Receive-AgentMessage -Connection $bob).Id | Should -Be @($held.MessageId)
    }

    It 'stops at once on Ctrl+C while it waits between polls' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $connection)
                Import-Module $module
                Receive-AgentMessage -Connection $connection -Wait -PollIntervalSec 30
            }).AddArgument((Get-BuiltModulePath)).AddArgument($bob)
        $null = $ps.BeginInvoke()
        try {
            Start-Sleep -Milliseconds 1500
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
    }
}

Describe 'Receive-AgentMessage -Wait in a process killed with SIGKILL' {
    BeforeAll {
        $script:server = Start-AgentMailboxServer -Kind Mock
    }
    AfterAll {
        $server | Stop-AgentMailboxServer
    }

    It 'leaves the message its handler held unread, and the next receive outputs it' -Skip:$IsWindows {
        # (Skipped on Windows: Process.Kill is TerminateProcess there, not SIGKILL.)
        $aliceId = New-TestAgentId alice
        $bobId = New-TestAgentId bob
        $alice = Connect-AgentMailbox $aliceId -Server $server.Uri -PassThru
        $bob = Connect-AgentMailbox $bobId -Server $server.Uri -PassThru
        $done = Send-AgentMessage -Connection $alice -To $bobId -Cc "cc-done-$bobId" -Payload 'done'
        $signal = Join-Path $TestDrive 'holding.txt'
        $handledLog = Join-Path $TestDrive 'handled.txt'
        $script = @'
param($module, $uri, $me, $signal, $handledLog)
Import-Module $module
$c = Connect-AgentMailbox $me -Server $uri -PassThru
Receive-AgentMessage -Connection $c -Wait -PollIntervalSec 0.2 | ForEach-Object {
    if ($_.Payload -eq 'hold') { Set-Content -Path $signal -Value $_.Id; Start-Sleep -Seconds 600 }
    Add-Content -Path $handledLog -Value $_.Id
}
'@
        $scriptPath = Join-Path $TestDrive 'loop.ps1'
        Set-Content -Path $scriptPath -Value $script
        $pwsh = Get-FreshPwshCommand
        $info = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $scriptPath,
                (Get-BuiltModulePath), $server.Uri, $bobId, $signal, $handledLog)) { $info.ArgumentList.Add([string]$a) }
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        try {
            # 'done' is handled and consumed first; then 'hold' arrives and the handler holds it.
            $wait = [Diagnostics.Stopwatch]::StartNew()
            while (-not ((Test-Path $handledLog) -and (Get-Content $handledLog) -contains $done.MessageId) -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 100 }
            (Get-Content $handledLog) | Should -Contain $done.MessageId
            $hold = Send-AgentMessage -Connection $alice -To $bobId -Cc "cc-hold-$bobId" -Payload 'hold'
            while (-not (Test-Path $signal) -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 100 }
            (Get-Content $signal) | Should -Be $hold.MessageId
            $process.Kill()   # SIGKILL on Linux and macOS
            $process.WaitForExit(10000) | Should -BeTrue
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
            $process.Dispose()
        }
        # 'done' was marked read before the loop polled again and found 'hold'.
        $again = @(Receive-AgentMessage -Connection $bob)
        $again.Id | Should -Be @($hold.MessageId)
    }
}
