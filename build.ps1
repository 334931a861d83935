<#
.SYNOPSIS
    Builds, tests and demonstrates the AgentMailbox PowerShell module.

.DESCRIPTION
    Build (the default) compiles the solution and lays the module out in out/AgentMailbox: the manifest (version
    stamped from Directory.Build.props, with ProjectUri, LicenseUri and the CHANGELOG.md entry as ReleaseNotes),
    the two DLLs, the format file and, from `dotnet publish`, the Windows PowerShell dependency set in
    Dependencies/, from explicit lists; a missing or an unexpected file fails the build.

    Bootstrap restores the pinned tools: PowerShell 7.6.9 (local dotnet tool), Pester 5.7.1 (NuGet
    PackageDownload) and the reference server, npm agentsmcp@0.5.2, into tools/refserver (needs Node.js and npm).

    Test bootstraps, builds and packages, runs the xunit suite and the Pester suites (cmdlets against the mock server,
    the contract suite against both the mock and the reference server, the layout of out/AgentMailbox, and the
    package installed with Install-Module, Install-PSResource and Update-Module) in a fresh pwsh, prints
    'N passed, M failed' as its last line and exits non-zero when anything failed.

    Demo builds, starts a local server (the reference server when Node.js is present, the mock server otherwise),
    plays examples/multi-agent.ps1 against it with the built module and stops the server.

    Package builds, then publishes out/AgentMailbox with Publish-PSResource (PowerShell 7.4+) to a local folder
    repository, out/packages, which then holds AgentMailbox.<version>.nupkg; the folder can be registered as a
    repository for Install-Module, Install-PSResource and Update-Module.

    Bench builds, then runs bench/Bench.ps1: the module from out/AgentMailbox timed against a raw HttpClient
    client, an Invoke-RestMethod loop and the JS SDK of agentsmcp, on a fresh reference server and on the mock
    server, plus the cost of Import-Module and the JSON <-> PSObject converter alone; it prints the table and writes
    it to out/bench/results.md. About ten minutes on two cores.

    BenchFanOut runs bench/FanOut.ps1: 500 sends to 50 agents and the indexing of a 500-file tree, through a relay
    that adds 20 ms of round trip, for the module sequential and throttled, raw clients, Invoke-RestMethod, the JS
    SDK and agentsmcp-index; it writes out/bench/fanout.md. About five minutes.

    Clean removes out/ and the build output.

.PARAMETER Task
    Build, Bootstrap, Test, Demo, Package, Bench, BenchFanOut or Clean.

.PARAMETER Configuration
    The .NET build configuration, Release (default) or Debug.

.PARAMETER Workload
    Bench only: All (default), Warm (long-lived workers) or OneShot (a fresh process per job: import, connect, read
    or send; `./build.ps1 -Task Bench -Workload OneShot` runs it alone).

.PARAMETER Server
    Demo only: which server to start, Auto (default: reference when Node.js is present), Reference or Mock.
    Bench: which servers to benchmark against, Auto (default: both), Reference or Mock.

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Test

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Demo

.EXAMPLE
    dotnet tool restore; dotnet pwsh ./build.ps1 -Task Bench
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Bootstrap', 'Test', 'Demo', 'Package', 'Bench', 'BenchFanOut', 'Clean')]
    [string] $Task = 'Build',

    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [ValidateSet('Auto', 'Reference', 'Mock')]
    [string] $Server = 'Auto',

    # Bench only: All (default), Warm (the long-lived workers) or OneShot (a fresh process per job).
    [ValidateSet('All', 'Warm', 'OneShot')]
    [string] $Workload = 'All'
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
    $version = [pscustomobject]@{
        Version    = [string]$group.ModuleVersion
        Prerelease = [string]$group.ModulePrerelease
        ProjectUri = [string]$group.ModuleProjectUri
        LicenseUri = [string]$group.ModuleLicenseUri
    }
    # SemVer as PowerShellGet and PSResourceGet take it: Major.Minor.Patch, and a prerelease label of letters and digits.
    if ($version.Version -notmatch '^\d+\.\d+\.\d+$') { throw "Directory.Build.props: ModuleVersion '$($version.Version)' is not Major.Minor.Patch." }
    if ($version.Prerelease -notmatch '^[0-9A-Za-z]*$') { throw "Directory.Build.props: ModulePrerelease '$($version.Prerelease)' may hold letters and digits only." }
    $version | Add-Member -NotePropertyName Full -NotePropertyValue ($version.Version + $(if ($version.Prerelease) { "-$($version.Prerelease)" }))
    return $version
}

function Get-PwshCommand {
    <# The running pwsh as a command line, whether it is an installed pwsh or the dotnet tool (dotnet pwsh.dll). #>
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

# The layout of out/AgentMailbox, file by file. The build fails on a missing or an unexpected file.
# Dependencies/ is the netstandard2.0 closure of System.Text.Json 8.x, for Windows PowerShell 5.1 (.NET Framework
# 4.7.2) only: the module's resolver (ModuleLifecycle.cs) serves it to the module's own DLLs. On PowerShell 7 the
# runtime's copies serve and Dependencies/ is not read.
$script:LayoutRootFiles = @('AgentMailbox.psd1', 'AgentMailbox.PowerShell.dll', 'AgentMailbox.Client.dll', 'AgentMailbox.Format.ps1xml', 'LICENSE')
$script:LayoutDependencies = @(
    'Microsoft.Bcl.AsyncInterfaces.dll'
    'System.Buffers.dll'
    'System.Memory.dll'
    'System.Numerics.Vectors.dll'
    'System.Runtime.CompilerServices.Unsafe.dll'
    'System.Text.Encodings.Web.dll'
    'System.Text.Json.dll'
    'System.Threading.Tasks.Extensions.dll'
)
# The help step's output.
$script:LayoutHelpFiles = @('en-US/AgentMailbox.PowerShell.dll-Help.xml', 'en-US/about_AgentMailbox.help.txt')

function Get-ChangelogEntry([string] $Version) {
    <# The text of CHANGELOG.md's entry '## [<Version>] - <date>'; fails when there is none. #>
    $lines = Get-Content (Join-Path $root 'CHANGELOG.md')
    $start = -1
    for ($i = 0; $i -lt $lines.Count; $i++) { if ($lines[$i] -match "^## \[$([regex]::Escape($Version))\]") { $start = $i; break } }
    if ($start -lt 0) { throw "CHANGELOG.md has no entry '## [$Version]'; add one before building this version." }
    $body = for ($i = $start + 1; $i -lt $lines.Count -and $lines[$i] -notmatch '^## '; $i++) { $lines[$i] }
    return (($body | Where-Object { $_.Trim() }) -join [Environment]::NewLine).Trim()
}

function Publish-ModuleDependency {
    <# dotnet publish of the cmdlet project; returns the publish folder after checking its DLLs against the lists. #>
    $publish = Join-Path $root "src/AgentMailbox.PowerShell/bin/$Configuration/netstandard2.0/publish"
    if (Test-Path $publish) { Remove-Item -Recurse -Force $publish }
    Invoke-Dotnet publish (Join-Path $root 'src/AgentMailbox.PowerShell/AgentMailbox.PowerShell.csproj') -c $Configuration --no-build --nologo -v quiet -o $publish
    $expected = @('AgentMailbox.PowerShell.dll', 'AgentMailbox.Client.dll') + $script:LayoutDependencies
    $actual = @(Get-ChildItem $publish -Filter *.dll -File | ForEach-Object Name)
    $missing = @($expected | Where-Object { $_ -notin $actual })
    $unexpected = @($actual | Where-Object { $_ -notin $expected })
    if ($missing) { throw "Layout: the publish output lacks $($missing -join ', ') (a dependency changed? update the lists in build.ps1 and the layout tests)." }
    if ($unexpected) { throw "Layout: the publish output has unexpected $($unexpected -join ', ') (a new dependency? add it to the lists in build.ps1 and the layout tests, and check it for Windows PowerShell)." }
    return $publish
}

function Assert-ModuleLayout {
    <# Fails unless out/AgentMailbox holds exactly the listed files. #>
    $expected = @($script:LayoutRootFiles) + @($script:LayoutDependencies | ForEach-Object { "Dependencies/$_" })
    $expected += $script:LayoutHelpFiles
    $prefix = (Resolve-Path $moduleOut).Path.TrimEnd([IO.Path]::DirectorySeparatorChar) + [IO.Path]::DirectorySeparatorChar
    $actual = @(Get-ChildItem $moduleOut -Recurse -File | ForEach-Object { $_.FullName.Substring($prefix.Length).Replace('\', '/') })
    $missing = @($expected | Where-Object { $_ -cnotin $actual })
    $unexpected = @($actual | Where-Object { $_ -cnotin $expected })
    if ($missing) { throw "Layout: out/AgentMailbox lacks $($missing -join ', ')." }
    if ($unexpected) { throw "Layout: out/AgentMailbox has unexpected $($unexpected -join ', ')." }
}

function Invoke-Build {
    # The version and its CHANGELOG.md entry first, so a bad one fails before anything is compiled.
    $version = Get-ModuleVersion
    $notes = Get-ChangelogEntry $version.Full
    Invoke-Dotnet build (Join-Path $root 'AgentMailbox.PowerShell.sln') -c $Configuration --nologo -v minimal
    $publish = Publish-ModuleDependency
    if (Test-Path $moduleOut) { Remove-Item -Recurse -Force $moduleOut }
    New-Item -ItemType Directory -Path $moduleOut | Out-Null
    New-Item -ItemType Directory -Path (Join-Path $moduleOut 'Dependencies') | Out-Null

    # The module's files, listed explicitly. On PowerShell 7 the runtime's own System.Text.Json serves.
    $files = @(
        @{ From = Join-Path $publish 'AgentMailbox.PowerShell.dll'; To = 'AgentMailbox.PowerShell.dll' }
        @{ From = Join-Path $publish 'AgentMailbox.Client.dll'; To = 'AgentMailbox.Client.dll' }
        @{ From = Join-Path $root 'src/AgentMailbox.PowerShell/AgentMailbox.Format.ps1xml'; To = 'AgentMailbox.Format.ps1xml' }
        @{ From = Join-Path $root 'LICENSE'; To = 'LICENSE' }
    )
    $files += $script:LayoutDependencies | ForEach-Object { @{ From = Join-Path $publish $_; To = "Dependencies/$_" } }
    foreach ($file in $files) {
        if (-not (Test-Path $file.From)) { throw "Layout: $($file.From) is missing." }
        Copy-Item $file.From (Join-Path $moduleOut $file.To)
    }
    # Help: the cmdlets' markdown (platyPS's schema) becomes MAML named after the root DLL; the about topic is copied.
    $helpSource = Join-Path $root 'src/AgentMailbox.PowerShell/help/en-US'
    $helpOut = New-Item -ItemType Directory -Path (Join-Path $moduleOut 'en-US')
    Import-Module (Join-Path $root 'tools/HelpConverter.psm1') -Force
    ConvertTo-MamlHelp -MarkdownPath $helpSource -OutputPath (Join-Path $helpOut 'AgentMailbox.PowerShell.dll-Help.xml') | Out-Null
    Copy-Item (Join-Path $helpSource 'about_AgentMailbox.help.txt') $helpOut
    (Get-Content -Raw (Join-Path $root 'AgentMailbox.psd1')).
        Replace('{{ModuleVersion}}', $version.Version).
        Replace('{{ModulePrerelease}}', $version.Prerelease).
        Replace('{{ModuleProjectUri}}', $version.ProjectUri.Replace("'", "''")).
        Replace('{{ModuleLicenseUri}}', $version.LicenseUri.Replace("'", "''")).
        Replace('{{ModuleReleaseNotes}}', $notes.Replace("'", "''")) |
        Set-Content -NoNewline -Encoding utf8 (Join-Path $moduleOut 'AgentMailbox.psd1')
    Assert-ModuleLayout
    Write-Host "Built AgentMailbox $($version.Full) into $moduleOut"
}

function Invoke-Package {
    <#
        Publishes out/AgentMailbox to out/packages, a local folder repository, with Publish-PSResource (PSResourceGet,
        bundled with PowerShell 7.4+). The repository is registered under a temporary name and unregistered after.
    #>
    Invoke-Build
    $version = Get-ModuleVersion
    $packages = Join-Path $out 'packages'
    if (Test-Path $packages) { Remove-Item -Recurse -Force $packages }
    New-Item -ItemType Directory -Path $packages | Out-Null
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    $repository = "AgentMailboxBuild-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    Register-PSResourceRepository -Name $repository -Uri $packages -Trusted
    try { Publish-PSResource -Path $moduleOut -Repository $repository }
    finally { Unregister-PSResourceRepository -Name $repository }
    $nupkg = Join-Path $packages "AgentMailbox.$($version.Full).nupkg"
    if (-not (Test-Path $nupkg)) { throw "Package: $nupkg was not produced (found: $((Get-ChildItem $packages).Name -join ', '))." }
    Write-Host "Packaged $nupkg"
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
    # Package builds and then makes out/packages, which Package.Tests.ps1 installs and Layout.Tests.ps1 checks.
    Invoke-Package
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

function Invoke-Bench {
    # bench/Bench.ps1 builds its own console programs and installs the reference server when it is missing.
    Invoke-Build
    $servers = if ($Server -eq 'Auto') { 'Both' } else { $Server }
    & (Join-Path $root 'bench/Bench.ps1') -Server $servers -Workload $Workload
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Bootstrap' { Invoke-Bootstrap }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Package' { Invoke-Package }
    'Bench' { Invoke-Bench }
    'BenchFanOut' {
        # bench/FanOut.ps1: sends and indexing through a relay that adds a network round trip.
        Invoke-Build
        & (Join-Path $root 'bench/FanOut.ps1') -Server $(if ($Server -eq 'Mock') { 'Mock' } else { 'Reference' })
    }
    'Clean' {
        if (Test-Path $out) { Remove-Item -Recurse -Force $out }
        Get-ChildItem $root -Directory -Recurse -Include bin, obj | Where-Object FullName -notmatch 'node_modules' | Remove-Item -Recurse -Force
    }
}
