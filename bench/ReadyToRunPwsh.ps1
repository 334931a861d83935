<#
.SYNOPSIS
    Makes a copy of the running PowerShell whose main assemblies are compiled ahead of time (ReadyToRun), for the
    one-shot bench's control run.

.DESCRIPTION
    The PowerShell this repository runs (the .NET tool package) ships System.Management.Automation and the host and
    command assemblies as IL only, so every process JIT-compiles PowerShell's own start-up and import code. This
    script copies that PowerShell to -Destination and compiles System.Management.Automation,
    Microsoft.PowerShell.ConsoleHost, Microsoft.PowerShell.Commands.Utility and Microsoft.PowerShell.Commands.Management
    with crossgen2 (the Microsoft.NETCore.App.Crossgen2 package of the running runtime's version, restored from
    NuGet), then prints the path of the copy's pwsh.dll:

        $pwshDll = dotnet pwsh ./bench/ReadyToRunPwsh.ps1
        dotnet pwsh ./bench/OneShot.ps1 -PwshDll $pwshDll

    The copy is for measuring only; nothing in the module or its tests uses it. Linux and macOS x64/arm64 only.
#>
param(
    [string] $Destination
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
if (-not $Destination) { $Destination = Join-Path $root 'out/pwsh-r2r' }
Import-Module (Join-Path $PSScriptRoot 'BenchWorkers.psm1') -Force

$runtime = [Environment]::Version.ToString(3)
$os = if ($IsMacOS) { 'osx' } elseif ($IsLinux) { 'linux' } else { throw 'Linux or macOS only.' }
$arch = [Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant()
$package = "Microsoft.NETCore.App.Crossgen2.$os-$arch"

# Restore the compiler through a throwaway project, so the NuGet feed and cache are the usual ones.
$restore = Join-Path $root 'out/crossgen2-restore'
New-Item -ItemType Directory -Force -Path $restore | Out-Null
Set-Content -Path (Join-Path $restore 'Crossgen2Restore.csproj') -Value @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net$($runtime.Split('.')[0]).0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$package" Version="[$runtime]" /></ItemGroup>
</Project>
"@
Invoke-Dotnet restore (Join-Path $restore 'Crossgen2Restore.csproj') --nologo -v quiet | Out-Host
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
$crossgen = Join-Path $packages "$($package.ToLowerInvariant())/$runtime/tools/crossgen2"
if (-not (Test-Path $crossgen)) { throw "crossgen2 not found at $crossgen after the restore." }

$source = $PSHOME
$framework = Split-Path -Parent ([object].Assembly.Location)
if (Test-Path $Destination) { Remove-Item -Recurse -Force $Destination }
Copy-Item -Recurse -Path $source -Destination $Destination
foreach ($name in 'System.Management.Automation', 'Microsoft.PowerShell.ConsoleHost', 'Microsoft.PowerShell.Commands.Utility', 'Microsoft.PowerShell.Commands.Management') {
    # Through ProcessStartInfo: PowerShell would expand the '*.dll' reference patterns itself on Unix.
    $info = [Diagnostics.ProcessStartInfo]::new($crossgen)
    foreach ($a in @((Join-Path $source "$name.dll"), '-o', (Join-Path $Destination "$name.dll"),
            '-r', (Join-Path $framework '*.dll'), '-r', (Join-Path $source '*.dll'), '--targetos', $os, '--targetarch', $arch, '-O')) {
        $info.ArgumentList.Add($a)
    }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $process = [Diagnostics.Process]::Start($info)
    $errors = $process.StandardError.ReadToEndAsync()
    $output = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw "crossgen2 failed on ${name}: $output $($errors.Result)" }
    Write-Host "[r2r] compiled $name"
}
Join-Path $Destination 'pwsh.dll'
