<# Shared helpers of the Pester suites: the built module, the test servers, the mock's control API. #>
Set-StrictMode -Version Latest

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
Import-Module (Join-Path $script:RepoRoot 'tools/Servers.psm1') -Force -Global

function Get-BuiltModulePath { Join-Path $script:RepoRoot 'out/AgentMailbox/AgentMailbox.psd1' }

function Import-BuiltModule {
    $path = Get-BuiltModulePath
    if (-not (Test-Path $path)) { throw "The module is not built ($path): run ./build.ps1." }
    Import-Module $path -Force -Global
}

function New-TestAgentId([string] $Name = 'agent') {
    <# A unique agent id, so tests never see each other's messages on a shared server. #>
    "$Name-$([Guid]::NewGuid().ToString('N').Substring(0, 10))@test"
}

function Get-MockRequest([Parameter(Mandatory)] $Server, [string] $PathLike = '*') {
    <# The requests the mock received (oldest first) whose raw path is like -PathLike. #>
    $all = Invoke-RestMethod -Uri "$($Server.Uri)/_mock/requests"
    foreach ($request in $all) { if ($request.path -like $PathLike) { $request } }
}

function Clear-MockRequest([Parameter(Mandatory)] $Server) {
    $null = Invoke-RestMethod -Method Delete -Uri "$($Server.Uri)/_mock/requests"
}

function Add-MockFault {
    param(
        [Parameter(Mandatory)] $Server,
        [Parameter(Mandatory)] [string] $Path,
        [string] $Method,
        [int] $Status,
        [string] $Body,
        [string] $ContentType,
        [hashtable] $Headers,
        [int] $DelayMs,
        [ValidateSet('none', 'drop', 'reset-mid-body', 'truncate', 'html', 'stall', 'stall-mid-body')] [string] $Action,
        [int] $Count = 1,
        [switch] $AfterHandler
    )
    $rule = @{ path = $Path; count = $Count }
    if ($Method) { $rule.method = $Method }
    if ($Status) { $rule.status = $Status }
    if ($PSBoundParameters.ContainsKey('Body')) { $rule.body = $Body }
    if ($ContentType) { $rule.contentType = $ContentType }
    if ($Headers) { $rule.headers = $Headers }
    if ($DelayMs) { $rule.delayMs = $DelayMs }
    if ($Action) { $rule.action = $Action }
    if ($AfterHandler) { $rule.afterHandler = $true }
    Invoke-RestMethod -Method Post -Uri "$($Server.Uri)/_mock/faults" -ContentType 'application/json' -Body ($rule | ConvertTo-Json -Depth 5)
}

function Clear-MockFault([Parameter(Mandatory)] $Server) {
    $null = Invoke-RestMethod -Method Delete -Uri "$($Server.Uri)/_mock/faults"
}

function Get-MaxOverlap([object[]] $Requests, [int] $DelayMs) {
    <#
        The largest number of requests whose handling at the mock overlapped, given that each took at least $DelayMs
        there (the mock's delay), from their arrival times: a request that arrived less than the delay after another
        arrived while that one was still being answered.
    #>
    $times = @($Requests | ForEach-Object { [long]$_.receivedAt } | Sort-Object)
    $max = 0
    for ($i = 0; $i -lt $times.Count; $i++) {
        $n = 0
        for ($j = $i; $j -lt $times.Count -and $times[$j] - $times[$i] -lt $DelayMs; $j++) { $n++ }
        if ($n -gt $max) { $max = $n }
    }
    $max
}

function New-ConnectedShell([Parameter(Mandatory)] $Server, [Parameter(Mandatory)] [string] $AgentId) {
    <# A fresh runspace with the built module imported and connected to $Server as $AgentId; returns the PowerShell. #>
    $ps = [powershell]::Create()
    $null = $ps.AddScript({
            param($module, $uri, $agent)
            Import-Module $module
            $null = Connect-AgentMailbox $agent -Server $uri
        }).AddArgument((Get-BuiltModulePath)).AddArgument($Server.Uri).AddArgument($AgentId)
    $null = $ps.Invoke()
    $ps.Commands.Clear()
    $ps
}

Export-ModuleMember -Function Get-BuiltModulePath, Import-BuiltModule, New-TestAgentId, Get-MockRequest, Clear-MockRequest, Add-MockFault, Clear-MockFault, Get-MaxOverlap, New-ConnectedShell
