<#
    The install path, end to end: the package build.ps1 -Task Package made (out/packages) is installed from a local
    folder repository with Install-Module and with Install-PSResource, each in a fresh `pwsh -NoProfile` whose
    home, CurrentUser module folder and PSModulePath are temporary (and have spaces in them), then imported by name
    and played against the mock server; Update-Module moves an installed copy to a newer build.
    The CurrentUser scope is redirected through HOME, which works on Linux and macOS; on Windows these tests skip.
#>
BeforeDiscovery {
    $script:skipInstall = [bool]$IsWindows
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    $script:repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:version = Get-ModuleVersionInfo
    $script:nupkg = Join-Path $repoRoot "out/packages/AgentMailbox.$($version.Full).nupkg"
    if (-not (Test-Path $nupkg)) { throw "The package is not built ($nupkg): run ./build.ps1 -Task Package." }
    $script:demo = Join-Path $repoRoot 'examples/multi-agent.ps1'
    $script:allowPrerelease = if ($version.Prerelease) { 'true' } else { 'false' }
    $script:work = Join-Path ([IO.Path]::GetTempPath()) "agentmailbox package $([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:repository = Join-Path $work 'local repository'
    New-Item -ItemType Directory -Path $repository -Force | Out-Null
    Copy-Item $nupkg $repository
    $script:server = Start-AgentMailboxServer -Kind Mock

    function New-TestHome([string] $Name) {
        <# A temporary home with spaces; the child's CurrentUser module folder is under it and is its whole PSModulePath. #>
        $homePath = Join-Path $work $Name
        $modules = Join-Path $homePath '.local/share/powershell/Modules'
        New-Item -ItemType Directory -Path $modules -Force | Out-Null
        [pscustomobject]@{
            Path        = $homePath
            Modules     = $modules
            Environment = @{ HOME = $homePath; PSModulePath = $modules; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null }
        }
    }

    # Each scenario prints MODULEBASE= and VERSION= of the imported module, then plays the demo.
    $script:installModuleScript = @'
param($Repository, $ServerUri, $Demo, $AllowPrerelease)
$ErrorActionPreference = 'Stop'
$pre = @{}; if ($AllowPrerelease -eq 'true') { $pre.AllowPrerelease = $true }
Register-PSRepository -Name AgentMailboxTest -SourceLocation $Repository -InstallationPolicy Trusted
Install-Module AgentMailbox -Repository AgentMailboxTest -Scope CurrentUser @pre
Import-Module AgentMailbox
$module = Get-Module AgentMailbox
"MODULEBASE=$($module.ModuleBase)"
"VERSION=$($module.Version)"
& $Demo -Server $ServerUri -Suffix "@install-module-$(Get-Random)"
'@
    $script:installPSResourceScript = @'
param($Repository, $ServerUri, $Demo, $AllowPrerelease)
$ErrorActionPreference = 'Stop'
$pre = @{}; if ($AllowPrerelease -eq 'true') { $pre.Prerelease = $true }
Register-PSResourceRepository -Name AgentMailboxTest -Uri $Repository -Trusted
Install-PSResource AgentMailbox -Repository AgentMailboxTest -Scope CurrentUser -TrustRepository @pre
Import-Module AgentMailbox
$module = Get-Module AgentMailbox
"MODULEBASE=$($module.ModuleBase)"
"VERSION=$($module.Version)"
& $Demo -Server $ServerUri -Suffix "@install-psresource-$(Get-Random)"
'@
}

AfterAll {
    if (Get-Variable -Name server -Scope Script -ErrorAction SilentlyContinue) { $script:server | Stop-AgentMailboxServer }
    if ((Get-Variable -Name work -Scope Script -ErrorAction SilentlyContinue) -and (Test-Path $script:work)) {
        Remove-Item -Recurse -Force $script:work -ErrorAction SilentlyContinue
    }
}

Describe 'Installing the package' -Tag 'Package' {
    It 'installs with Install-Module into a CurrentUser folder with spaces, imports by name and plays the demo' -Skip:$skipInstall {
        $testHome = New-TestHome 'home of install module'
        $result = Invoke-FreshPwsh -Script $installModuleScript -Environment $testHome.Environment `
            -Arguments $repository, $server.Uri, $demo, $allowPrerelease
        $result.Output | Should -Match 'has the reply; its snapshot says step = research_complete'
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match ([regex]::Escape("MODULEBASE=$(Join-Path $testHome.Modules "AgentMailbox/$($version.Version)")"))
        $result.Output | Should -Match "VERSION=$([regex]::Escape($version.Version))"
        Test-Path (Join-Path $testHome.Modules "AgentMailbox/$($version.Version)/Dependencies/System.Text.Json.dll") | Should -BeTrue
    }

    It 'installs with Install-PSResource from the same folder, imports by name and plays the demo' -Skip:$skipInstall {
        $testHome = New-TestHome 'home of install psresource'
        $result = Invoke-FreshPwsh -Script $installPSResourceScript -Environment $testHome.Environment `
            -Arguments $repository, $server.Uri, $demo, $allowPrerelease
        $result.Output | Should -Match 'has the reply; its snapshot says step = research_complete'
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match ([regex]::Escape("MODULEBASE=$(Join-Path $testHome.Modules "AgentMailbox/$($version.Version)")"))
    }

    It 'updates with Update-Module to a newer build from the repository, and the newer version loads' -Skip:$skipInstall {
        # The newer build: the laid-out module with the next patch version stamped into its manifest, published
        # into a repository of its own next to this version's package.
        $current = [version]$version.Version
        $newer = "$($current.Major).$($current.Minor).$($current.Build + 1)"
        $updateRepository = Join-Path $work 'update repository'
        New-Item -ItemType Directory -Path $updateRepository -Force | Out-Null
        Copy-Item $nupkg $updateRepository
        $newerModule = Join-Path $work 'newer build/AgentMailbox'
        New-Item -ItemType Directory -Path (Split-Path $newerModule) -Force | Out-Null
        Copy-Item -Recurse (Join-Path $repoRoot 'out/AgentMailbox') $newerModule
        $manifestPath = Join-Path $newerModule 'AgentMailbox.psd1'
        $manifest = Get-Content -Raw $manifestPath
        $manifest = $manifest -replace "(?m)^(\s*ModuleVersion\s*=\s*)'[^']*'", "`$1'$newer'" -replace "(?m)^(\s*Prerelease\s*=\s*)'[^']*'", "`$1''"
        Set-Content -Path $manifestPath -Value $manifest -NoNewline -Encoding utf8

        $testHome = New-TestHome 'home of update module'
        $update = @'
param($Repository, $NewerModule, $AllowPrerelease)
$ErrorActionPreference = 'Stop'
$pre = @{}; if ($AllowPrerelease -eq 'true') { $pre.AllowPrerelease = $true }
Register-PSRepository -Name AgentMailboxTest -SourceLocation $Repository -InstallationPolicy Trusted
Install-Module AgentMailbox -Repository AgentMailboxTest -Scope CurrentUser @pre
"INSTALLED=$((Get-InstalledModule AgentMailbox @pre).Version)"
Register-PSResourceRepository -Name AgentMailboxPublish -Uri $Repository -Trusted
Publish-PSResource -Path $NewerModule -Repository AgentMailboxPublish
Update-Module AgentMailbox @pre
"UPDATED=$((Get-InstalledModule AgentMailbox -AllVersions @pre).Version -join ',')"
'@
        $result = Invoke-FreshPwsh -Script $update -Environment $testHome.Environment -Arguments $updateRepository, $newerModule, $allowPrerelease
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match "INSTALLED=$([regex]::Escape($version.Full))"
        $result.Output | Should -Match "(?m)^UPDATED=(.+,)?$([regex]::Escape($newer))(,.+)?\s*$"

        $load = @'
param($ServerUri)
$ErrorActionPreference = 'Stop'
Import-Module AgentMailbox
$module = Get-Module AgentMailbox
"LOADED=$($module.Version) FROM=$($module.ModuleBase)"
"REACHABLE=$(Test-AgentMailbox -Server $ServerUri -Quiet)"
'@
        $loaded = Invoke-FreshPwsh -Script $load -Environment $testHome.Environment -Arguments $server.Uri
        $loaded.ExitCode | Should -Be 0 -Because $loaded.Output
        $loaded.Output | Should -Match "LOADED=$([regex]::Escape($newer)) FROM=$([regex]::Escape((Join-Path $testHome.Modules "AgentMailbox/$newer")))"
        $loaded.Output | Should -Match 'REACHABLE=True'
    }
}
