<#
    The benchmark's PowerShell clients, run as a worker: one JSON command per stdin line, one JSON result per stdout
    line. -Client Module times the AgentMailbox module (imported from -ModulePath); -Client Rest times the
    Invoke-RestMethod loop people write without it. Each workload is timed in-process with a stopwatch; set-up (agent
    registration, the first message of W4) is outside the stopwatch.
#>
param(
    [Parameter(Mandatory)] [ValidateSet('Module', 'Rest')] [string] $Client,
    [string] $ModulePath
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

if ($Client -eq 'Module') { Import-Module $ModulePath }
$script:opened = [Collections.Generic.List[object]]::new()

function Connect-Agent([string] $AgentId, [string] $Server) {
    $connection = Connect-AgentMailbox $AgentId -Server $Server -PassThru
    $script:opened.Add($connection)
    $connection
}

function Get-Memory([string] $Field) {
    $line = [IO.File]::ReadAllLines('/proc/self/status') | Where-Object { $_.StartsWith("${Field}:") }
    if (-not $line) { return -1 }
    return [long](($line -split '\s+')[1])
}

function Start-Watch {
    # A started stopwatch; the process's CPU time (every thread) is noted with it, and reported with the result.
    $script:cpuStart = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds
    [Diagnostics.Stopwatch]::StartNew()
}

function Reset-PeakMemory {
    try { [IO.File]::WriteAllText('/proc/self/clear_refs', '5') } catch { }
}

function Get-FanOutMessage([string] $Prefix, [int] $N) {
    # Built before the stopwatch starts: message i goes to agent i mod 50, with a small payload and snapshot.
    for ($i = 0; $i -lt $N; $i++) {
        [pscustomobject]@{ To = '{0}-r{1:00}' -f $Prefix, ($i % 50); Payload = @{ task = 'summarize'; n = $i }; ContextSnapshot = @{ step = 'research'; count = $i } }
    }
}

function Invoke-Rest([string] $Uri, [object] $Body) {
    if ($null -eq $Body) { return Invoke-RestMethod -Uri $Uri }
    Invoke-RestMethod -Method Post -Uri $Uri -ContentType 'application/json' -Body ($Body | ConvertTo-Json -Depth 10 -Compress)
}

$workloads = @{
    'Module' = @{
        W1 = {
            param($server, $prefix, $n)
            $a = Connect-Agent "$prefix-a" $server
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Send-AgentMessage -Connection $a -To "$prefix-b" -Payload @{ task = 'summarize'; n = $i } -ContextSnapshot @{ step = 'research'; count = $i }
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        W2 = {
            param($server, $prefix, $n)
            $a = Connect-Agent "$prefix-a" $server
            $b = Connect-Agent "$prefix-b" $server
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Send-AgentMessage -Connection $a -To "$prefix-b" -Cc "$prefix-c", "$prefix-d" -Bcc "$prefix-e" -Payload @{ task = 'summarize'; n = $i } -ContextSnapshot @{ step = 'research'; count = $i }
            }
            $inbox = Get-AgentInbox -Connection $b
            @{ ms = $sw.Elapsed.TotalMilliseconds; count = @($inbox).Count }
        }
        W3 = {
            param($server, $reader)
            $c = Connect-Agent $reader $server
            [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
            Reset-PeakMemory
            $baseline = Get-Memory VmRSS
            $allocated = [GC]::GetTotalAllocatedBytes($true)
            $first = $null; $count = 0
            $sw = Start-Watch
            $firstTs = 0
            Get-AgentInbox -Connection $c | ForEach-Object { if ($null -eq $first) { $firstTs = [Diagnostics.Stopwatch]::GetTimestamp(); $first = $sw.Elapsed.TotalMilliseconds }; $count++ }
            $ms = $sw.Elapsed.TotalMilliseconds
            @{ ms = $ms; firstMs = $first; firstTs = $firstTs; count = $count; baselineKB = $baseline; peakKB = (Get-Memory VmHWM); allocatedKB = ([GC]::GetTotalAllocatedBytes($true) - $allocated) / 1KB }
        }
        # Not a workload: PowerShell's own floor for a loop of n cmdlet calls (a parameterless compiled cmdlet of the
        # module, and the two hashtable literals every send builds), to tell PowerShell's cost from the module's.
        floor = {
            param($server, $prefix, $n)
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Get-AgentMailboxConnection; $null = @{ task = 'summarize'; n = $i }; $null = @{ step = 'research'; count = $i }
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        W4 = {
            param($server, $prefix, $n)
            $a = Connect-Agent "$prefix-a" $server
            $b = Connect-Agent "$prefix-b" $server
            $thread = (Send-AgentMessage -Connection $a -To "$prefix-b" -Cc "$prefix-c", "$prefix-d" -Payload @{ task = 'start'; n = 0 } -ContextSnapshot @{ step = 'research'; count = 0 }).ThreadId
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Invoke-AgentReplyAll -Connection $b -ThreadId $thread -Payload @{ task = 'ack'; n = $i } -ContextSnapshot @{ step = 'review'; count = $i }
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        # W5, fan-out: n sends from a to 50 agents (message i to agent i mod 50: 50 threads), piped as whole messages.
        W5seq = {
            param($server, $prefix, $n)
            $a = Connect-Agent "$prefix-a" $server
            $messages = Get-FanOutMessage $prefix $n
            $sw = Start-Watch
            $null = $messages | Send-AgentMessage -Connection $a
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        W5throttle = {
            param($server, $prefix, $n)
            $a = Connect-Agent "$prefix-a" $server
            $messages = Get-FanOutMessage $prefix $n
            $sw = Start-Watch
            $null = $messages | Send-AgentMessage -Connection $a -ThrottleLimit 16
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        # What a PowerShell user tries first: ForEach-Object -Parallel, one Send-AgentMessage per message.
        W5parallel = {
            param($server, $prefix, $n)
            $a = Connect-Agent "$prefix-a" $server
            $messages = Get-FanOutMessage $prefix $n
            $path = $ModulePath
            $sw = Start-Watch
            $null = $messages | ForEach-Object -ThrottleLimit 16 -Parallel {
                Import-Module $using:path
                Send-AgentMessage -Connection $using:a -To $_.To -Payload $_.Payload -ContextSnapshot $_.ContextSnapshot
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        # Indexes every .ts file under $dir as the npm package's agentsmcp-index does in full mode: one upsert per
        # file (8 in flight), then one rollup per directory.
        Index = {
            param($server, $agentId, $dir)
            $c = Connect-Agent $agentId $server
            $sw = Start-Watch
            $files = @(Get-ChildItem -LiteralPath $dir -Recurse -File -Filter '*.ts')
            $files | Set-AgentIndexEntry -Connection $c -RelativeTo $dir -Category file -ThrottleLimit 8 `
                -Summary { "$($_.Name): $(Get-Content -LiteralPath $_.FullName -TotalCount 1)" } `
                -Metadata { @{ language = 'typescript'; sizeBytes = $_.Length } }
            $upsertMs = $sw.Elapsed.TotalMilliseconds
            $files | Group-Object { [IO.Path]::GetRelativePath($dir, $_.DirectoryName).Replace('\', '/') } | ForEach-Object {
                $module = $_.Name
                $null = $_.Group | ForEach-Object { "$module/$($_.Name)" } | Merge-AgentIndexEntry -Connection $c -ModuleKey "module:$module"
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds; upsertMs = $upsertMs; count = $files.Count }
        }
    }
    'Rest' = @{
        W1 = {
            param($server, $prefix, $n)
            $null = Invoke-Rest "$server/agents/register" @{ agentId = "$prefix-a" }
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Invoke-Rest "$server/messages/send" @{ from = "$prefix-a"; to = "$prefix-b"; payload = @{ task = 'summarize'; n = $i }; contextSnapshot = @{ step = 'research'; count = $i } }
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        W2 = {
            param($server, $prefix, $n)
            $null = Invoke-Rest "$server/agents/register" @{ agentId = "$prefix-a" }
            $null = Invoke-Rest "$server/agents/register" @{ agentId = "$prefix-b" }
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Invoke-Rest "$server/messages/send" @{ from = "$prefix-a"; to = "$prefix-b"; cc = @("$prefix-c", "$prefix-d"); bcc = @("$prefix-e"); payload = @{ task = 'summarize'; n = $i }; contextSnapshot = @{ step = 'research'; count = $i } }
            }
            $inbox = (Invoke-Rest "$server/mailbox/$([Uri]::EscapeDataString("$prefix-b"))/unread").messages
            @{ ms = $sw.Elapsed.TotalMilliseconds; count = @($inbox).Count }
        }
        W3 = {
            param($server, $reader)
            [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
            Reset-PeakMemory
            $baseline = Get-Memory VmRSS
            $allocated = [GC]::GetTotalAllocatedBytes($true)
            $sw = Start-Watch
            $inbox = (Invoke-Rest "$server/mailbox/$([Uri]::EscapeDataString($reader))/unread").messages
            $ms = $sw.Elapsed.TotalMilliseconds
            @{ ms = $ms; firstMs = $ms; count = @($inbox).Count; baselineKB = $baseline; peakKB = (Get-Memory VmHWM); allocatedKB = ([GC]::GetTotalAllocatedBytes($true) - $allocated) / 1KB }
        }
        W4 = {
            param($server, $prefix, $n)
            $null = Invoke-Rest "$server/agents/register" @{ agentId = "$prefix-b" }
            $thread = (Invoke-Rest "$server/messages/send" @{ from = "$prefix-a"; to = "$prefix-b"; cc = @("$prefix-c", "$prefix-d"); payload = @{ task = 'start'; n = 0 }; contextSnapshot = @{ step = 'research'; count = 0 } }).threadId
            $sw = Start-Watch
            for ($i = 0; $i -lt $n; $i++) {
                $null = Invoke-Rest "$server/messages/reply-all" @{ from = "$prefix-b"; threadId = $thread; payload = @{ task = 'ack'; n = $i }; contextSnapshot = @{ step = 'review'; count = $i } }
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
        W5seq = {
            param($server, $prefix, $n)
            $null = Invoke-Rest "$server/agents/register" @{ agentId = "$prefix-a" }
            $messages = Get-FanOutMessage $prefix $n
            $sw = Start-Watch
            foreach ($m in $messages) {
                $null = Invoke-Rest "$server/messages/send" @{ from = "$prefix-a"; to = $m.To; payload = $m.Payload; contextSnapshot = $m.ContextSnapshot }
            }
            @{ ms = $sw.Elapsed.TotalMilliseconds }
        }
    }
}

$stdout = [Console]::Out
while ($null -ne ($line = [Console]::In.ReadLine())) {
    if (-not $line.Trim()) { continue }
    try {
        $command = $line | ConvertFrom-Json
        if ($command.op -eq 'quit') { break }
        if ($command.op -eq 'hello') { $result = @{ pid = $PID } }
        elseif ($command.op -eq 'W3') { $result = & $workloads[$Client].W3 $command.server $command.reader }
        elseif ($command.op -eq 'Index') { $result = & $workloads[$Client].Index $command.server $command.agentId $command.dir }
        else { $result = & $workloads[$Client][$command.op] $command.server $command.prefix ([int]$command.n) }
        if ($command.op -ne 'hello') { $result.cpuMs = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - $script:cpuStart }
        $result.ok = $true
    }
    catch {
        $result = @{ ok = $false; error = "$_" }
    }
    finally {
        # Close every connection a workload opened (outside its stopwatch).
        if ($Client -eq 'Module') { foreach ($c in $script:opened) { Disconnect-AgentMailbox -Connection $c }; $script:opened.Clear() }
    }
    $stdout.WriteLine(($result | ConvertTo-Json -Compress))
    $stdout.Flush()
}
