<#
.SYNOPSIS
    Times the AgentMailbox module against a raw HttpClient client, an Invoke-RestMethod loop and the JS SDK, on a
    fresh reference server and on the module's mock server, and prints medians, spreads and ratios to the raw client.

.DESCRIPTION
    Every client is a long-lived worker process (bench/RawClient, bench/js/worker.js, bench/worker.ps1), so process
    start is excluded from the workloads; each workload is timed in-process with a stopwatch. Per server and
    workload: one warm-up round, then -Runs rounds (-W3Runs for W3) in which every client runs once, in an order
    that rotates from round to round. Agent ids are fresh for every client and round, so every run does the same work on the server.

    W1  1000 sequential sends a -> b, a small payload and context snapshot each
    W2  200 sends a -> b with cc and bcc, then one inbox read by b
    W3  one inbox read of 2000 unread messages over 50 threads: time to the first object, total, peak memory
    W4  100 reply-alls on one thread
    Import-Module over a bare pwsh -NoProfile start, and the JSON <-> PSObject converter alone (BenchmarkDotNet).
    Index: a full index and incremental re-indexes of a 2,000-file tree (bench/IndexBench.ps1; -SkipIndex skips it).
    One-shot jobs (-Workload OneShot, or All): a fresh process per run that imports, connects and reads the W3 inbox
    or sends one message, beside the same job as an Invoke-RestMethod script and as a raw C# process (bench/OneShot.ps1).

    The machine is shared and noisy: read the ratios, measured in the same run, rather than the absolute times.

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench

.EXAMPLE
    dotnet pwsh ./bench/Bench.ps1 -Server Mock -Runs 3 -Scale 0.1 -SkipConverter    # a quick look

.EXAMPLE
    dotnet pwsh ./bench/Bench.ps1 -Workload OneShot    # the one-shot jobs alone (needs the reference server)
#>
[CmdletBinding()]
param(
    [ValidateSet('Both', 'Reference', 'Mock')]
    [string] $Server = 'Both',

    # Timed rounds per workload, after one warm-up round.
    [ValidateRange(1, 50)]
    [int] $Runs = 9,

    # Timed rounds of W3 (each reads the whole large inbox, which costs the reference server seconds).
    [ValidateRange(1, 50)]
    [int] $W3Runs = 3,

    # Multiplies the workload sizes (1 = the sizes above); for quick looks while developing.
    [ValidateRange(0.01, 10)]
    [double] $Scale = 1,

    # Runs of each of the two pwsh start-ups compared for the Import-Module cost.
    [ValidateRange(1, 50)]
    [int] $ImportRuns = 9,

    [switch] $SkipConverter,
    [switch] $SkipImport,
    [switch] $SkipIndex,

    # Where the results go (Markdown and JSON); out/bench by default.
    [string] $OutputDirectory,

    # Warm: the long-lived workers above. OneShot: bench/OneShot.ps1 alone, a fresh process per job (read, send,
    # import). All: both.
    [ValidateSet('All', 'Warm', 'OneShot')]
    [string] $Workload = 'All',

    # Rounds of the one-shot jobs, after one warm-up round.
    [ValidateRange(1, 50)]
    [int] $OneShotRuns = 7
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Split-Path -Parent $PSScriptRoot
$bench = $PSScriptRoot
if (-not $OutputDirectory) { $OutputDirectory = Join-Path $root 'out/bench' }
$modulePath = Join-Path $root 'out/AgentMailbox/AgentMailbox.psd1'
Import-Module (Join-Path $root 'tools/Servers.psm1') -Force
if ($Workload -eq 'OneShot') {
    & (Join-Path $PSScriptRoot 'OneShot.ps1') -Runs $OneShotRuns -OutputDirectory $OutputDirectory
    return
}

# Worker processes, medians and number formatting, shared with bench/FanOut.ps1.
Import-Module (Join-Path $PSScriptRoot 'BenchWorkers.psm1') -Force

#region Set-up

if (-not (Test-Path $modulePath)) { throw "The module is not built ($modulePath): run ./build.ps1 first, or ./build.ps1 -Task Bench." }
$stamp = [DateTime]::UtcNow.ToString('HHmmss')
$script:workDir = Join-Path ([IO.Path]::GetTempPath()) "agentmailbox-bench-$stamp-$PID"
New-Item -ItemType Directory -Force -Path $script:workDir, $OutputDirectory | Out-Null
$PSDefaultParameterValues['Start-Worker:WorkingDirectory'] = $script:workDir

Write-Host 'Building the raw client...'
Invoke-Dotnet build (Join-Path $bench 'RawClient/RawClient.csproj') -c Release --nologo -v quiet
$rawDll = Join-Path $bench 'RawClient/bin/Release/net10.0/RawClient.dll'

$sizes = [ordered]@{
    W1 = [Math]::Max(1, [int](1000 * $Scale))
    W2 = [Math]::Max(1, [int](200 * $Scale))
    W3Threads = [Math]::Max(1, [int](50 * [Math]::Min(1.0, $Scale * 2)))
    W3PerThread = 40
    W4 = [Math]::Max(1, [int](100 * $Scale))
}
$sizes.W3PerThread = [Math]::Max(1, [int]([Math]::Round(2000 * $Scale / $sizes.W3Threads)))

$serverKinds = switch ($Server) { 'Both' { 'Reference', 'Mock' } default { $Server } }
$haveNode = [bool](Get-Command node -ErrorAction SilentlyContinue)
$haveReference = $haveNode -and (Install-ReferenceServer)
if ('Reference' -in $serverKinds -and -not $haveReference) {
    Write-Warning 'The reference server is not installed (./build.ps1 -Task Bootstrap): benchmarking against the mock server only.'
    $serverKinds = @($serverKinds | Where-Object { $_ -ne 'Reference' })
}
$pwsh = Get-PwshCommand

$machine = [ordered]@{
    Date      = [DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm') + ' UTC'
    OS        = [Runtime.InteropServices.RuntimeInformation]::OSDescription
    CPU       = $(try { ((Get-Content /proc/cpuinfo | Where-Object { $_ -match '^model name' } | Select-Object -First 1) -split ':\s*', 2)[1] } catch { 'unknown' })
    Cores     = [Environment]::ProcessorCount
    MemoryGB  = $(try { [Math]::Round([double]((Get-Content /proc/meminfo -TotalCount 1) -replace '\D', '') / 1MB, 1) } catch { 0 })
    DotNet    = [Environment]::Version.ToString()
    PowerShell = $PSVersionTable.PSVersion.ToString()
    Node      = $(if ($haveNode) { (& node --version) } else { 'none' })
}
Write-Host ("Machine: {0}; {1} ({2} cores, {3} GB); .NET {4}, PowerShell {5}, Node {6}" -f $machine.OS, $machine.CPU, $machine.Cores, $machine.MemoryGB, $machine.DotNet, $machine.PowerShell, $machine.Node)
Write-Host ("Sizes: W1 {0} sends, W2 {1} sends + 1 read, W3 {2} threads x {3} unread, W4 {4} reply-alls; {5} timed rounds ({6} for W3) after 1 warm-up" -f $sizes.W1, $sizes.W2, $sizes.W3Threads, $sizes.W3PerThread, $sizes.W4, $Runs, [Math]::Min($Runs, $W3Runs))

#endregion

$samples = [Collections.Generic.List[object]]::new()
$streams = [Collections.Generic.List[object]]::new()
$workers = [ordered]@{}
try {
    Write-Host 'Starting the clients...'
    $workers.Raw = Start-Worker 'Raw' @('dotnet', $rawDll)
    $workers.Library = Start-Worker 'Library' @('dotnet', $rawDll, '--library')
    $workers.Module = Start-Worker 'Module' ($pwsh + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $bench 'worker.ps1'), '-Client', 'Module', '-ModulePath', $modulePath))
    $workers.Rest = Start-Worker 'Rest' ($pwsh + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $bench 'worker.ps1'), '-Client', 'Rest'))
    if ($haveReference) {
        $workers.JsSdk = Start-Worker 'JsSdk' @('node', '--expose-gc', (Join-Path $bench 'js/worker.js'), (Join-Path $root 'tools/refserver'))
    }
    else { Write-Warning 'Node.js or the agentsmcp package is missing: the JS SDK is not measured.' }
    $clients = @($workers.Keys)
    # The PowerShell floor runs in the module's worker, alternating with the clients, on the workloads of n calls.
    $floorFor = @('W1', 'W4')

    foreach ($kind in $serverKinds) {
        $running = Start-AgentMailboxServer -Kind $kind
        try {
            Write-Host "[$kind] server at $($running.Uri)$(if ($running.DatabasePath) { ", fresh SQLite file $($running.DatabasePath)" })"
            $seed = Invoke-Worker $workers.Raw @{ op = 'seed3'; server = $running.Uri; reader = 'w3-reader'; threads = $sizes.W3Threads; perThread = $sizes.W3PerThread }
            Write-Host ("[$kind] W3 inbox seeded: {0} messages in {1:0.0} s" -f ($sizes.W3Threads * $sizes.W3PerThread), ($seed.ms / 1000))

            foreach ($load in 'W1', 'W2', 'W4', 'W3') {
                $n = if ($load -ne 'W3') { $sizes[$load] } else { 0 }
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $rounds = if ($load -eq 'W3') { [Math]::Min($Runs, $W3Runs) } else { $Runs }
                for ($round = 0; $round -le $rounds; $round++) {
                    # Round 0 warms up (a tenth of the work); the order of the clients rotates every round.
                    $these = if ($load -in $floorFor) { $clients + 'PsFloor' } else { $clients }
                    $order = for ($i = 0; $i -lt $these.Count; $i++) { $these[($i + $round) % $these.Count] }
                    foreach ($client in $order) {
                        $command = @{ op = $load; server = $running.Uri; prefix = "$kind-$load-$stamp-r$round-$client".ToLowerInvariant() }
                        if ($load -eq 'W3') { $command.reader = 'w3-reader' }
                        else { $command.n = if ($round -eq 0) { [Math]::Max(1, [int]($n / 10)) } else { $n } }
                        $worker = $workers[$client]
                        if ($client -eq 'PsFloor') { $worker = $workers.Module; $command.op = 'floor' }
                        $result = Invoke-Worker $worker $command
                        if ($round -eq 0) { continue }
                        $sample = [ordered]@{ Server = $kind; Workload = $load; Client = $client; Round = $round; Ms = [double]$result.ms }
                        foreach ($extra in 'cpuMs', 'firstMs', 'headersMs', 'lastByteMs', 'bytes', 'baselineKB', 'peakKB', 'allocatedKB') {
                            if ($result.PSObject.Properties[$extra]) { $sample[$extra] = [double]$result.$extra }
                        }
                        if ($result.PSObject.Properties['count']) { $sample.Items = [int]$result.count }
                        $samples.Add([pscustomobject]$sample)
                    }
                }
                Write-Host ("[$kind] {0} done in {1:0.0} s" -f $load, $watch.Elapsed.TotalSeconds)
            }

            # Streaming, within one run: the module reads the W3 inbox through a relay that notes when the answer's
            # bytes pass; its first object's time is compared with the answer's last byte on the shared monotonic clock.
            $relay = Invoke-Worker $workers.Raw @{ op = 'relay'; server = $running.Uri }
            foreach ($client in 'Module', 'Library') {
                for ($k = 0; $k -lt 3; $k++) {
                    $result = Invoke-Worker $workers[$client] @{ op = 'W3'; server = $relay.uri; reader = 'w3-reader' }
                    $passed = Invoke-Worker $workers.Raw @{ op = 'relayLast' }
                    $toMs = 1000.0 / [double]$passed.frequency
                    $streams.Add([pscustomobject]@{
                            Server = $kind; Client = $client
                            FirstMs = ([double]$result.firstTs - [double]$passed.answerStartedTs) * $toMs
                            LastByteMs = ([double]$passed.lastByteTs - [double]$passed.answerStartedTs) * $toMs
                            Bytes = [double]$passed.bytes
                        })
                }
            }
        }
        finally { $running | Stop-AgentMailboxServer }
    }
}
finally {
    foreach ($worker in $workers.Values) { Stop-Worker $worker }
}

#region Import-Module cost

$import = $null
if (-not $SkipImport) {
    Write-Host 'Timing pwsh start-ups with and without Import-Module...'
    # The control: an empty manifest module, i.e. what PowerShell's first Import-Module of any module costs.
    $empty = Join-Path $script:workDir 'Empty/Empty.psd1'
    New-Item -ItemType Directory -Force -Path (Split-Path $empty) | Out-Null
    Set-Content -Path $empty -Value "@{ ModuleVersion = '1.0.0' }"
    $variants = [ordered]@{
        Bare   = '$s = [Diagnostics.Stopwatch]::StartNew(); [Console]::WriteLine($s.Elapsed.TotalMilliseconds)'
        Import = "`$s = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$modulePath'; [Console]::WriteLine(`$s.Elapsed.TotalMilliseconds)"
        Empty  = "`$s = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$empty'; [Console]::WriteLine(`$s.Elapsed.TotalMilliseconds)"
    }
    $wall = @{}; $inside = @{}
    foreach ($name in $variants.Keys) { $wall[$name] = [Collections.Generic.List[double]]::new(); $inside[$name] = [Collections.Generic.List[double]]::new() }
    for ($round = 0; $round -le $ImportRuns; $round++) {
        $names = @($variants.Keys)
        $names = for ($i = 0; $i -lt $names.Count; $i++) { $names[($i + $round) % $names.Count] }
        foreach ($name in $names) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $output = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $variants[$name]
            $elapsed = $watch.Elapsed.TotalMilliseconds
            if ($LASTEXITCODE -ne 0) { throw "pwsh ($name) failed with exit code $LASTEXITCODE." }
            if ($round -eq 0) { continue }   # warm-up: file cache
            $wall[$name].Add($elapsed)
            $inside[$name].Add([double]::Parse(@($output)[-1], [Globalization.CultureInfo]::InvariantCulture))
        }
    }
    $import = [ordered]@{
        BareMs          = Get-Median $wall.Bare
        ImportMs        = Get-Median $wall.Import
        AddedMs         = (Get-Median $wall.Import) - (Get-Median $wall.Bare)
        InProcessMs     = Get-Median $inside.Import
        EmptyAddedMs    = (Get-Median $wall.Empty) - (Get-Median $wall.Bare)
        EmptyInProcessMs = Get-Median $inside.Empty
        BareSpread      = '{0}–{1}' -f (Format-Number ($wall.Bare | Measure-Object -Minimum).Minimum), (Format-Number ($wall.Bare | Measure-Object -Maximum).Maximum)
        ImportSpread    = '{0}–{1}' -f (Format-Number ($wall.Import | Measure-Object -Minimum).Minimum), (Format-Number ($wall.Import | Measure-Object -Maximum).Maximum)
    }
}

#endregion

#region Converter micro-benchmark

$converter = $null
if (-not $SkipConverter) {
    Write-Host 'Running the converter micro-benchmark (BenchmarkDotNet)...'
    $artifacts = Join-Path $OutputDirectory 'converter'
    if (Test-Path $artifacts) { Remove-Item -Recurse -Force $artifacts }
    Invoke-Dotnet build (Join-Path $bench 'ConverterBench/ConverterBench.csproj') -c Release --nologo -v quiet
    # Below full size (-Scale < 1) the micro-benchmark only checks that it runs (one cold iteration each).
    $converterArgs = @((Join-Path $bench 'ConverterBench/bin/Release/net10.0/ConverterBench.dll'), '--pshome', $PSHOME, '--artifacts', $artifacts)
    if ($Scale -lt 1) { $converterArgs += '--quick' }
    & dotnet @converterArgs | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "The converter benchmark failed with exit code $LASTEXITCODE." }
    $report = Get-ChildItem (Join-Path $artifacts 'results') -Filter '*-report-github.md' -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($report) { $converter = [Net.WebUtility]::HtmlDecode((Get-Content -Raw $report.FullName).Trim()) }
    $notes = Join-Path $artifacts 'notes.txt'
    if ($converter -and (Test-Path $notes) -and (Get-Content -Raw $notes)) { $converter += [Environment]::NewLine + [Environment]::NewLine + (Get-Content -Raw $notes).Trim() }
}

#endregion

#region Report

$rows = [Collections.Generic.List[object]]::new()
foreach ($group in ($samples | Group-Object Server, Workload, Client)) {
    $first = $group.Group[0]
    $ms = [double[]]@($group.Group.Ms)
    $row = [ordered]@{
        Server = $first.Server; Workload = $first.Workload; Client = $first.Client
        Median = Get-Median $ms
        Min = ($ms | Measure-Object -Minimum).Minimum
        Max = ($ms | Measure-Object -Maximum).Maximum
        Runs = $ms.Count
    }
    foreach ($extra in 'cpuMs', 'firstMs', 'lastByteMs', 'headersMs', 'bytes', 'Items', 'baselineKB', 'peakKB', 'allocatedKB') {
        if ($first.PSObject.Properties[$extra]) { $row[$extra] = Get-Median ([double[]]@($group.Group.$extra)) }
    }
    if ($first.PSObject.Properties['peakKB']) {
        $row.AboveKB = Get-Median ([double[]]@($group.Group | ForEach-Object { $_.peakKB - $_.baselineKB }))
    }
    $rows.Add([pscustomobject]$row)
}
function Get-Row([string] $Kind, [string] $Workload, [string] $Client) {
    $rows | Where-Object { $_.Server -eq $Kind -and $_.Workload -eq $Workload -and $_.Client -eq $Client } | Select-Object -First 1
}
foreach ($row in $rows) {
    $raw = Get-Row $row.Server $row.Workload 'Raw'
    $row | Add-Member Ratio ($(if ($raw) { $row.Median / $raw.Median } else { [double]::NaN }))
    $row | Add-Member CpuRatio ($(if ($raw -and $row.PSObject.Properties['cpuMs'] -and $raw.PSObject.Properties['cpuMs']) { $row.cpuMs / $raw.cpuMs } else { [double]::NaN }))
}

$clientNames = [ordered]@{
    Raw = 'raw HttpClient'; Module = 'AgentMailbox module'; Rest = 'Invoke-RestMethod loop'; JsSdk = 'JS SDK (agentsmcp)'
    Library = '(diagnostic) AgentMailbox.Client from C#'; PsFloor = '(diagnostic) pwsh floor: n no-op cmdlet calls'
}
$md = [Text.StringBuilder]::new()
$null = $md.AppendLine('| server | workload | client | median ms | min–max ms | ÷ raw | client CPU ms | CPU ÷ raw |')
$null = $md.AppendLine('|---|---|---|---:|---:|---:|---:|---:|')
foreach ($kind in $serverKinds) {
    foreach ($load in 'W1', 'W2', 'W4', 'W3') {
        foreach ($client in $clientNames.Keys) {
            $row = Get-Row $kind $load $client
            if (-not $row) { continue }
            $cpu = if ($row.PSObject.Properties['cpuMs']) { $row.cpuMs } else { [double]::NaN }
            $null = $md.AppendLine(('| {0} | {1} | {2} | {3} | {4}–{5} | {6} | {7} | {8} |' -f $kind.ToLowerInvariant(), $load, $clientNames[$client],
                    (Format-Number $row.Median), (Format-Number $row.Min), (Format-Number $row.Max), (Format-Number $row.Ratio '0.00'),
                    (Format-Number $cpu), (Format-Number $row.CpuRatio '0.00')))
        }
    }
}
$null = $md.AppendLine()
$null = $md.AppendLine('W3 in detail (medians; the raw client''s "last byte" is when the whole body had arrived):')
$null = $md.AppendLine()
$null = $md.AppendLine('| server | client | first object ms | total ms | ÷ raw total | raw: headers / last byte ms | response MB | peak RSS above baseline MB | ÷ response | allocated MB |')
$null = $md.AppendLine('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
foreach ($kind in $serverKinds) {
    $raw = Get-Row $kind 'W3' 'Raw'
    $responseMB = if ($raw) { $raw.bytes / 1MB } else { [double]::NaN }
    foreach ($client in $clientNames.Keys) {
        $row = Get-Row $kind 'W3' $client
        if (-not $row) { continue }
        $above = $row.AboveKB / 1KB
        $allocatedMB = if ($row.PSObject.Properties['allocatedKB']) { $row.allocatedKB / 1KB } else { [double]::NaN }
        $null = $md.AppendLine(('| {0} | {1} | {2} | {3} | {4} | {5} | {6} | {7} | {8} | {9} |' -f $kind.ToLowerInvariant(), $clientNames[$client],
                (Format-Number $row.firstMs), (Format-Number $row.Median), (Format-Number $row.Ratio '0.00'),
                $(if ($raw) { '{0} / {1}' -f (Format-Number $raw.headersMs), (Format-Number $raw.lastByteMs) } else { '–' }),
                (Format-Number $responseMB '0.0'), (Format-Number $above '0.0'), (Format-Number ($above / $responseMB) '0.00'), (Format-Number $allocatedMB '0')))
    }
}
if ($streams.Count) {
    $null = $md.AppendLine()
    $null = $md.AppendLine('W3 streaming, within one run (through a loopback relay; ms after the answer''s first byte passed the relay; medians of 3):')
    $null = $md.AppendLine()
    $null = $md.AppendLine('| server | client | first object written | last byte of the body passed | body MB |')
    $null = $md.AppendLine('|---|---|---:|---:|---:|')
    foreach ($group in ($streams | Group-Object Server, Client)) {
        $null = $md.AppendLine(('| {0} | {1} | {2} | {3} | {4} |' -f $group.Group[0].Server.ToLowerInvariant(), $clientNames[$group.Group[0].Client],
                (Format-Number (Get-Median $group.Group.FirstMs) '0.0'), (Format-Number (Get-Median $group.Group.LastByteMs) '0.0'),
                (Format-Number ((Get-Median $group.Group.Bytes) / 1MB) '0.0')))
    }
}
if ($import) {
    $null = $md.AppendLine()
    $null = $md.AppendLine(('pwsh -NoProfile start (medians of {0}): bare {1} ms ({2}), with Import-Module AgentMailbox {3} ms ({4}): **+{5} ms** (in-process: {6} ms). Control, an empty manifest module: +{7} ms (in-process: {8} ms), the cost of PowerShell''s first Import-Module of any module.' -f
            $ImportRuns, (Format-Number $import.BareMs), $import.BareSpread, (Format-Number $import.ImportMs), $import.ImportSpread,
            (Format-Number $import.AddedMs), (Format-Number $import.InProcessMs), (Format-Number $import.EmptyAddedMs), (Format-Number $import.EmptyInProcessMs)))
}

# Targets (figures, not assertions).
$checks = [Collections.Generic.List[string]]::new()
function Add-Check([string] $Text, [double] $Value, [double] $Limit, [string] $Format = '0.00', [switch] $AtLeast) {
    if ([double]::IsNaN($Value)) { $checks.Add("- n/a  $Text"); return }
    $met = if ($AtLeast) { $Value -ge $Limit } else { $Value -le $Limit }
    $checks.Add(('- {0} {1}: {2} ({3} {4})' -f $(if ($met) { 'met   ' } else { 'MISSED' }), $Text, (Format-Number $Value $Format), $(if ($AtLeast) { '≥' } else { '≤' }), (Format-Number $Limit $Format)))
}
foreach ($kind in $serverKinds) {
    $limit = if ($kind -eq 'Reference') { 1.05 } else { 1.25 }
    foreach ($load in 'W1', 'W2', 'W4') {
        $row = Get-Row $kind $load 'Module'
        Add-Check "$($kind.ToLowerInvariant()) $load module ÷ raw" $(if ($row) { $row.Ratio } else { [double]::NaN }) $limit
    }
    $module = Get-Row $kind 'W1' 'Module'
    $js = Get-Row $kind 'W1' 'JsSdk'
    $rest = Get-Row $kind 'W1' 'Rest'
    if ($module -and $js) { Add-Check "$($kind.ToLowerInvariant()) W1 module ÷ JS SDK" ($module.Median / $js.Median) 1 }
    if ($module -and $rest) { Add-Check "$($kind.ToLowerInvariant()) W1 Invoke-RestMethod loop ÷ module (speed-up)" ($rest.Median / $module.Median) 1.5 -AtLeast }
    $m3 = Get-Row $kind 'W3' 'Module'
    $r3 = Get-Row $kind 'W3' 'Raw'
    $streamed = @($streams | Where-Object { $_.Server -eq $kind -and $_.Client -eq 'Module' })
    if ($streamed) {
        Add-Check "$($kind.ToLowerInvariant()) W3 module first object ÷ the body's last byte (same run, relay)" ((Get-Median $streamed.FirstMs) / (Get-Median $streamed.LastByteMs)) 1
    }
    if ($m3 -and $r3) {
        Add-Check "$($kind.ToLowerInvariant()) W3 module first object ÷ raw client's last body byte (separate runs)" ($m3.firstMs / $r3.lastByteMs) 1
        Add-Check "$($kind.ToLowerInvariant()) W3 module peak above baseline ÷ response size" (($m3.AboveKB * 1KB) / $r3.bytes) 1.5
        Add-Check "$($kind.ToLowerInvariant()) W3 module total ÷ raw" $m3.Ratio 1.1
    }
}
if ($import) { Add-Check 'Import-Module AgentMailbox over a bare pwsh start (ms)' $import.AddedMs 150 '0' }

$text = [Text.StringBuilder]::new()
$null = $text.AppendLine("Machine: $($machine.OS); $($machine.CPU), $($machine.Cores) cores, $($machine.MemoryGB) GB; .NET $($machine.DotNet), PowerShell $($machine.PowerShell), Node $($machine.Node); $($machine.Date).")
$null = $text.AppendLine(("Sizes: W1 {0} sends, W2 {1} sends + 1 read, W3 {2} threads x {3} unread, W4 {4} reply-alls; medians of {5} runs ({6} for W3) after a warm-up, clients alternating." -f $sizes.W1, $sizes.W2, $sizes.W3Threads, $sizes.W3PerThread, $sizes.W4, $Runs, [Math]::Min($Runs, $W3Runs)))
$null = $text.AppendLine()
$null = $text.Append($md.ToString())
$null = $text.AppendLine()
$null = $text.AppendLine('Targets:')
$null = $text.AppendLine()
foreach ($check in $checks) { $null = $text.AppendLine($check) }
if ($converter) {
    $null = $text.AppendLine()
    $null = $text.AppendLine('JSON <-> PSObject converter alone (BenchmarkDotNet):')
    $null = $text.AppendLine()
    $null = $text.AppendLine($converter)
}

$report = $text.ToString()
Set-Content -Path (Join-Path $OutputDirectory 'results.md') -Value $report -Encoding utf8
[ordered]@{ Machine = $machine; Sizes = $sizes; Runs = $Runs; Samples = $samples; Rows = $rows; Streaming = $streams; Import = $import } |
    ConvertTo-Json -Depth 6 | Set-Content -Path (Join-Path $OutputDirectory 'results.json') -Encoding utf8
Remove-Item -Recurse -Force $script:workDir -ErrorAction SilentlyContinue

Write-Host ''
Write-Host $report
Write-Host "Results: $(Join-Path $OutputDirectory 'results.md')"
if ($Workload -eq 'All') { & (Join-Path $PSScriptRoot 'OneShot.ps1') -Runs $OneShotRuns -OutputDirectory $OutputDirectory }

# The index workload (bench/IndexBench.ps1): a full index and incremental re-indexes of a 2,000-file tree.
if (-not $SkipIndex) {
    & (Join-Path $bench 'IndexBench.ps1') -Server $Server -Runs ([Math]::Min($Runs, 3)) -Directories ([Math]::Max(1, [int](20 * $Scale))) | Out-Null
}

#endregion
