<#
.SYNOPSIS
    Times one-shot jobs: a fresh process per run that imports, connects and (a) reads an inbox of 2,000 unread
    messages over 50 threads, (b) sends one message, as the AgentMailbox module, as an Invoke-RestMethod script and as
    a raw C# process (HttpClient + System.Text.Json), against a fresh reference server.

.DESCRIPTION
    Every run is a new process: `pwsh -NoProfile -File bench/oneshot-job.ps1` for the module and Invoke-RestMethod,
    `dotnet bench/RawClient/.../RawClient.dll --oneshot` for the raw client. Reported per job and client, as medians
    over -Runs rounds after one warm-up round (the order of the processes rotates every round):

      read ms     in-process, from the start of the read to its last object
      import ms   Import-Module AgentMailbox, in-process
      wall ms     the whole process, from start to exit, as the scheduler sees it

    Two controls run alongside: a bare `pwsh -NoProfile -File` of the same job script that does nothing, and one that
    only imports the module; their difference is what Import-Module adds to a start.

    Ratios are of medians from the same run. On a shared machine the absolute times move with the load; the ratios
    move much less. Called by bench/Bench.ps1 -Workload OneShot (or All); runnable alone.

.EXAMPLE
    dotnet pwsh ./bench/Bench.ps1 -Workload OneShot -OneShotRuns 9

.EXAMPLE
    dotnet pwsh ./bench/OneShot.ps1 -PwshDll (dotnet pwsh ./bench/ReadyToRunPwsh.ps1)
    The same jobs on a copy of this PowerShell whose main assemblies are compiled ahead of time.
#>
[CmdletBinding()]
param(
    [ValidateRange(1, 50)]
    [int] $Runs = 7,

    # Unread messages in the inbox read by the read job (50 threads).
    [ValidateRange(50, 20000)]
    [int] $Messages = 2000,

    [string] $OutputDirectory,

    # Another build of the module (its AgentMailbox.psd1) to run beside this one, e.g. before a change: rows "baseline".
    [string] $BaselineModulePath,

    # Run the PowerShell jobs with this pwsh.dll (as `dotnet <PwshDll>`) instead of the running pwsh, e.g. the
    # ahead-of-time compiled copy made by bench/ReadyToRunPwsh.ps1.
    [string] $PwshDll
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Split-Path -Parent $PSScriptRoot
$bench = $PSScriptRoot
if (-not $OutputDirectory) { $OutputDirectory = Join-Path $root 'out/bench' }
$modulePath = Join-Path $root 'out/AgentMailbox/AgentMailbox.psd1'
$jobScript = Join-Path $bench 'oneshot-job.ps1'
Import-Module (Join-Path $root 'tools/Servers.psm1') -Force

# Invoke-Dotnet, Get-PwshCommand, Get-Median and Format-Number, shared by the bench scripts.
Import-Module (Join-Path $bench 'BenchWorkers.psm1') -Force

function Invoke-Process([string[]] $CommandLine) {
    <# Runs one process to its end; its wall time, and its last stdout line parsed as JSON. #>
    $info = [Diagnostics.ProcessStartInfo]::new($CommandLine[0])
    foreach ($a in @($CommandLine | Select-Object -Skip 1)) { $info.ArgumentList.Add($a) }
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $process = [Diagnostics.Process]::Start($info)
    $stderr = $process.StandardError.ReadToEndAsync()
    $stdout = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    $wall = $watch.Elapsed.TotalMilliseconds
    if ($process.ExitCode -ne 0) { throw "$($CommandLine -join ' ') failed ($($process.ExitCode)): $($stderr.Result)" }
    $line = @($stdout -split "`n" | Where-Object { $_.StartsWith('{') })[-1]
    $result = $line | ConvertFrom-Json
    [pscustomobject]@{ WallMs = $wall; ImportMs = [double]$result.importMs; JobMs = [double]$result.jobMs; Count = [int]$result.count }
}

if (-not (Test-Path $modulePath)) { throw "The module is not built ($modulePath): run ./build.ps1 first." }
New-Item -ItemType Directory -Force -Path $OutputDirectory | Out-Null
Write-Host 'Building the raw client...'
Invoke-Dotnet build (Join-Path $bench 'RawClient/RawClient.csproj') -c Release --nologo -v quiet
$rawDll = Join-Path $bench 'RawClient/bin/Release/net10.0/RawClient.dll'
$pwsh = if ($PwshDll) { @('dotnet', (Resolve-Path $PwshDll).Path) } else { Get-PwshCommand }
$stamp = [DateTime]::UtcNow.ToString('HHmmss')
$threads = 50
$perThread = [int][Math]::Ceiling($Messages / $threads)

$running = Start-AgentMailboxServer -Kind Reference
$samples = [Collections.Generic.List[object]]::new()
try {
    $server = $running.Uri.ToString().TrimEnd('/')
    Write-Host "[one-shot] reference server at $server, fresh SQLite file $($running.DatabasePath)"
    # Seed through the raw client's worker mode: 50 senders, one thread each, round-robin.
    $seedInfo = [Diagnostics.ProcessStartInfo]::new('dotnet')
    $seedInfo.ArgumentList.Add($rawDll)
    $seedInfo.UseShellExecute = $false; $seedInfo.RedirectStandardInput = $true; $seedInfo.RedirectStandardOutput = $true
    $seeder = [Diagnostics.Process]::Start($seedInfo)
    $reader = "oneshot-$stamp-reader"
    $seeder.StandardInput.WriteLine((@{ op = 'seed3'; server = $server; reader = $reader; threads = $threads; perThread = $perThread } | ConvertTo-Json -Compress))
    $seeder.StandardInput.WriteLine('{"op":"quit"}')
    $seeder.StandardInput.Close()
    $seeded = $seeder.StandardOutput.ReadToEnd() | ConvertFrom-Json
    $seeder.WaitForExit()
    if (-not $seeded.ok) { throw "Seeding failed: $($seeded.error)" }
    Write-Host ("[one-shot] inbox seeded: {0} messages in {1:0.0} s" -f ($threads * $perThread), ($seeded.ms / 1000))

    $pwshJob = $pwsh + @('-NoProfile', '-NonInteractive', '-File', $jobScript)
    $jobs = [ordered]@{
        'Read|Raw'    = { param($r) @('dotnet', $rawDll, '--oneshot', 'read', $server, $reader) }
        'Read|Module' = { param($r) $pwshJob + @('-Client', 'Module', '-Job', 'Read', '-Server', $server, '-AgentId', $reader, '-ModulePath', $modulePath) }
        'Read|Rest'   = { param($r) $pwshJob + @('-Client', 'Rest', '-Job', 'Read', '-Server', $server, '-AgentId', $reader) }
        'Send|Raw'    = { param($r) @('dotnet', $rawDll, '--oneshot', 'send', $server, "oneshot-$stamp-r$r-raw", "oneshot-$stamp-sink") }
        'Send|Module' = { param($r) $pwshJob + @('-Client', 'Module', '-Job', 'Send', '-Server', $server, '-AgentId', "oneshot-$stamp-r$r-module", '-To', "oneshot-$stamp-sink", '-ModulePath', $modulePath) }
        'Send|Rest'   = { param($r) $pwshJob + @('-Client', 'Rest', '-Job', 'Send', '-Server', $server, '-AgentId', "oneshot-$stamp-r$r-rest", '-To', "oneshot-$stamp-sink") }
        'Start|Bare'   = { param($r) $pwshJob + @('-Client', 'Bare') }
        'Start|Import' = { param($r) $pwshJob + @('-Client', 'Import', '-ModulePath', $modulePath) }
    }
    if ($BaselineModulePath) {
        $jobs['Read|Baseline'] = { param($r) $pwshJob + @('-Client', 'Module', '-Job', 'Read', '-Server', $server, '-AgentId', $reader, '-ModulePath', $BaselineModulePath) }
        $jobs['Send|Baseline'] = { param($r) $pwshJob + @('-Client', 'Module', '-Job', 'Send', '-Server', $server, '-AgentId', "oneshot-$stamp-r$r-baseline", '-To', "oneshot-$stamp-sink", '-ModulePath', $BaselineModulePath) }
        $jobs['Start|BaselineImport'] = { param($r) $pwshJob + @('-Client', 'Import', '-ModulePath', $BaselineModulePath) }
    }
    $names = @($jobs.Keys)
    for ($round = 0; $round -le $Runs; $round++) {
        $order = for ($i = 0; $i -lt $names.Count; $i++) { $names[($i + $round) % $names.Count] }
        foreach ($name in $order) {
            $job, $client = $name -split '\|'
            $sample = Invoke-Process (& $jobs[$name] $round)
            if ($job -eq 'Read' -and $sample.Count -ne $threads * $perThread) { throw "$name read $($sample.Count) messages, not $($threads * $perThread)." }
            if ($round -eq 0) { continue }   # warm-up: file cache, the server's page cache
            $sample | Add-Member Job $job
            $sample | Add-Member Client $client
            $sample | Add-Member Round $round
            $samples.Add($sample)
        }
        if ($round -gt 0) { Write-Host "[one-shot] round $round of $Runs done" }
    }
}
finally { $running | Stop-AgentMailboxServer }

#region Report

function Get-Stat([string] $Job, [string] $Client, [string] $Field) {
    Get-Median ([double[]]@($samples | Where-Object { $_.Job -eq $Job -and $_.Client -eq $Client } | ForEach-Object $Field))
}
function Get-Spread([string] $Job, [string] $Client, [string] $Field) {
    $values = @($samples | Where-Object { $_.Job -eq $Job -and $_.Client -eq $Client } | ForEach-Object $Field)
    '{0}–{1}' -f (Format-Number ($values | Measure-Object -Minimum).Minimum), (Format-Number ($values | Measure-Object -Maximum).Maximum)
}
# Paired ratios: per round, the module's figure over the other client's in the same round; then the median.
function Get-PairedRatio([string] $Job, [string] $Client, [string] $Other, [string] $Field) {
    $ratios = foreach ($r in 1..$Runs) {
        $a = $samples | Where-Object { $_.Job -eq $Job -and $_.Client -eq $Client -and $_.Round -eq $r }
        $b = $samples | Where-Object { $_.Job -eq $Job -and $_.Client -eq $Other -and $_.Round -eq $r }
        if ($a -and $b -and $b.$Field -gt 0) { $a.$Field / $b.$Field }
    }
    Get-Median ([double[]]@($ratios))
}

$names = [ordered]@{ Raw = 'raw C# process (HttpClient + System.Text.Json)'; Module = 'AgentMailbox module'; Rest = 'Invoke-RestMethod script' }
if ($BaselineModulePath) { $names.Baseline = "baseline module ($BaselineModulePath)" }
$md = [Text.StringBuilder]::new()
$null = $md.AppendLine(('One-shot jobs, a fresh process per run, reference server; medians of {0} rounds (min–max), ratios paired by round{1}:' -f $Runs, $(if ($PwshDll) { "; PowerShell jobs run by dotnet $PwshDll" } else { '' })))
$null = $md.AppendLine()
$null = $md.AppendLine('| job | client | job ms (in-process) | ÷ raw | Import-Module ms | process wall ms | ÷ raw | ÷ Invoke-RestMethod |')
$null = $md.AppendLine('|---|---|---:|---:|---:|---:|---:|---:|')
foreach ($job in 'Read', 'Send') {
    foreach ($client in $names.Keys) {
        $null = $md.AppendLine(('| {0} | {1} | {2} ({3}) | {4} | {5} | {6} ({7}) | {8} | {9} |' -f $(if ($job -eq 'Read') { "read $($threads * $perThread) unread" } else { 'connect + send one' }), $names[$client],
                (Format-Number (Get-Stat $job $client JobMs)), (Get-Spread $job $client JobMs), (Format-Number (Get-PairedRatio $job $client Raw JobMs) '0.00'),
                $(if ($client -in 'Module', 'Baseline') { Format-Number (Get-Stat $job $client ImportMs) } else { '–' }),
                (Format-Number (Get-Stat $job $client WallMs)), (Get-Spread $job $client WallMs),
                (Format-Number (Get-PairedRatio $job $client Raw WallMs) '0.00'), (Format-Number (Get-PairedRatio $job $client Rest WallMs) '0.00')))
    }
}
$bareWall = Get-Stat Start Bare WallMs
$importWall = Get-Stat Start Import WallMs
$added = Get-Median ([double[]]@(foreach ($r in 1..$Runs) {
            $a = $samples | Where-Object { $_.Job -eq 'Start' -and $_.Client -eq 'Import' -and $_.Round -eq $r }
            $b = $samples | Where-Object { $_.Job -eq 'Start' -and $_.Client -eq 'Bare' -and $_.Round -eq $r }
            $a.WallMs - $b.WallMs
        }))
$null = $md.AppendLine()
$null = $md.AppendLine(('pwsh -NoProfile -File, nothing else: {0} ms ({1}); importing AgentMailbox and nothing else: {2} ms ({3}); added by Import-Module, paired by round: **{4} ms** (in-process {5} ms).' -f
        (Format-Number $bareWall), (Get-Spread Start Bare WallMs), (Format-Number $importWall), (Get-Spread Start Import WallMs), (Format-Number $added), (Format-Number (Get-Stat Start Import ImportMs))))

if ($BaselineModulePath) {
    $null = $md.AppendLine()
    $null = $md.AppendLine(('Baseline module, importing it and nothing else: {0} ms (in-process {1} ms). This build ÷ baseline, paired: read {2}, send job wall {3}, import-only wall {4}.' -f
            (Format-Number (Get-Stat Start BaselineImport WallMs)), (Format-Number (Get-Stat Start BaselineImport ImportMs)),
            (Format-Number (Get-PairedRatio Read Module Baseline JobMs) '0.00'), (Format-Number (Get-PairedRatio Send Module Baseline WallMs) '0.00'),
            (Format-Number (Get-PairedRatio Start Import BaselineImport WallMs) '0.00')))
}

$checks = [Collections.Generic.List[string]]::new()
function Add-Check([string] $Text, [double] $Value, [double] $Limit, [string] $Format = '0.00') {
    $checks.Add(('- {0} {1}: {2} (≤ {3})' -f $(if ($Value -le $Limit) { 'met   ' } else { 'MISSED' }), $Text, (Format-Number $Value $Format), (Format-Number $Limit $Format)))
}
Add-Check 'one-shot read, module ÷ raw (in-process, paired)' (Get-PairedRatio Read Module Raw JobMs) 1.15
Add-Check 'Import-Module over a bare pwsh -NoProfile start (ms, paired)' $added 100 '0'
Add-Check 'one-shot send job wall time, module ÷ Invoke-RestMethod (paired)' (Get-PairedRatio Send Module Rest WallMs) 1.00
$null = $md.AppendLine()
$null = $md.AppendLine('Targets:')
$null = $md.AppendLine()
foreach ($check in $checks) { $null = $md.AppendLine($check) }

$report = $md.ToString()
Set-Content -Path (Join-Path $OutputDirectory 'oneshot.md') -Value $report -Encoding utf8
$samples | ConvertTo-Json -Depth 4 | Set-Content -Path (Join-Path $OutputDirectory 'oneshot.json') -Encoding utf8
Write-Host ''
Write-Host $report
Write-Host "Results: $(Join-Path $OutputDirectory 'oneshot.md')"

#endregion
