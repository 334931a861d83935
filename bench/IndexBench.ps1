<#
.SYNOPSIS
    Times indexing a tree of files with Set-AgentIndexEntry: a full index, then an incremental re-index of the same,
    unchanged tree, then one with a single file changed, on a fresh mock and/or reference server.

.DESCRIPTION
    The tree is -Directories folders of -FilesPerDirectory small text files (2,000 files by default), written to a
    temporary folder. Per server and round, with a fresh agent:

      full         Get-ChildItem | Set-AgentIndexEntry (one upsert per file), then one rollup per directory and a
                   checkpoint (the checkpoint's time is printed apart)
      incremental  the same pipeline with -Incremental, nothing changed: three reads, no write
      one changed  the same after one file changed: three reads, one upsert, one rollup

    Wall times in milliseconds, medians over -Runs rounds after none (each round starts with a new agent; the
    machine is shared, so read the ratio of the incremental re-index to the full index rather than absolute times).

.EXAMPLE
    dotnet pwsh ./bench/IndexBench.ps1 -Server Both -Runs 3
#>
[CmdletBinding()]
param(
    [ValidateSet('Both', 'Reference', 'Mock')]
    [string] $Server = 'Both',

    [ValidateRange(1, 20)]
    [int] $Runs = 3,

    [ValidateRange(1, 500)]
    [int] $Directories = 20,

    [ValidateRange(1, 500)]
    [int] $FilesPerDirectory = 100
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$root = Split-Path -Parent $PSScriptRoot
Import-Module (Join-Path $root 'tools/Servers.psm1') -Force
Import-Module (Join-Path $root 'out/AgentMailbox/AgentMailbox.psd1') -Force
Import-Module (Join-Path $PSScriptRoot 'BenchWorkers.psm1') -Force

$tree = Join-Path ([IO.Path]::GetTempPath()) "agentmailbox-indexbench-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
foreach ($d in 1..$Directories) {
    $dir = New-Item -ItemType Directory (Join-Path $tree ('d{0:000}' -f $d)) -Force
    foreach ($f in 1..$FilesPerDirectory) { [IO.File]::WriteAllText((Join-Path $dir.FullName ('f{0:000}.txt' -f $f)), "file $d/$f") }
}
$fileCount = $Directories * $FilesPerDirectory

function Invoke-Index([AgentMailbox.Connection] $Connection, [switch] $Incremental) {
    Get-ChildItem -LiteralPath $tree -Recurse -File |
        Set-AgentIndexEntry -Connection $Connection -Category file -RelativeTo $tree -Incremental:$Incremental `
            -Summary { "text file of $($_.Length) bytes" } -Metadata { @{ name = $_.Name } }
}

function Measure-Ms([scriptblock] $Script) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    & $Script | Out-Null
    $watch.Elapsed.TotalMilliseconds
}

$kinds = if ($Server -eq 'Both') { 'Mock', 'Reference' } else { , $Server }
$rows = foreach ($kind in $kinds) {
    $instance = Start-AgentMailboxServer -Kind $kind
    try {
        $times = @{ Full = @(); Rollup = @(); Checkpoint = @(); Incremental = @(); OneChanged = @() }
        foreach ($round in 1..$Runs) {
            $agent = "indexbench-$([Guid]::NewGuid().ToString('N').Substring(0, 10))@bench"
            $connection = Connect-AgentMailbox $agent -Server $instance.Uri -PassThru
            $times.Full += Measure-Ms { Invoke-Index $connection }
            $times.Rollup += Measure-Ms {
                foreach ($dir in Get-ChildItem -LiteralPath $tree -Directory) {
                    Get-ChildItem -LiteralPath $dir.FullName -File | ForEach-Object { "$($dir.Name)/$($_.Name)" } |
                        Merge-AgentIndexEntry -Connection $connection -ModuleKey $dir.Name
                }
            }
            $enc = [Uri]::EscapeDataString($agent)
            $times.Checkpoint += Measure-Ms {
                Invoke-RestMethod -Method Post -Uri "$($instance.Uri)/mailbox/$enc/git/commit" -ContentType 'application/json' -Body '{"message":"bench"}'
            }
            $times.Incremental += Measure-Ms { Invoke-Index $connection -Incremental }
            $changed = Join-Path $tree 'd001/f001.txt'
            [IO.File]::WriteAllText($changed, "changed in round $round")
            $times.OneChanged += Measure-Ms { Invoke-Index $connection -Incremental }
            [IO.File]::WriteAllText($changed, 'file 1/1')
            Disconnect-AgentMailbox -Connection $connection
        }
        [pscustomobject]@{
            Server              = $kind
            Files               = $fileCount
            FullIndexMs         = [Math]::Round((Get-Median $times.Full))
            RollupsMs           = [Math]::Round((Get-Median $times.Rollup))
            CheckpointMs        = [Math]::Round((Get-Median $times.Checkpoint))
            IncrementalMs       = [Math]::Round((Get-Median $times.Incremental))
            OneChangedMs        = [Math]::Round((Get-Median $times.OneChanged))
            IncrementalVsFull   = '{0:0.00}' -f ((Get-Median $times.Incremental) / (Get-Median $times.Full))
        }
    }
    finally { $instance | Stop-AgentMailboxServer }
}
Remove-Item -Recurse -Force $tree -ErrorAction SilentlyContinue

Write-Host ''
Write-Host "Index workload: $fileCount files in $Directories directories; medians of $Runs round(s), wall time in ms."
$rows | Format-Table -AutoSize | Out-String | Write-Host
$rows
