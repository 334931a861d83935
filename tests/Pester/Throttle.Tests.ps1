<#
    Pipelines at scale: -ThrottleLimit on Send-AgentMessage and Invoke-AgentReplyAll (order, per-thread order, no
    duplicates, failures per input, real concurrency, Ctrl+C), progress records of long commands, and CSV rows
    without a Payload column. Against the mock server, over real HTTP.
#>

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    $script:modulePath = Get-BuiltModulePath

    function script:Get-SentBody { @(Get-MockRequest $server '/messages/send') | ForEach-Object { $_.body | ConvertFrom-Json -AsHashtable } }

}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe 'Send-AgentMessage -ThrottleLimit' {
    BeforeEach {
        Clear-MockFault $server
        $script:me = New-TestAgentId me
        $script:connection = Connect-AgentMailbox $me -Server $server.Uri -PassThru
        Clear-MockRequest $server
    }

    It 'keeps outputs in input order, each thread in input order, sends nothing twice and reports each failure once, at -ThrottleLimit <Limit>' -ForEach @(
        @{ Limit = 1 }, @{ Limit = 4 }, @{ Limit = 16 }, @{ Limit = 64 }
    ) {
        $count = 500
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 6)
        # Three threads addressed by id, and 24 participant sets (12 recipients, with and without a cc): parallel threads
        # and long runs within one, of both kinds.
        $known = @(0..2 | ForEach-Object { (Send-AgentMessage -To "known$_-$run" -Payload @{ init = $_ }).ThreadId })
        Clear-MockRequest $server
        $inputs = foreach ($i in 0..($count - 1)) {
            if ($i % 7 -eq 0) {
                $row = @{ To = "known$($i % 3)-$run"; ThreadId = $known[$i % 3]; Payload = @{ seq = $i } }
            } else {
                $row = @{ To = "r$($i % 12)-$run"; Payload = @{ seq = $i } }
                if ($i % 5 -lt 2) { $row.Cc = "watch-$run" }
            }
            $row
        }
        # Faults spread over the run: delays, then 500s (not stored), then connections dropped after the handler stored the message.
        Add-MockFault $server -Path '/messages/send' -DelayMs 40 -Count 30 | Out-Null
        Add-MockFault $server -Path '/messages/send' -Status 500 -Count 6 | Out-Null
        Add-MockFault $server -Path '/messages/send' -DelayMs 5 -Count 100 | Out-Null
        Add-MockFault $server -Path '/messages/send' -Action drop -AfterHandler -Count 6 | Out-Null
        Add-MockFault $server -Path '/messages/send' -Status 502 -Count 3 | Out-Null

        $out = @($inputs | Send-AgentMessage -ThrottleLimit $Limit -ErrorAction Continue 2>&1)
        Clear-MockFault $server

        # What the server stored, by message id, read back from every thread of the sender.
        $threads = @(Get-AgentThread)
        $stored = @{}
        $storedSeqs = [System.Collections.Generic.List[int]]::new()
        foreach ($thread in $threads) {
            $sent = @($thread.Messages | Where-Object { $_.Payload.PSObject.Properties['seq'] })
            $seqs = @($sent | ForEach-Object { [int]$_.Payload.seq })
            ($seqs -join ',') | Should -Be (($seqs | Sort-Object) -join ',') -Because "thread $($thread.Id) holds its messages in input order"
            foreach ($m in $sent) { $stored[$m.Id] = [int]$m.Payload.seq; $storedSeqs.Add([int]$m.Payload.seq) }
        }
        @($threads | Where-Object Id -In $known | ForEach-Object { $_.Messages.Count - 1 } | Measure-Object -Sum).Sum |
            Should -BeGreaterThan 50 -Because 'the messages sent by thread id are among them'
        
        $storedSeqs.Count | Should -Be ([System.Collections.Generic.HashSet[int]]::new($storedSeqs)).Count -Because 'no message is stored twice'

        # One output per input, in input order: a result (its stored message's seq) or an error (its input's seq).
        $out.Count | Should -Be $count
        $failed = [System.Collections.Generic.List[int]]::new()
        $order = foreach ($o in $out) {
            if ($o -is [System.Management.Automation.ErrorRecord] -and $o.TargetObject -is [hashtable]) {
                $failed.Add([int]$o.TargetObject.Payload.seq)
                [int]$o.TargetObject.Payload.seq
            } elseif ($o -is [AgentMailbox.SendResult]) {
                $stored[$o.MessageId]
            } else {
                "unexpected: $o"
            }
        }
        ($order -join ',') | Should -Be ((0..($count - 1)) -join ',')

        # Every input was requested exactly once; the failed inputs are exactly those whose request the mock failed.
        $requests = @(Get-MockRequest $server '/messages/send')
        $requestSeqs = @($requests | ForEach-Object { [int]($_.body | ConvertFrom-Json).payload.seq })
        $requestSeqs.Count | Should -Be $count -Because 'no send is repeated'
        @($requestSeqs | Sort-Object -Unique).Count | Should -Be $count
        $faulted = @($requests | Where-Object { $_.status -ne 200 } | ForEach-Object { [int]($_.body | ConvertFrom-Json).payload.seq } | Sort-Object)
        $faulted.Count | Should -Be 15
        (@($failed | Sort-Object) -join ',') | Should -Be ($faulted -join ',')
        # Stored: everything but the 500s and 502s; the dropped ones were stored once and reported as "may have stored".
        $storedSeqs.Count | Should -Be ($count - 9)
        @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and $_.CategoryInfo.Category -eq 'ConnectionError' }).Count | Should -Be 6
        @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Where-Object { $_.Exception.Message -notmatch 'may have stored' }) |
            Should -BeNullOrEmpty
    }

    It 'has more than one send in flight at -ThrottleLimit 16, and never two at -ThrottleLimit 1' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 6)
        Add-MockFault $server -Path '/messages/send' -DelayMs 200 -Count 16 | Out-Null
        $results = @(0..15 | ForEach-Object { @{ To = "p$_-$run"; Payload = $_ } } | Send-AgentMessage -ThrottleLimit 16)
        $results.Count | Should -Be 16
        $parallel = @(Get-MockRequest $server '/messages/send')
        (Get-MaxOverlap $parallel 200) | Should -BeGreaterThan 1

        Clear-MockRequest $server
        Add-MockFault $server -Path '/messages/send' -DelayMs 200 -Count 6 | Out-Null
        $null = 0..5 | ForEach-Object { @{ To = "s$_-$run"; Payload = $_ } } | Send-AgentMessage
        (Get-MaxOverlap @(Get-MockRequest $server '/messages/send') 195) | Should -Be 1
    }

    It 'sends the messages of one thread one after another even at -ThrottleLimit 16' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 6)
        Add-MockFault $server -Path '/messages/send' -DelayMs 150 -Count 12 | Out-Null
        # Two threads: one by participant set, one by -ThreadId; neither may have two sends in flight.
        $thread = (Send-AgentMessage -To "t-$run" -Payload 'first').ThreadId
        Clear-MockRequest $server
        $inputs = foreach ($i in 0..11) {
            if ($i % 2) { @{ To = "u-$run"; Cc = "v-$run"; Payload = $i } } else { @{ To = "x-$run"; ThreadId = $thread; Payload = $i } }
        }
        $null = $inputs | Send-AgentMessage -ThrottleLimit 16
        $requests = @(Get-MockRequest $server '/messages/send')
        $byThread = $requests | Group-Object { ($_.body | ConvertFrom-Json).threadId -ne $null }
        foreach ($group in $byThread) {
            (Get-MaxOverlap @($group.Group) 145) | Should -Be 1
            $payloads = @($group.Group | Sort-Object { [long]$_.receivedAt } | ForEach-Object { [int]($_.body | ConvertFrom-Json).payload })
            ($payloads -join ',') | Should -Be (($payloads | Sort-Object) -join ',')
        }
        (Get-MaxOverlap $requests 145) | Should -BeGreaterThan 1 -Because 'the two threads run side by side'
    }

    It 'keeps the order of a thread that is addressed both by id and by its participants' {
        $run = [Guid]::NewGuid().ToString('N').Substring(0, 6)
        $thread = (Send-AgentMessage -To "both-$run" -Payload @{ init = 1 }).ThreadId
        # Another thread by id, so that sends by id run beside each other.
        $other = (Send-AgentMessage -To "else-$run" -Payload @{ init = 1 }).ThreadId
        Clear-MockRequest $server
        Add-MockFault $server -Path '/messages/send' -DelayMs 60 -Count 40 | Out-Null
        $inputs = foreach ($i in 0..23) {
            switch ($i % 3) {
                0 { @{ To = "both-$run"; ThreadId = $thread; Payload = @{ seq = $i } } }
                1 { @{ To = "both-$run"; Payload = @{ seq = $i } } }    # the same thread, picked by the server by its participants
                2 { @{ To = "else-$run"; ThreadId = $other; Payload = @{ seq = $i } } }
            }
        }
        $results = @($inputs | Send-AgentMessage -ThrottleLimit 8)
        $results.Count | Should -Be 24
        @($results | Where-Object ThreadId -EQ $thread).Count | Should -Be 16
        $seqs = @((Get-AgentThread -ThreadId $thread).Messages | Where-Object { $_.Payload.PSObject.Properties['seq'] } | ForEach-Object { [int]$_.Payload.seq })
        ($seqs -join ',') | Should -Be ((0..23 | Where-Object { $_ % 3 -ne 2 }) -join ',')
        (Get-MaxOverlap @(Get-MockRequest $server '/messages/send') 55) | Should -BeGreaterThan 1 -Because 'the two threads still run side by side'
    }

    It 'stops sending when a downstream Select-Object -First has what it wants' {
        $results = @(1..40 | ForEach-Object { @{ To = "first$($_ % 4)"; Payload = @{ seq = $_ } } } | Send-AgentMessage -ThrottleLimit 4 | Select-Object -First 2)
        $results.Count | Should -Be 2
        Start-Sleep -Milliseconds 300
        # A send cancelled before its body arrived is in the log with no body (and was not stored).
        $requests = @(Get-MockRequest $server '/messages/send')
        $seqs = @($requests | Where-Object body | ForEach-Object { [int]($_.body | ConvertFrom-Json).payload.seq })
        $requests.Count | Should -BeLessThan 40 -Because 'the rest of the input was never sent'
        @($seqs | Sort-Object -Unique).Count | Should -Be $seqs.Count -Because 'nothing was sent twice'
        $stored = @(Get-AgentThread | ForEach-Object { $_.Messages } | ForEach-Object { [int]$_.Payload.seq })
        @($stored | Sort-Object -Unique).Count | Should -Be $stored.Count -Because 'nothing was stored twice'
        Start-Sleep -Milliseconds 300
        @(Get-MockRequest $server '/messages/send').Count | Should -Be $requests.Count -Because 'nothing is sent after the pipeline ended'
    }

    It 'writes input errors in their place among the outputs' {
        $out = @(
            @{ To = 'a'; Payload = 1 }, @{ Payload = 'no recipient' }, @{ To = 'b'; Payload = 2; ContextSnapshot = 5 }, @{ To = 'c'; Payload = 3 }
        ) | Send-AgentMessage -ThrottleLimit 8 -ErrorAction Continue 2>&1
        $out.Count | Should -Be 4
        $out[0] | Should -BeOfType ([AgentMailbox.SendResult])
        $out[1].FullyQualifiedErrorId | Should -Match '^MissingRecipient,'
        $out[2].FullyQualifiedErrorId | Should -Match '^InvalidContextSnapshot,'
        $out[3] | Should -BeOfType ([AgentMailbox.SendResult])
        # Sent side by side (two threads), so they may reach the server in either order; outputs keep input order.
        @((Get-SentBody).payload | Sort-Object) | Should -Be @(1, 3)
    }

    It 'runs a script-block payload on the pipeline thread, and asks -WhatIf per input before queueing' {
        $results = @(1..6 | Send-AgentMessage -To bob -ThrottleLimit 4 -Payload { @{ n = $_; runspace = [runspace]::DefaultRunspace.InstanceId.Guid } })
        $results.Count | Should -Be 6
        $bodies = Get-SentBody
        @($bodies.payload.n | Sort-Object) | Should -Be @(1, 2, 3, 4, 5, 6)
        @($bodies.payload.runspace | Sort-Object -Unique) | Should -Be @([runspace]::DefaultRunspace.InstanceId.Guid)

        Clear-MockRequest $server
        $script:ran = 0
        $out = 1..3 | Send-AgentMessage -To bob -ThrottleLimit 4 -Payload { $script:ran++; $_ } -WhatIf
        $out | Should -BeNullOrEmpty
        $script:ran | Should -Be 0
        @(Get-MockRequest $server).Count | Should -Be 0
    }

    It 'converts a payload with script properties on the pipeline thread' {
        $payload = [pscustomobject]@{ a = 1 } | Add-Member -MemberType ScriptProperty -Name twice -Value { $this.a * 2 } -PassThru
        $null = 1..3 | ForEach-Object { @{ To = "sp$_"; Payload = $payload } } | Send-AgentMessage -ThrottleLimit 4 -ErrorAction Stop
        @((Get-SentBody).payload.twice) | Should -Be @(2, 2, 2)
    }

    It 'writes a verbose line for each request made by a worker, and honours -TimeoutSec there' {
        $verbose = @(1..3 | ForEach-Object { @{ To = "vb$_"; Payload = $_ } } | Send-AgentMessage -ThrottleLimit 4 -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        @($verbose | Where-Object { "$_" -match 'POST /messages/send -> 200' }).Count | Should -Be 3

        Clear-MockRequest $server
        Add-MockFault $server -Path '/messages/send' -Action stall -Count 1 | Out-Null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $out = @(1..2 | ForEach-Object { @{ To = "to$_"; Payload = $_ } } | Send-AgentMessage -ThrottleLimit 4 -TimeoutSec 1 -ErrorAction Continue 2>&1)
        $watch.Stop()
        $errors = @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors.Count | Should -Be 1
        $errors[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $errors[0].Exception.Timeout | Should -Be ([timespan]::FromSeconds(1))
    }

    It 'stops within a second on Ctrl+C and sends nothing twice' {
        $ps = New-ConnectedShell $script:server (New-TestAgentId stop)
        try {
            Clear-MockRequest $server
            # Every send is held for a minute: only Ctrl+C can end this run in time.
            Add-MockFault $server -Path '/messages/send' -DelayMs 60000 -Count -1 | Out-Null
            $null = $ps.AddScript({ 1..40 | ForEach-Object { @{ To = "c$($_ % 10)"; Payload = @{ seq = $_ } } } | Send-AgentMessage -ThrottleLimit 8 })
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (@(Get-MockRequest $server '/messages/send').Count -lt 8 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            @(Get-MockRequest $server '/messages/send').Count | Should -Be 8 -Because 'eight sends (eight threads) are in flight'

            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $async.IsCompleted | Should -BeTrue
            $thrown = { $ps.EndInvoke($async) } | Should -Throw -PassThru
            $thrown.Exception.GetBaseException() | Should -BeOfType ([System.Management.Automation.PipelineStoppedException])

            Start-Sleep -Milliseconds 500
            $seqs = @(Get-MockRequest $server '/messages/send' | ForEach-Object { [int]($_.body | ConvertFrom-Json).payload.seq })
            $seqs.Count | Should -Be 8 -Because 'nothing more was sent after the stop'
            @($seqs | Sort-Object -Unique).Count | Should -Be 8 -Because 'nothing was sent twice'
        } finally {
            Clear-MockFault $server
            $ps.Dispose()
        }
    }
}

Describe 'Invoke-AgentReplyAll -ThrottleLimit' {
    BeforeEach {
        Clear-MockFault $server
        $script:me = New-TestAgentId me
        $script:connection = Connect-AgentMailbox $me -Server $server.Uri -PassThru
    }

    It 'replies in input order per thread, outputs in input order, and reports a failed reply with its thread id' {
        $threads = @(1..6 | ForEach-Object { (Send-AgentMessage -To "peer$_-$me" -Payload 'start').ThreadId })
        Clear-MockRequest $server
        Add-MockFault $server -Path '/messages/reply-all' -DelayMs 30 -Count 20 | Out-Null
        Add-MockFault $server -Path '/messages/reply-all' -Status 500 -Count 2 | Out-Null
        $inputs = foreach ($i in 0..59) { [pscustomobject]@{ ThreadId = $threads[$i % 6]; seq = $i } }
        $out = @($inputs | Invoke-AgentReplyAll -ThrottleLimit 6 -Payload { @{ seq = $_.seq } } -ErrorAction Continue 2>&1)
        $out.Count | Should -Be 60
        for ($i = 0; $i -lt 60; $i++) {
            if ($out[$i] -is [System.Management.Automation.ErrorRecord]) {
                $out[$i].TargetObject | Should -Be $threads[$i % 6]
                $out[$i].FullyQualifiedErrorId | Should -Match '^ReplyAllFailed,'
            } else {
                $out[$i].ThreadId | Should -Be $threads[$i % 6]
            }
        }
        @($out | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }).Count | Should -Be 2
        foreach ($thread in Get-AgentThread -ThreadId $threads) {
            $seqs = @($thread.Messages | Select-Object -Skip 1 | ForEach-Object { [int]$_.Payload.seq })
            ($seqs -join ',') | Should -Be (($seqs | Sort-Object) -join ',')
        }
        $requests = @(Get-MockRequest $server '/messages/reply-all')
        $requests.Count | Should -Be 60
        (Get-MaxOverlap $requests 25) | Should -BeGreaterThan 1
    }
}

Describe 'Progress of long commands' {
    BeforeEach {
        Clear-MockFault $server
        Clear-MockRequest $server
    }

    It 'writes progress records and completes them when <Name> runs longer than two seconds' -ForEach @(
        @{ Name = 'Send-AgentMessage'; Limit = 1 }, @{ Name = 'Send-AgentMessage -ThrottleLimit 4'; Limit = 4 }
    ) {
        $ps = New-ConnectedShell $script:server (New-TestAgentId progress)
        try {
            # 30 sends to one thread, 100 ms each: about three seconds, whatever the throttle limit.
            Add-MockFault $server -Path '/messages/send' -DelayMs 100 -Count 30 | Out-Null
            $null = $ps.AddScript({ param($limit) 1..30 | Send-AgentMessage -To one -ThrottleLimit $limit }).AddArgument($Limit)
            $results = $ps.Invoke()
            $results.Count | Should -Be 30
            $progress = @($ps.Streams.Progress)
            @($progress | Where-Object RecordType -EQ 'Processing').Count | Should -BeGreaterThan 0
            $progress[-1].RecordType | Should -Be 'Completed'
            $progress[0].StatusDescription | Should -Match '\d+ sent, [\d.,]+/s'
            @($progress.ActivityId | Sort-Object -Unique).Count | Should -Be 1
        } finally {
            $ps.Dispose()
        }
    }

    It 'writes none for a short run, and none under $ProgressPreference = SilentlyContinue' {
        $ps = New-ConnectedShell $script:server (New-TestAgentId progress)
        try {
            $null = $ps.AddScript({ 1..3 | Send-AgentMessage -To one -ThrottleLimit 2 })
            $ps.Invoke().Count | Should -Be 3
            $ps.Streams.Progress.Count | Should -Be 0

            $ps.Commands.Clear()
            Add-MockFault $server -Path '/messages/send' -DelayMs 100 -Count 25 | Out-Null
            $null = $ps.AddScript({ $ProgressPreference = 'SilentlyContinue'; 1..25 | Send-AgentMessage -To one })
            $ps.Invoke().Count | Should -Be 25
            $ps.Streams.Progress.Count | Should -Be 0
        } finally {
            $ps.Dispose()
        }
    }

    It 'writes progress for a slow Get-AgentInbox, Invoke-AgentReplyAll and Get-AgentThread listing' {
        $agent = New-TestAgentId progress
        # Connected before the shell is: the default connection is the process's, and the shell's must be the last one made.
        $other = Connect-AgentMailbox (New-TestAgentId peer) -Server $server.Uri -PassThru
        $ps = New-ConnectedShell $script:server $agent
        try {
            $thread = (Send-AgentMessage -Connection $other -To $agent -Payload 1).ThreadId
            $null = Send-AgentMessage -Connection $other -To $agent -Payload 2 -ThreadId $thread

            Add-MockFault $server -Path "/mailbox/$([uri]::EscapeDataString($agent))/unread" -DelayMs 2300 -Count 1 | Out-Null
            $null = $ps.AddScript({ Get-AgentInbox })
            $ps.Invoke().Count | Should -Be 2
            @($ps.Streams.Progress | Where-Object RecordType -EQ 'Processing').Count | Should -BeGreaterThan 0
            $ps.Streams.Progress[-1].RecordType | Should -Be 'Completed'

            $ps.Streams.Progress.Clear(); $ps.Commands.Clear()
            Add-MockFault $server -Path '/messages/reply-all' -DelayMs 500 -Count 6 | Out-Null
            $null = $ps.AddScript({ param($t) 1..6 | ForEach-Object { [pscustomobject]@{ ThreadId = $t } } | Invoke-AgentReplyAll -Payload ok -ThrottleLimit 3 }).AddArgument($thread)
            $ps.Invoke().Count | Should -Be 6
            @($ps.Streams.Progress | Where-Object RecordType -EQ 'Processing').Count | Should -BeGreaterThan 0
            $ps.Streams.Progress[-1].RecordType | Should -Be 'Completed'

            # 150 threads: two pages of the listing; the total is known once the first page has been read.
            $ps.Commands.Clear()
            $null = $ps.AddScript({ 1..150 | ForEach-Object { @{ To = "g$_"; Payload = $_ } } | Send-AgentMessage -ThrottleLimit 8 })
            $ps.Invoke().Count | Should -Be 150
            $ps.Streams.Progress.Clear(); $ps.Commands.Clear()
            Add-MockFault $server -Path "/mailbox/$([uri]::EscapeDataString($agent))" -Method GET -DelayMs 1200 -Count 2 | Out-Null
            $null = $ps.AddScript({ Get-AgentThread })
            $ps.Invoke().Count | Should -Be 151
            $records = @($ps.Streams.Progress | Where-Object RecordType -EQ 'Processing')
            $records.Count | Should -BeGreaterThan 0
            @($records | Where-Object { $_.PercentComplete -ge 50 -and $_.PercentComplete -le 100 }).Count | Should -BeGreaterThan 0 -Because 'the listing knows its total'
            $ps.Streams.Progress[-1].RecordType | Should -Be 'Completed'
        } finally {
            Clear-MockFault $server
            $ps.Dispose()
        }
    }
}

Describe 'Send-AgentMessage with CSV rows' {
    BeforeEach {
        Clear-MockFault $server
        $script:me = New-TestAgentId me
        $script:connection = Connect-AgentMailbox $me -Server $server.Uri -PassThru
        Clear-MockRequest $server
    }

    It 'sends the other columns as the payload when there is no Payload column, at -ThrottleLimit <Limit>' -ForEach @(@{ Limit = 1 }, @{ Limit = 4 }) {
        $csv = Join-Path $TestDrive "tasks-$Limit.csv"
        "To,Task,Priority,Cc,Bcc`nworker-a,build,high,lead;audit,boss`nworker-b,test,low,`"lead,audit`",`n" | Set-Content -Path $csv
        $results = @(Import-Csv $csv | Send-AgentMessage -ThrottleLimit $Limit)
        $results.Count | Should -Be 2
        $bodies = Get-SentBody
        $bodies[0].to | Should -Be 'worker-a'
        $bodies[0].payload.Keys | Sort-Object | Should -Be @('Priority', 'Task')
        $bodies[0].payload.Task | Should -Be 'build'
        $bodies[0].payload.Priority | Should -Be 'high'
        $bodies[0].cc | Should -Be @('lead', 'audit')
        $bodies[0].bcc | Should -Be @('boss')
        $bodies[1].payload.Task | Should -Be 'test'
        $bodies[1].cc | Should -Be @('lead', 'audit')
        $bodies[1].ContainsKey('bcc') | Should -BeFalse
    }

    It 'sends the Payload column when there is one' {
        $csv = Join-Path $TestDrive 'payload.csv'
        "To,Payload,Task`nworker-a,the payload,ignored`n" | Set-Content -Path $csv
        $null = Import-Csv $csv | Send-AgentMessage
        (Get-SentBody).payload | Should -Be 'the payload'
    }

    It 'reports a row that has nothing but message columns' {
        $out = @([pscustomobject]@{ To = 'x'; Cc = 'y' }) | Send-AgentMessage -ErrorVariable failures -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -Match '^InvalidMessageInput,'
        @(Get-MockRequest $server).Count | Should -Be 0
    }
}
