<# Runs a script in a fresh `pwsh -NoProfile` with an environment of the test's choosing; for the packaging suites. #>
Set-StrictMode -Version Latest

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

function Get-FreshPwshCommand {
    <# The running pwsh as a command line, whether an installed pwsh or the dotnet tool (dotnet pwsh.dll). #>
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Get-ModuleVersionInfo {
    <# The version as Directory.Build.props has it: Version, Prerelease, Full (Version[-Prerelease]), ProjectUri, LicenseUri. #>
    $props = [xml](Get-Content -Raw (Join-Path $script:RepoRoot 'Directory.Build.props'))
    $group = $props.Project.PropertyGroup | Where-Object { $_['ModuleVersion'] } | Select-Object -First 1
    $version = [string]$group.ModuleVersion
    $prerelease = [string]$group.ModulePrerelease
    [pscustomobject]@{
        Version    = $version
        Prerelease = $prerelease
        Full       = $version + $(if ($prerelease) { "-$prerelease" })
        ProjectUri = [string]$group.ModuleProjectUri
        LicenseUri = [string]$group.ModuleLicenseUri
    }
}

function Invoke-FreshPwsh {
    <#
    .SYNOPSIS
        Runs -Script (text) in a new `pwsh -NoProfile -NonInteractive` with -Arguments, and returns ExitCode and
        Output (stdout and stderr, as text).
    .PARAMETER Environment
        Variables to set in the child; a $null value removes the variable.
    #>
    param(
        [Parameter(Mandatory)] [string] $Script,
        [string[]] $Arguments = @(),
        [hashtable] $Environment = @{},
        [int] $TimeoutSec = 120
    )
    $scriptPath = Join-Path ([IO.Path]::GetTempPath()) "agentmailbox-fresh-$([Guid]::NewGuid().ToString('N')).ps1"
    Set-Content -Path $scriptPath -Value $Script -Encoding utf8
    try {
        $pwsh = Get-FreshPwshCommand
        $info = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $scriptPath) + $Arguments) { $info.ArgumentList.Add([string]$a) }
        $info.UseShellExecute = $false
        $info.RedirectStandardOutput = $true
        $info.RedirectStandardError = $true
        $info.WorkingDirectory = $script:RepoRoot
        foreach ($name in 'AGENTSMCP_SERVER', 'AGENTMAILBOX_SERVER', 'AGENTSMCP_AGENT_ID', 'AGENTSMCP_API_KEY', 'AGENTMAILBOX_API_KEY') { $null = $info.Environment.Remove($name) }
        foreach ($key in $Environment.Keys) {
            if ($null -eq $Environment[$key]) { $null = $info.Environment.Remove($key) } else { $info.Environment[$key] = [string]$Environment[$key] }
        }
        $process = [System.Diagnostics.Process]::Start($info)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            try { $process.Kill($true) } catch { }
            throw "The fresh pwsh did not finish within $TimeoutSec s. Output so far: $($stdout.Result)$($stderr.Result)"
        }
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.Result + $stderr.Result }
    }
    finally { Remove-Item $scriptPath -ErrorAction SilentlyContinue }
}

Export-ModuleMember -Function Get-FreshPwshCommand, Get-ModuleVersionInfo, Invoke-FreshPwsh
