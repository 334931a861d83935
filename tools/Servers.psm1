<#
    Starting and stopping the servers the tests, the demo and the benchmarks talk to: the module's in-memory mock
    server and the reference server (npm agentsmcp@0.5.2), each on a free loopback port, each stopped with its
    whole process.
#>
Set-StrictMode -Version Latest

$script:RepoRoot = Split-Path -Parent $PSScriptRoot
$script:RefServerDir = Join-Path $script:RepoRoot 'tools/refserver'

function Get-ReferenceServerScript {
    <# The reference server's entry point, or $null when it is not installed. #>
    $override = $env:AGENTMAILBOX_REFSERVER
    if ($override) { if (Test-Path $override) { return (Resolve-Path $override).Path } else { return $null } }
    $script = Join-Path $script:RefServerDir 'node_modules/agentsmcp/dist/server.js'
    $native = Join-Path $script:RefServerDir 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'
    if ((Test-Path $script) -and (Test-Path $native)) { return $script }
    return $null
}

function Install-ReferenceServer {
    <# Installs agentsmcp@0.5.2 into tools/refserver (git-ignored node_modules). Needs node and npm. #>
    [CmdletBinding()]
    param()
    if (Get-ReferenceServerScript) { return $true }
    if (-not (Get-Command npm -ErrorAction SilentlyContinue)) {
        Write-Warning 'npm is not on PATH: the reference server cannot be installed.'
        return $false
    }
    # better-sqlite3 compiles from source where no prebuilt binary can be fetched; it needs the Node headers.
    if (-not $env:npm_config_nodedir -and (Test-Path '/usr/include/node/node.h')) { $env:npm_config_nodedir = '/usr' }
    Write-Host 'Installing the reference server (npm agentsmcp@0.5.2); this takes a minute or two...'
    Push-Location $script:RefServerDir
    try {
        & npm install --no-audit --no-fund --loglevel=error 2>&1 | ForEach-Object { Write-Verbose "$_" }
        if ($LASTEXITCODE -ne 0) { Write-Warning "npm install failed with exit code $LASTEXITCODE."; return $false }
    }
    finally { Pop-Location }
    return [bool](Get-ReferenceServerScript)
}

function Get-MockServerPath {
    $dll = Join-Path $script:RepoRoot 'tests/AgentMailbox.MockServer/bin/Release/net10.0/AgentMailbox.MockServer.dll'
    if (-not (Test-Path $dll)) { throw "The mock server is not built ($dll). Run ./build.ps1 first." }
    return $dll
}

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { return $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Wait-ServerHealthy([string] $Uri, [System.Diagnostics.Process] $Process, [int] $TimeoutSec = 60) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    $http = [System.Net.Http.HttpClient]::new()
    $http.Timeout = [TimeSpan]::FromSeconds(2)
    try {
        while ([DateTime]::UtcNow -lt $deadline) {
            if ($Process.HasExited) { return $false }
            try {
                $answer = $http.GetAsync("$Uri/health").GetAwaiter().GetResult()
                if ($answer.IsSuccessStatusCode) { return $true }
            }
            catch { }
            Start-Sleep -Milliseconds 100
        }
        return $false
    }
    finally { $http.Dispose() }
}

function Start-AgentMailboxServer {
    <#
    .SYNOPSIS
        Starts a mock or reference AgentMailbox server on a free loopback port and waits until it is healthy.
    .OUTPUTS
        An object with Kind, Uri (no trailing slash), Process and, for the reference server, DatabasePath.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [ValidateSet('Mock', 'Reference')] [string] $Kind,
        [string] $ApiKey
    )
    $port = Get-FreeTcpPort
    $uri = "http://127.0.0.1:$port"
    $info = [System.Diagnostics.ProcessStartInfo]::new()
    $info.UseShellExecute = $false
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $database = $null
    $workDir = Join-Path ([System.IO.Path]::GetTempPath()) "agentmailbox-$Kind-$port-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory -Path $workDir -Force | Out-Null
    $info.WorkingDirectory = $workDir
    if ($Kind -eq 'Mock') {
        $info.FileName = 'dotnet'
        foreach ($a in @((Get-MockServerPath), '--urls', $uri, '--parent-pid', $PID)) { $info.ArgumentList.Add([string]$a) }
        if ($ApiKey) { $info.ArgumentList.Add('--api-key'); $info.ArgumentList.Add($ApiKey) }
    }
    else {
        $script = Get-ReferenceServerScript
        if (-not $script) { throw 'The reference server is not installed: run ./build.ps1 -Task Bootstrap (needs Node.js and npm).' }
        $database = Join-Path $workDir 'agentmailbox.db'
        $info.FileName = 'node'
        $info.ArgumentList.Add($script)
        $info.Environment['PORT'] = [string]$port
        $info.Environment['AGENTSMCP_DB'] = $database
        $info.Environment.Remove('AGENTSMCP_API_KEY') | Out-Null
        $info.Environment.Remove('AGENTMAILBOX_API_KEY') | Out-Null
        $info.Environment.Remove('CLOUD_MODE') | Out-Null
        $info.Environment.Remove('AGENTSMCP_CLOUD_MODE') | Out-Null
        $info.Environment.Remove('NODE_ENV') | Out-Null
        if ($ApiKey) { $info.Environment['AGENTSMCP_API_KEY'] = $ApiKey }
    }
    $process = [System.Diagnostics.Process]::Start($info)
    # Drain both streams so a chatty server never blocks on a full pipe.
    $null = $process.StandardOutput.ReadToEndAsync()
    $null = $process.StandardError.ReadToEndAsync()
    if (-not (Wait-ServerHealthy -Uri $uri -Process $process)) {
        try { $process.Kill($true) } catch { }
        throw "The $Kind server did not become healthy at $uri (exit code: $(if ($process.HasExited) { $process.ExitCode } else { 'still running' }))."
    }
    [pscustomobject]@{
        PSTypeName   = 'AgentMailbox.TestServer'
        Kind         = $Kind
        Uri          = $uri
        Process      = $process
        DatabasePath = $database
        WorkDir      = $workDir
    }
}

function Stop-AgentMailboxServer {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] $Server)
    process {
        if (-not $Server) { return }
        try {
            if (-not $Server.Process.HasExited) {
                $Server.Process.Kill($true)
                $null = $Server.Process.WaitForExit(10000)
            }
        }
        catch { }
        if ($Server.WorkDir -and (Test-Path $Server.WorkDir)) {
            Remove-Item -Recurse -Force $Server.WorkDir -ErrorAction SilentlyContinue
        }
    }
}

function Reset-MockServer([Parameter(Mandatory)] $Server) {
    <# Clears the mock's state, faults and request log. #>
    $null = Invoke-RestMethod -Method Post -Uri "$($Server.Uri)/_mock/reset"
}

Export-ModuleMember -Function Get-ReferenceServerScript, Install-ReferenceServer, Start-AgentMailboxServer, Stop-AgentMailboxServer, Reset-MockServer, Get-FreeTcpPort
