<#
.SYNOPSIS
    Times pipelines at scale against a server a network round trip away: a fan-out of sends, and indexing a tree,
    through a loopback relay that adds a round-trip delay to every connection.

.DESCRIPTION
    W5, fan-out: 500 sends from one agent to 50 agents (message i to agent i mod 50, so 50 threads), a small payload
    and context snapshot each, through a relay that delays every chunk by half the round trip in each direction
    (20 ms of round trip by default), against the reference server. Clients: the raw HttpClient client sequential
    and with 16 requests in flight, the Invoke-RestMethod loop, the JS SDK loop, the module sequential, the module
    with -ThrottleLimit 16, and the module under ForEach-Object -Parallel -ThrottleLimit 16. Each client is a
    long-lived worker (process start excluded), timed in-process; rounds alternate the clients, after a warm-up.

    Index: the same generated tree of TypeScript files indexed by the npm package's agentsmcp-index (full mode,
    --concurrency 8: one upsert per file, one rollup per directory, an overview entry) and by the module
    (Set-AgentIndexEntry -ThrottleLimit 8, then Merge-AgentIndexEntry per directory), through the same relay.
    agentsmcp-index is a whole node process: its time is quoted as measured and less a bare `node -e 0` start.

    Figures, not assertions: the machine is shared and noisy, so read the ratios of one run.

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task BenchFanOut

.EXAMPLE
    dotnet pwsh ./bench/FanOut.ps1 -Runs 1 -Sends 100    # a quick look
#>
[CmdletBinding()]
param(
    [ValidateSet('Reference', 'Mock')]
    [string] $Server = 'Reference',

    # Timed rounds, after one warm-up round (a tenth of the sends).
    [ValidateRange(1, 50)]
    [int] $Runs = 3,

    [ValidateRange(1, 100000)]
    [int] $Sends = 500,

    # The round trip the relay adds, in milliseconds (half of it on each direction).
    [ValidateRange(0, 1000)]
    [double] $RoundTripMs = 20,

    # Files of the generated tree the index comparison indexes (in directories of 25).
    [ValidateRange(0, 5000)]
    [int] $IndexFiles = 500,

    [string] $OutputDirectory
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Split-Path -Parent $PSScriptRoot
$bench = $PSScriptRoot
if (-not $OutputDirectory) { $OutputDirectory = Join-Path $root 'out/bench' }
$modulePath = Join-Path $root 'out/AgentMailbox/AgentMailbox.psd1'
Import-Module (Join-Path $root 'tools/Servers.psm1') -Force
Import-Module (Join-Path $bench 'BenchWorkers.psm1') -Force

if (-not (Test-Path $modulePath)) { throw "The module is not built ($modulePath): run ./build.ps1 first, or ./build.ps1 -Task BenchFanOut." }
$haveNode = [bool](Get-Command node -ErrorAction SilentlyContinue)
if ($Server -eq 'Reference' -and -not ($haveNode -and (Install-ReferenceServer))) { throw 'The reference server is not installed (./build.ps1 -Task Bootstrap).' }
$stamp = [DateTime]::UtcNow.ToString('HHmmss')
$workDir = Join-Path ([IO.Path]::GetTempPath()) "agentmailbox-fanout-$stamp-$PID"
New-Item -ItemType Directory -Force -Path $workDir, $OutputDirectory | Out-Null
$PSDefaultParameterValues['Start-Worker:WorkingDirectory'] = $workDir

Write-Host 'Building the raw client...'
Invoke-Dotnet build (Join-Path $bench 'RawClient/RawClient.csproj') -c Release --nologo -v quiet
$rawDll = Join-Path $bench 'RawClient/bin/Release/net10.0/RawClient.dll'
$pwsh = Get-PwshCommand
$refserver = Join-Path $root 'tools/refserver'
$indexScript = $null
$packageDir = if ($env:AGENTMAILBOX_REFSERVER) { Split-Path -Parent (Split-Path -Parent $env:AGENTMAILBOX_REFSERVER) } else { Join-Path $refserver 'node_modules/agentsmcp' }
if ($haveNode -and (Test-Path (Join-Path $packageDir 'dist/scripts/index-codebase.js'))) { $indexScript = Join-Path $packageDir 'dist/scripts/index-codebase.js' }

# Which worker runs each client, and with which command.
$clients = [ordered]@{
    RawSeq         = @{ Worker = 'Raw'; Op = 'W5'; InFlight = 1; Name = 'raw HttpClient, sequential' }
    Raw16          = @{ Worker = 'Raw'; Op = 'W5'; InFlight = 16; Name = 'raw HttpClient, 16 in flight' }
    Rest           = @{ Worker = 'Rest'; Op = 'W5seq'; Name = 'Invoke-RestMethod loop' }
    JsSdk          = @{ Worker = 'JsSdk'; Op = 'W5'; Name = 'JS SDK (agentsmcp) loop' }
    ModuleSeq      = @{ Worker = 'Module'; Op = 'W5seq'; Name = 'module, sequential' }
    ModuleThrottle = @{ Worker = 'Module'; Op = 'W5throttle'; Name = 'module, -ThrottleLimit 16' }
    ModuleParallel = @{ Worker = 'Module'; Op = 'W5parallel'; Name = 'module under ForEach-Object -Parallel -ThrottleLimit 16' }
}

$samples = [Collections.Generic.List[object]]::new()
$index = [Collections.Generic.List[object]]::new()
$workers = [ordered]@{}
$running = $null
try {
    Write-Host 'Starting the clients...'
    $workers.Raw = Start-Worker 'Raw' @('dotnet', $rawDll)
    $workers.Module = Start-Worker 'Module' ($pwsh + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $bench 'worker.ps1'), '-Client', 'Module', '-ModulePath', $modulePath))
    $workers.Rest = Start-Worker 'Rest' ($pwsh + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $bench 'worker.ps1'), '-Client', 'Rest'))
    if ($haveNode -and (Test-Path $packageDir)) {
        $workers.JsSdk = Start-Worker 'JsSdk' @('node', (Join-Path $bench 'js/worker.js'), (Split-Path -Parent (Split-Path -Parent $packageDir)))
    }
    else { $clients.Remove('JsSdk'); Write-Warning 'Node.js or the agentsmcp package is missing: the JS SDK is not measured.' }

    $running = Start-AgentMailboxServer -Kind $Server
    $relay = Invoke-Worker $workers.Raw @{ op = 'relay'; server = $running.Uri; delayMs = $RoundTripMs / 2 }
    Write-Host "[$Server] server at $($running.Uri), through a relay adding $RoundTripMs ms of round trip at $($relay.uri)"

    $names = @($clients.Keys)
    for ($round = 0; $round -le $Runs; $round++) {
        $order = for ($i = 0; $i -lt $names.Count; $i++) { $names[($i + $round) % $names.Count] }
        foreach ($client in $order) {
            $spec = $clients[$client]
            $n = if ($round -eq 0) { [Math]::Max(1, [int]($Sends / 10)) } else { $Sends }
            $command = @{ op = $spec.Op; server = $relay.uri; prefix = "w5-$stamp-r$round-$client".ToLowerInvariant(); n = $n }
            if ($spec.ContainsKey('InFlight')) { $command.inFlight = $spec.InFlight }
            $result = Invoke-Worker $workers[$spec.Worker] $command
            if ($round -eq 0) { continue }
            $samples.Add([pscustomobject]@{ Client = $client; Round = $round; Ms = [double]$result.ms })
            Write-Host ("[$Server] round $round {0}: {1:0} ms" -f $spec.Name, $result.ms)
        }
    }

    if ($IndexFiles -gt 0 -and $indexScript) {
        # A tree of TypeScript files, 25 to a directory, each with a doc comment and an export.
        $tree = Join-Path $workDir 'tree'
        for ($i = 0; $i -lt $IndexFiles; $i++) {
            $dir = Join-Path $tree ('pkg{0:000}' -f [int][Math]::Floor($i / 25))
            if (-not (Test-Path $dir)) { New-Item -ItemType Directory -Path $dir | Out-Null }
            Set-Content -LiteralPath (Join-Path $dir ('file{0:0000}.ts' -f $i)) -Value @(
                "/** Module $i of the generated tree: parses and validates records. */"
                "import { helper } from './helper';"
                "export function run$i(input: string): string { return helper(input) + '$i'; }"
            )
        }
        $bare = [Collections.Generic.List[double]]::new()
        for ($round = 0; $round -le $Runs; $round++) {
            foreach ($client in $(if ($round % 2) { 'Module', 'Node' } else { 'Node', 'Module' })) {
                $agent = "index-$stamp-r$round-$client".ToLowerInvariant()
                if ($client -eq 'Node') {
                    $watch = [Diagnostics.Stopwatch]::StartNew()
                    $output = & node $indexScript --server $relay.uri --agent-id $agent --dir $tree --mode full --concurrency 8 2>&1
                    $ms = $watch.Elapsed.TotalMilliseconds
                    if ($LASTEXITCODE -ne 0) { throw "agentsmcp-index failed: $($output -join [Environment]::NewLine)" }
                    $watch = [Diagnostics.Stopwatch]::StartNew()
                    & node -e 0
                    $bareMs = $watch.Elapsed.TotalMilliseconds
                    if ($round -gt 0) { $bare.Add($bareMs); $index.Add([pscustomobject]@{ Client = 'Node'; Ms = $ms; UpsertMs = [double]::NaN }) }
                }
                else {
                    $result = Invoke-Worker $workers.Module @{ op = 'Index'; server = $relay.uri; agentId = $agent; dir = $tree }
                    if ([int]$result.count -ne $IndexFiles) { throw "The module indexed $($result.count) files, not $IndexFiles." }
                    if ($round -gt 0) { $index.Add([pscustomobject]@{ Client = 'Module'; Ms = [double]$result.ms; UpsertMs = [double]$result.upsertMs }) }
                }
            }
        }
    }
    elseif ($IndexFiles -gt 0) { Write-Warning 'agentsmcp-index is not installed: the index comparison is skipped.' }
}
finally {
    foreach ($worker in $workers.Values) { Stop-Worker $worker }
    if ($running) { $running | Stop-AgentMailboxServer }
}

# Report.
$median = @{}
foreach ($client in $clients.Keys) { $median[$client] = Get-Median ([double[]]@($samples | Where-Object Client -eq $client | ForEach-Object Ms)) }
$md = [Text.StringBuilder]::new()
$null = $md.AppendLine(('W5 fan-out: {0} sends to 50 agents (50 threads) through {1} ms of round trip, {2} server; medians of {3} rounds after a warm-up, clients alternating.' -f $Sends, $RoundTripMs, $Server.ToLowerInvariant(), $Runs))
$null = $md.AppendLine()
$null = $md.AppendLine('| client | median ms | min–max ms | ÷ raw sequential | ÷ raw 16 in flight |')
$null = $md.AppendLine('|---|---:|---:|---:|---:|')
foreach ($client in $clients.Keys) {
    $ms = [double[]]@($samples | Where-Object Client -eq $client | ForEach-Object Ms)
    $null = $md.AppendLine(('| {0} | {1} | {2}–{3} | {4} | {5} |' -f $clients[$client].Name, (Format-Number $median[$client]),
            (Format-Number ($ms | Measure-Object -Minimum).Minimum), (Format-Number ($ms | Measure-Object -Maximum).Maximum),
            (Format-Number ($median[$client] / $median.RawSeq) '0.00'), (Format-Number ($median[$client] / $median.Raw16) '0.00')))
}
if ($index.Count) {
    $nodeMs = Get-Median ([double[]]@($index | Where-Object Client -eq 'Node' | ForEach-Object Ms))
    $bareMs = Get-Median ([double[]]$bare)
    $moduleMs = Get-Median ([double[]]@($index | Where-Object Client -eq 'Module' | ForEach-Object Ms))
    $moduleUpsertMs = Get-Median ([double[]]@($index | Where-Object Client -eq 'Module' | ForEach-Object UpsertMs))
    $null = $md.AppendLine()
    $null = $md.AppendLine(('Index: {0} files in {1} directories, the same relay; medians of {2}.' -f $IndexFiles, [Math]::Ceiling($IndexFiles / 25), $Runs))
    $null = $md.AppendLine()
    $null = $md.AppendLine('| indexer | median ms | of which upserts ms |')
    $null = $md.AppendLine('|---|---:|---:|')
    $null = $md.AppendLine(('| agentsmcp-index --mode full --concurrency 8 (whole node process) | {0} | – |' -f (Format-Number $nodeMs)))
    $null = $md.AppendLine(('| the same, less a bare node start ({0} ms) | {1} | – |' -f (Format-Number $bareMs), (Format-Number ($nodeMs - $bareMs))))
    $null = $md.AppendLine(('| module: Set-AgentIndexEntry -ThrottleLimit 8, Merge-AgentIndexEntry per directory (in-process) | {0} | {1} |' -f (Format-Number $moduleMs), (Format-Number $moduleUpsertMs)))
}

$checks = [Collections.Generic.List[string]]::new()
function Add-Check([string] $Text, [double] $Value, [double] $Limit, [switch] $AtLeast) {
    if ([double]::IsNaN($Value)) { $checks.Add("- n/a    $Text"); return }
    $met = if ($AtLeast) { $Value -ge $Limit } else { $Value -le $Limit }
    $checks.Add(('- {0} {1}: {2} ({3} {4})' -f $(if ($met) { 'met   ' } else { 'MISSED' }), $Text, (Format-Number $Value '0.00'), $(if ($AtLeast) { '≥' } else { '≤' }), (Format-Number $Limit '0.00')))
}
Add-Check 'module -ThrottleLimit 16 ÷ raw 16 in flight' ($median.ModuleThrottle / $median.Raw16) 1.25
Add-Check 'Invoke-RestMethod loop ÷ module -ThrottleLimit 16 (speed-up)' ($median.Rest / $median.ModuleThrottle) 8 -AtLeast
if ($clients.Contains('JsSdk')) { Add-Check 'JS SDK loop ÷ module -ThrottleLimit 16 (speed-up)' ($median.JsSdk / $median.ModuleThrottle) 8 -AtLeast }
Add-Check 'module -ThrottleLimit 16 ÷ ForEach-Object -Parallel -ThrottleLimit 16' ($median.ModuleThrottle / $median.ModuleParallel) 1
Add-Check 'module sequential ÷ raw sequential' ($median.ModuleSeq / $median.RawSeq) 1.05
if ($index.Count) { Add-Check 'module index ÷ agentsmcp-index less node start' ($moduleMs / ($nodeMs - $bareMs)) 1 }
$null = $md.AppendLine()
$null = $md.AppendLine('Targets:')
$null = $md.AppendLine()
foreach ($check in $checks) { $null = $md.AppendLine($check) }

$report = $md.ToString()
Set-Content -Path (Join-Path $OutputDirectory 'fanout.md') -Value $report -Encoding utf8
Remove-Item -Recurse -Force $workDir -ErrorAction SilentlyContinue
Write-Host ''
Write-Host $report
Write-Host "Results: $(Join-Path $OutputDirectory 'fanout.md')"
