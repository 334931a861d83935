<#
    Pipelines at scale for the context writers: -ThrottleLimit on Set-AgentGraphNode, Set-AgentGraphEdge and
    Set-AgentIndexEntry (real concurrency proven from the mock's arrival times, outputs in input order, failures per
    input, one request per input, the same key handled one after another), -Incremental at -ThrottleLimit 8 counted
    request by request, progress records of long runs, and Ctrl+C with requests in flight. Against the mock server.
#>

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:server = Start-AgentMailboxServer -Kind Mock
    $script:modulePath = Get-BuiltModulePath


    function script:Connect-Fresh([string] $Name) {
        $script:agent = New-TestAgentId $Name
        $script:enc = [Uri]::EscapeDataString($agent)
        $script:run = [Guid]::NewGuid().ToString('N').Substring(0, 6)
        Connect-AgentMailbox $agent -Server $server.Uri -PassThru
    }

    function script:New-CheckpointFor {
        Invoke-RestMethod -Method Post -Uri "$($server.Uri)/mailbox/$enc/git/commit" -ContentType 'application/json' -Body (@{ message = 'indexed' } | ConvertTo-Json)
    }

    # What each cmdlet writes, with the path it posts to and the key of an input, a stored value and an output.
    $script:cmdlets = @{
        'Set-AgentGraphNode' = @{
            Path   = { "/mailbox/$enc/graph/nodes" }
            Input  = { param($i) [pscustomobject]@{ Id = "n$i-$run"; Type = 'task'; Name = "tnode-$run $i" } }
            KeyOf  = { param($o) $o.Id }
            BodyKey = { param($b) $b.id }
            Run    = { param($inputs, $limit) $inputs | Set-AgentGraphNode -ThrottleLimit $limit -PassThru -ErrorAction Continue 2>&1 }
            Stored = { @((Search-AgentGraph "tnode-$run" -First 200).Nodes | ForEach-Object Id) }
        }
        'Set-AgentGraphEdge' = @{
            Path   = { "/mailbox/$enc/graph/edges" }
            Input  = { param($i) [pscustomobject]@{ SourceId = "s$i-$run"; TargetId = "t$i-$run"; Type = 'links' } }
            KeyOf  = { param($o) $o.SourceId }
            BodyKey = { param($b) $b.sourceId }
            Run    = { param($inputs, $limit) $inputs | Set-AgentGraphEdge -ThrottleLimit $limit -PassThru -ErrorAction Continue 2>&1 }
            # The sources are nodes named after the run, so that a search reaches every edge from them.
            Prepare = { param($count) 0..($count - 1) | ForEach-Object { [pscustomobject]@{ Id = "s$_-$run"; Type = 'symbol'; Name = "ehost-$run $_" } } | Set-AgentGraphNode -ThrottleLimit 8 }
            Stored = { @((Search-AgentGraph "ehost-$run" -Depth 1 -First 200).Edges | Where-Object Type -EQ 'links' | ForEach-Object SourceId) }
        }
        'Set-AgentIndexEntry' = @{
            Path   = { "/mailbox/$enc/index" }
            Input  = { param($i) [pscustomobject]@{ Key = "k$i-$run"; Category = 'file'; Summary = "entry $i" } }
            KeyOf  = { param($o) $o.Key }
            BodyKey = { param($b) $b.key }
            Run    = { param($inputs, $limit) $inputs | Set-AgentIndexEntry -ThrottleLimit $limit -PassThru -ErrorAction Continue 2>&1 }
            Stored = { param($keys) @(Get-AgentIndexEntry -Key $keys -ErrorAction SilentlyContinue | ForEach-Object Key) }
        }
    }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $server | Stop-AgentMailboxServer
}

Describe '<_> -ThrottleLimit' -ForEach 'Set-AgentGraphNode', 'Set-AgentGraphEdge', 'Set-AgentIndexEntry' {
    BeforeAll {
        $script:c = $cmdlets[$_]
    }
    BeforeEach {
        Clear-MockFault $server
        Connect-Fresh throttle | Out-Null
        Clear-MockRequest $server
    }

    It 'has more than one request in flight at -ThrottleLimit 8, and never two at -ThrottleLimit 1' {
        $path = & $c.Path
        if ($c.Prepare) { & $c.Prepare 16; Clear-MockRequest $server }
        Add-MockFault $server -Path $path -Method POST -DelayMs 200 -Count 16 | Out-Null
        $out = @(& $c.Run @(0..15 | ForEach-Object { & $c.Input $_ }) 8)
        $out.Count | Should -Be 16
        (Get-MaxOverlap @(Get-MockRequest $server $path) 200) | Should -BeGreaterThan 1

        Clear-MockRequest $server
        Add-MockFault $server -Path $path -Method POST -DelayMs 200 -Count 6 | Out-Null
        $out = @(& $c.Run @(20..25 | ForEach-Object { & $c.Input $_ }) 1)
        $out.Count | Should -Be 6
        (Get-MaxOverlap @(Get-MockRequest $server $path) 195) | Should -Be 1
    }

    It 'outputs in input order, reports exactly the faulted inputs once each, and stores every other input once' {
        $count = 40
        $path = & $c.Path
        if ($c.Prepare) { & $c.Prepare $count; Clear-MockRequest $server }
        $inputs = @(0..($count - 1) | ForEach-Object { & $c.Input $_ })
        $keys = @($inputs | ForEach-Object { & $c.KeyOf $_ })
        # Delays, then three 500s (not stored), then delays again: the faulted requests are among many in flight.
        Add-MockFault $server -Path $path -Method POST -DelayMs 40 -Count 10 | Out-Null
        Add-MockFault $server -Path $path -Method POST -Status 500 -Count 3 | Out-Null
        Add-MockFault $server -Path $path -Method POST -DelayMs 20 -Count 20 | Out-Null

        $out = @(& $c.Run $inputs 8)
        Clear-MockFault $server

        # One output per input, in input order: the stored object or the error whose target is the input.
        $out.Count | Should -Be $count
        $failed = [System.Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt $count; $i++) {
            if ($out[$i] -is [System.Management.Automation.ErrorRecord]) {
                $key = & $c.KeyOf $out[$i].TargetObject
                $failed.Add($key)
                $out[$i].FullyQualifiedErrorId | Should -Match '^Set\w+Failed,'
            } else {
                $key = & $c.KeyOf $out[$i]
            }
            $key | Should -Be $keys[$i] -Because "output $i belongs to input $i"
        }

        # One request per input; the failed inputs are exactly those whose request the mock failed.
        $requests = @(Get-MockRequest $server $path | Where-Object method -EQ POST)
        $requestKeys = @($requests | ForEach-Object { & $c.BodyKey ($_.body | ConvertFrom-Json) })
        $requestKeys.Count | Should -Be $count -Because 'nothing is sent twice'
        @($requestKeys | Sort-Object -Unique).Count | Should -Be $count
        $faulted = @($requests | Where-Object status -EQ 500 | ForEach-Object { & $c.BodyKey ($_.body | ConvertFrom-Json) } | Sort-Object)
        $faulted.Count | Should -Be 3
        (@($failed | Sort-Object) -join ',') | Should -Be ($faulted -join ',')
        (Get-MaxOverlap $requests 20) | Should -BeGreaterThan 1

        # Read back: every input but the faulted ones, once.
        $stored = @(& $c.Stored $keys)
        (@($stored | Sort-Object) -join ',') | Should -Be (@($keys | Where-Object { $_ -notin $faulted } | Sort-Object) -join ',')
    }
}

Describe 'The same key at -ThrottleLimit 8' {
    BeforeEach {
        Clear-MockFault $server
        Connect-Fresh samekey | Out-Null
        Clear-MockRequest $server
    }

    It 'upserts one node id one request after another, and the last input wins' {
        $path = "/mailbox/$enc/graph/nodes"
        Add-MockFault $server -Path $path -Method POST -DelayMs 100 -Count 12 | Out-Null
        $inputs = foreach ($i in 0..11) {
            if ($i % 2) { [pscustomobject]@{ Id = "same-$run"; Type = 'task'; Name = "same-$run v$i" } }
            else { [pscustomobject]@{ Id = "other$i-$run"; Type = 'task'; Name = "other-$run $i" } }
        }
        $null = $inputs | Set-AgentGraphNode -ThrottleLimit 8
        $requests = @(Get-MockRequest $server $path)
        $same = @($requests | Where-Object { ($_.body | ConvertFrom-Json).id -eq "same-$run" })
        (Get-MaxOverlap $same 95) | Should -Be 1
        @($same | Sort-Object { [long]$_.receivedAt } | ForEach-Object { ($_.body | ConvertFrom-Json).name }) |
            Should -Be @(1, 3, 5, 7, 9, 11 | ForEach-Object { "same-$run v$_" })
        (Get-MaxOverlap $requests 95) | Should -BeGreaterThan 1 -Because 'the other ids run beside them'
        ((Search-AgentGraph "same-$run").Nodes | Where-Object Id -EQ "same-$run").Name | Should -Be "same-$run v11"
    }

    It 'decides each -Incremental input against what the inputs before it with the same key sent' {
        Set-AgentIndexEntry "dup-$run" file 'A'
        New-CheckpointFor | Out-Null
        Clear-MockRequest $server
        $inputs = foreach ($s in 'A', 'B', 'B', 'A') { [pscustomobject]@{ Key = "dup-$run"; Category = 'file'; Summary = $s } }
        $verbose = $inputs | Set-AgentIndexEntry -Incremental -ThrottleLimit 8 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        # A is held (skipped), B is sent, B is then held (skipped), A is sent again.
        $posts = @(Get-MockRequest $server "/mailbox/$enc/index" | Where-Object method -EQ POST)
        @($posts | ForEach-Object { ($_.body | ConvertFrom-Json).summary }) | Should -Be @('B', 'A')
        $verbose.Message | Should -Contain 'Incremental index: 4 input(s), 2 sent, 2 unchanged and not sent, 0 parent rollup(s) made again.'
        (Get-AgentIndexEntry "dup-$run").Summary | Should -Be 'A'
    }
}

Describe 'Set-AgentIndexEntry -Incremental -ThrottleLimit 8 over a tree' {
    BeforeAll {
        function script:Index-Tree([string] $Root, [int] $Limit = 1, [switch] $Loud) {
            Get-ChildItem -LiteralPath $Root -Recurse -File |
                Set-AgentIndexEntry -Category file -RelativeTo $Root -Incremental -ThrottleLimit $Limit -Verbose:$Loud `
                    -Summary { "$($_.Extension.TrimStart('.')) file of $($_.Length) bytes" } -Metadata { @{ name = $_.Name } }
        }
        function script:Rollup-Tree([string] $Root) {
            foreach ($dir in Get-ChildItem -LiteralPath $Root -Directory) {
                Get-ChildItem -LiteralPath $dir.FullName -File | ForEach-Object { "$($dir.Name)/$($_.Name)" } |
                    Merge-AgentIndexEntry -ModuleKey $dir.Name | Out-Null
            }
        }
        function script:Get-Requests([string] $Method, [string] $Suffix = '/*') {
            @(Get-MockRequest $server "/mailbox/$enc$Suffix" | Where-Object { -not $Method -or $_.method -eq $Method })
        }
        function script:New-Tree([string] $Name) {
            $root = Join-Path $TestDrive $Name
            foreach ($d in 1..4) {
                $dir = New-Item -ItemType Directory (Join-Path $root ('d{0}' -f $d)) -Force
                foreach ($f in 1..25) { [IO.File]::WriteAllText((Join-Path $dir.FullName ('f{0:00}.txt' -f $f)), "file $d/$f") }
            }
            $root
        }
    }
    BeforeEach { Clear-MockFault $server }

    It 'after a checkpoint: no upsert when unchanged, one upsert and its parent rollup when one file changed' {
        $tree = New-Tree withcheckpoint
        Connect-Fresh incremental | Out-Null
        # Indexed one at a time first, so that the checkpoint holds the entries (and the rollup takes its children)
        # in file order, as a run without -ThrottleLimit does.
        Index-Tree $tree -Limit 1
        Rollup-Tree $tree
        New-CheckpointFor | Out-Null

        Clear-MockRequest $server
        Index-Tree $tree -Limit 8
        (Get-Requests POST).Count | Should -Be 0
        (Get-Requests).Count | Should -Be 3 -Because 'the log, the checkpoint and the diff are all it reads'

        [IO.File]::WriteAllText((Join-Path $tree 'd3/f17.txt'), 'changed content, longer')
        Clear-MockRequest $server
        # The upsert is answered late: the rollup must still come after it, or the upsert would undo it.
        Add-MockFault $server -Path "/mailbox/$enc/index" -Method POST -DelayMs 400 -Count 1 | Out-Null
        $verbose = Index-Tree $tree -Limit 8 -Loud 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $upserts = Get-Requests POST '/index'
        $upserts.Count | Should -Be 1
        ($upserts[0].body | ConvertFrom-Json).key | Should -Be 'd3/f17.txt'
        $rollups = Get-Requests POST '/index/rollup'
        $rollups.Count | Should -Be 1
        $rollup = $rollups[0].body | ConvertFrom-Json
        $rollup.moduleKey | Should -Be 'd3'
        $rollup.fileKeys | Should -Be @(1..25 | ForEach-Object { 'd3/f{0:00}.txt' -f $_ })
        [long]$rollups[0].receivedAt | Should -BeGreaterOrEqual ([long]$upserts[0].receivedAt + 390)
        (Get-Requests).Count | Should -Be 5
        (Get-AgentIndexEntry 'd3/f17.txt').ParentKey | Should -Be 'd3'
        (Get-AgentIndexEntry 'd3/f01.txt').ParentKey | Should -Be 'd3'
        $verbose.Message | Should -Contain 'Incremental index: 100 input(s), 1 sent, 99 unchanged and not sent, 1 parent rollup(s) made again.'
    }

    It 'without a checkpoint: reads the keys in parallel, once each, and keeps the parent of a changed file' {
        $tree = New-Tree nocheckpoint
        Connect-Fresh nocheckpoint | Out-Null
        Index-Tree $tree -Limit 8
        Rollup-Tree $tree

        Clear-MockRequest $server
        Add-MockFault $server -Path "/mailbox/$enc/index/*" -Method GET -DelayMs 50 -Count 100 | Out-Null
        Index-Tree $tree -Limit 8
        (Get-Requests POST).Count | Should -Be 0
        $reads = Get-Requests GET '/index/*'
        $reads.Count | Should -Be 100
        @($reads.path | Sort-Object -Unique).Count | Should -Be 100
        (Get-Requests).Count | Should -Be 101   # git/log, then one GET per key
        (Get-MaxOverlap $reads 50) | Should -BeGreaterThan 1

        [IO.File]::WriteAllText((Join-Path $tree 'd2/f05.txt'), 'changed, and longer than before')
        Clear-MockRequest $server
        Add-MockFault $server -Path "/mailbox/$enc/index/*" -Method GET -DelayMs 30 -Count 100 | Out-Null
        $out = @(Get-ChildItem -LiteralPath $tree -Recurse -File |
                Set-AgentIndexEntry -Category file -RelativeTo $tree -Incremental -ThrottleLimit 8 -PassThru `
                    -Summary { "$($_.Extension.TrimStart('.')) file of $($_.Length) bytes" } -Metadata { @{ name = $_.Name } })
        $out.Count | Should -Be 100
        ($out.Key -join ',') | Should -Be ((Get-ChildItem -LiteralPath $tree -Recurse -File | ForEach-Object { $_.FullName.Substring($tree.Length + 1).Replace('\', '/') }) -join ',')
        @($out | Where-Object ParentKey -NE $null).Count | Should -Be 100 -Because 'every entry had its parent'
        (Get-Requests POST '/index').Count | Should -Be 1
        $rollups = Get-Requests POST '/index/rollup'
        $rollups.Count | Should -Be 1
        ($rollups[0].body | ConvertFrom-Json).fileKeys | Should -Be @(1..25 | ForEach-Object { 'd2/f{0:00}.txt' -f $_ })
        (Get-AgentIndexEntry 'd2/f05.txt').ParentKey | Should -Be 'd2'
        (Get-AgentIndexEntry 'd2/f06.txt').ParentKey | Should -Be 'd2'
    }
}

Describe 'Progress and Ctrl+C of <_>' -ForEach 'Set-AgentGraphNode', 'Set-AgentGraphEdge', 'Set-AgentIndexEntry' {
    BeforeAll {
        $script:name = $_
        $script:path = @{ 'Set-AgentGraphNode' = '/graph/nodes'; 'Set-AgentGraphEdge' = '/graph/edges'; 'Set-AgentIndexEntry' = '/index' }[$_]
        $script:unit = @{ 'Set-AgentGraphNode' = 'set'; 'Set-AgentGraphEdge' = 'set'; 'Set-AgentIndexEntry' = 'files' }[$_]
        # One input per number, for the cmdlet under test, in the shell that runs it.
        $script:script = @{
            'Set-AgentGraphNode'  = { param($n, $limit) 1..$n | ForEach-Object { [pscustomobject]@{ Id = "p$_"; Type = 'task'; Name = "p $_" } } | Set-AgentGraphNode -ThrottleLimit $limit -PassThru }
            'Set-AgentGraphEdge'  = { param($n, $limit) 1..$n | ForEach-Object { [pscustomobject]@{ SourceId = "p$_"; TargetId = "q$_"; Type = "progress$([guid]::NewGuid().ToString('N'))" } } | Set-AgentGraphEdge -ThrottleLimit $limit -PassThru }
            'Set-AgentIndexEntry' = { param($n, $limit) 1..$n | ForEach-Object { [pscustomobject]@{ Key = "p$_"; Category = 'file'; Summary = "p $_" } } | Set-AgentIndexEntry -ThrottleLimit $limit -PassThru }
        }[$_]
    }
    BeforeEach {
        Clear-MockFault $server
        Clear-MockRequest $server
        $script:agent = New-TestAgentId progress
        $script:full = "/mailbox/$([Uri]::EscapeDataString($agent))$path"
    }

    It 'writes progress records and a completed one when the run lasts longer than two seconds, none for a short run' {
        $ps = New-ConnectedShell $script:server $agent
        try {
            # 30 inputs, 200 ms each, two at a time: about three seconds.
            Add-MockFault $server -Path $full -Method POST -DelayMs 200 -Count 30 | Out-Null
            $null = $ps.AddScript($script).AddArgument(30).AddArgument(2)
            $ps.Invoke().Count | Should -Be 30
            $progress = @($ps.Streams.Progress)
            @($progress | Where-Object RecordType -EQ 'Processing').Count | Should -BeGreaterThan 0
            $progress[-1].RecordType | Should -Be 'Completed'
            $progress[0].StatusDescription | Should -Match "^\d+ $unit, [\d.,]+/s$"
            $progress[-1].StatusDescription | Should -Be "30 $unit"
            @($progress.ActivityId | Sort-Object -Unique).Count | Should -Be 1

            $ps.Streams.Progress.Clear(); $ps.Commands.Clear()
            $null = $ps.AddScript($script).AddArgument(3).AddArgument(2)
            $ps.Invoke().Count | Should -Be 3
            $ps.Streams.Progress.Count | Should -Be 0
        } finally {
            Clear-MockFault $server
            $ps.Dispose()
        }
    }

    It 'stops within a second on Ctrl+C with requests in flight, and sends nothing twice' {
        $ps = New-ConnectedShell $script:server $agent
        try {
            # Every request is held for a minute: only Ctrl+C can end this run in time.
            Add-MockFault $server -Path $full -Method POST -DelayMs 60000 -Count -1 | Out-Null
            $null = $ps.AddScript($script).AddArgument(40).AddArgument(8)
            $async = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (@(Get-MockRequest $server $full).Count -lt 8 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            @(Get-MockRequest $server $full).Count | Should -Be 8 -Because 'eight requests are in flight'

            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 1
            $async.IsCompleted | Should -BeTrue
            $thrown = { $ps.EndInvoke($async) } | Should -Throw -PassThru
            $thrown.Exception.GetBaseException() | Should -BeOfType ([System.Management.Automation.PipelineStoppedException])

            Start-Sleep -Milliseconds 500
            $bodies = @(Get-MockRequest $server $full | ForEach-Object body)
            $bodies.Count | Should -Be 8 -Because 'nothing more was sent after the stop'
            @($bodies | Sort-Object -Unique).Count | Should -Be 8 -Because 'nothing was sent twice'
        } finally {
            Clear-MockFault $server
            $ps.Dispose()
        }
    }
}
