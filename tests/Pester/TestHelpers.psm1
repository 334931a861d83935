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

Export-ModuleMember -Function Get-BuiltModulePath, Import-BuiltModule, New-TestAgentId, Get-MockRequest, Clear-MockRequest, Add-MockFault, Clear-MockFault
