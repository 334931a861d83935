<#
.SYNOPSIS
    Builds, tests and demonstrates the AgentMailbox PowerShell module.

.DESCRIPTION
    Build (the default) compiles the solution and lays the module out in out/AgentMailbox: the manifest (version
    stamped from Directory.Build.props), the two DLLs and the format file, from an explicit list; a missing file
    fails the build.

    Bootstrap restores the pinned tools: PowerShell 7.6.9 (local dotnet tool), Pester 5.7.1 (NuGet
    PackageDownload) and the reference server, npm agentsmcp@0.5.2, into tools/refserver (needs Node.js and npm).

    Test builds, bootstraps, runs the xunit suite and the Pester suites (cmdlets against the mock server, and the
    contract suite against both the mock and the reference server) in a fresh pwsh, prints
    'N passed, M failed' as its last line and exits non-zero when anything failed.

    Demo builds, starts a local server (the reference server when Node.js is present, the mock server otherwise),
    plays examples/multi-agent.ps1 against it with the built module and stops the server.

    Clean removes out/ and the build output.

.PARAMETER Task
    Build, Bootstrap, Test, Demo or Clean.

.PARAMETER Configuration
    The .NET build configuration, Release (default) or Debug.

.PARAMETER Server
    Demo only: which server to start, Auto (default: reference when Node.js is present), Reference or Mock.

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Bootstrap', 'Test', 'Demo', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [ValidateSet('Auto', 'Reference', 'Mock')]
    [string] $Server = 'Auto'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'AgentMailbox'
Import-Module (Join-Path $root 'tools/Servers.psm1') -Force

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))
    $group = $props.Project.PropertyGroup | Where-Object { $_['ModuleVersion'] } | Select-Object -First 1
    [pscustomobject]@{ Version = $group.ModuleVersion; Prerelease = [string]$group.ModulePrerelease }
}

function Get-PwshCommand {
    <# The running pwsh as a command line, whether it is an installed pwsh or the dotnet tool (dotnet pwsh.dll). #>
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Invoke-Build {
    Invoke-Dotnet build (Join-Path $root 'AgentMailbox.PowerShell.sln') -c $Configuration --nologo -v minimal
    $bin = Join-Path $root "src/AgentMailbox.PowerShell/bin/$Configuration/netstandard2.0"
    if (Test-Path $moduleOut) { Remove-Item -Recurse -Force $moduleOut }
    New-Item -ItemType Directory -Path $moduleOut | Out-Null

    # The module's files, listed explicitly. On PowerShell 7 the runtime's own System.Text.Json serves.
    $files = @(
        @{ From = Join-Path $bin 'AgentMailbox.PowerShell.dll'; To = 'AgentMailbox.PowerShell.dll' }
        @{ From = Join-Path $bin 'AgentMailbox.Client.dll'; To = 'AgentMailbox.Client.dll' }
        @{ From = Join-Path $root 'src/AgentMailbox.PowerShell/AgentMailbox.Format.ps1xml'; To = 'AgentMailbox.Format.ps1xml' }
        @{ From = Join-Path $root 'LICENSE'; To = 'LICENSE' }
    )
    foreach ($file in $files) {
        if (-not (Test-Path $file.From)) { throw "Layout: $($file.From) is missing." }
        Copy-Item $file.From (Join-Path $moduleOut $file.To)
    }
    $version = Get-ModuleVersion
    (Get-Content -Raw (Join-Path $root 'AgentMailbox.psd1')).
        Replace('{{ModuleVersion}}', $version.Version).
        Replace('{{ModulePrerelease}}', $version.Prerelease) |
        Set-Content -NoNewline -Encoding utf8 (Join-Path $moduleOut 'AgentMailbox.psd1')
    Write-Host "Built AgentMailbox $($version.Version) into $moduleOut"
}

function Invoke-Bootstrap {
    Push-Location $root
    try {
        Invoke-Dotnet tool restore
        Invoke-Dotnet restore (Join-Path $root 'tests/Pester/Pester.csproj') --nologo -v quiet
    }
    finally { Pop-Location }
    if (-not (Install-ReferenceServer)) {
        Write-Warning 'The reference server is not installed; the contract suite cannot run against it.'
    }
}

function Get-PesterPath {
    $nuget = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $path = Join-Path $nuget 'pester/5.7.1/tools/Pester.psd1'
    if (-not (Test-Path $path)) { throw "Pester 5.7.1 is not in $nuget; run ./build.ps1 -Task Bootstrap." }
    return $path
}

function Invoke-Test {
    Invoke-Bootstrap
    Invoke-Build
    $results = Join-Path $out 'TestResults'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    New-Item -ItemType Directory -Path $results | Out-Null

    # xunit: the client library against the mock server over real HTTP.
    & dotnet test (Join-Path $root 'tests/AgentMailbox.Tests') -c $Configuration --no-build --nologo `
        --logger "trx;LogFileName=xunit.trx" --logger "console;verbosity=normal" --results-directory $results
    $xunitExit = $LASTEXITCODE
    $xunit = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $trx = Join-Path $results 'xunit.trx'
    if (Test-Path $trx) {
        $counters = ([xml](Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
        $xunit.Passed = [int]$counters.passed
        $xunit.Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $xunit.Skipped = [int]$counters.notExecuted
    }
    if ($xunitExit -ne 0 -and $xunit.Failed -eq 0) { $xunit.Failed = 1; Write-Warning "dotnet test exited $xunitExit without a failed test: counted as one failure." }

    # Pester, in a fresh pwsh so the built module never loads into this build process.
    $summary = Join-Path $results 'pester-summary.json'
    $pesterScript = @'
param($PesterPath, $TestPath, $ResultPath, $SummaryPath)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = $ResultPath
$run = Invoke-Pester -Configuration $config
@{ Passed = $run.PassedCount; Failed = $run.FailedCount + $run.FailedBlocksCount + $run.FailedContainersCount; Skipped = $run.SkippedCount } |
    ConvertTo-Json | Set-Content -Path $SummaryPath
'@
    $scriptPath = Join-Path $results 'run-pester.ps1'
    Set-Content -Path $scriptPath -Value $pesterScript
    $pwsh = Get-PwshCommand
    $pwshArgs = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $scriptPath,
        (Get-PesterPath), (Join-Path $root 'tests/Pester'), (Join-Path $results 'pester.xml'), $summary)
    $previousPath = $env:PSModulePath
    $env:PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath
    try { & $pwsh[0] @pwshArgs } finally { $env:PSModulePath = $previousPath }
    $pester = @{ Passed = 0; Failed = 1; Skipped = 0 }
    if (Test-Path $summary) { $pester = Get-Content -Raw $summary | ConvertFrom-Json -AsHashtable }
    else { Write-Warning 'Pester did not finish: counted as one failure.' }

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    Write-Host ''
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped) skipped; Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    Write-Host "$passed passed, $failed failed$(if ($skipped) { ", $skipped skipped" })"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    $kind = $Server
    if ($kind -eq 'Auto') {
        $kind = 'Mock'
        if (Get-Command node -ErrorAction SilentlyContinue) {
            if (Install-ReferenceServer) { $kind = 'Reference' }
            else { Write-Warning 'The reference server could not be installed; the demo uses the mock server.' }
        }
    }
    elseif ($kind -eq 'Reference' -and -not (Install-ReferenceServer)) { throw 'The reference server could not be installed.' }
    $running = Start-AgentMailboxServer -Kind $kind
    try {
        Write-Host "Started the $($running.Kind.ToLowerInvariant()) server at $($running.Uri)"
        $pwsh = Get-PwshCommand
        $pwshArgs = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
            "Import-Module '$moduleOut/AgentMailbox.psd1'; & '$root/examples/multi-agent.ps1' -Server '$($running.Uri)'; exit [int](-not `$?)")
        & $pwsh[0] @pwshArgs
        if ($LASTEXITCODE -ne 0) { throw "The demo failed with exit code $LASTEXITCODE." }
    }
    finally {
        $running | Stop-AgentMailboxServer
        Write-Host 'Stopped the server.'
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Bootstrap' { Invoke-Bootstrap }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Clean' {
        if (Test-Path $out) { Remove-Item -Recurse -Force $out }
        Get-ChildItem $root -Directory -Recurse -Include bin, obj | Where-Object FullName -notmatch 'node_modules' | Remove-Item -Recurse -Force
    }
}
