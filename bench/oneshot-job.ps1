<#
    One run of a one-shot job, in a process of its own (started by bench/OneShot.ps1 as `pwsh -NoProfile -File`): what a
    scheduled job does. -Client Module imports the module, connects and reads or sends; -Client Rest does the same
    with Invoke-RestMethod; -Client Bare does nothing (the start-up floor); -Client Import only imports the module.
    Prints one JSON line: importMs (Import-Module, in-process), jobMs (the read from its start to the last object, or
    the send from connect to its answer), count.
#>
param(
    [Parameter(Mandatory)] [ValidateSet('Module', 'Rest', 'Bare', 'Import')] [string] $Client,
    [ValidateSet('Read', 'Send')] [string] $Job = 'Read',
    [string] $Server,
    [string] $AgentId,
    [string] $To,
    [string] $ModulePath
)
$ErrorActionPreference = 'Stop'
$result = @{ importMs = 0.0; jobMs = 0.0; count = 0 }
if ($Client -eq 'Module' -or $Client -eq 'Import') {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    Import-Module $ModulePath
    $result.importMs = $sw.Elapsed.TotalMilliseconds
}
if ($Client -eq 'Module') {
    if ($Job -eq 'Read') {
        $null = Connect-AgentMailbox $AgentId -Server $Server
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $inbox = Get-AgentInbox
        $result.jobMs = $sw.Elapsed.TotalMilliseconds
        $result.count = $inbox.Count
    }
    else {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Connect-AgentMailbox $AgentId -Server $Server
        $sent = Send-AgentMessage -To $To -Payload @{ task = 'nightly report'; n = 1 } -ContextSnapshot @{ step = 'scheduled'; count = 1 }
        $result.jobMs = $sw.Elapsed.TotalMilliseconds
        $result.count = @($sent.DeliveredTo).Count
    }
}
elseif ($Client -eq 'Rest') {
    if ($Job -eq 'Read') {
        $null = Invoke-RestMethod -Method Post -Uri "$Server/agents/register" -ContentType 'application/json' -Body (@{ agentId = $AgentId } | ConvertTo-Json -Compress)
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $inbox = (Invoke-RestMethod -Uri "$Server/mailbox/$([Uri]::EscapeDataString($AgentId))/unread").messages
        $result.jobMs = $sw.Elapsed.TotalMilliseconds
        $result.count = @($inbox).Count
    }
    else {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-RestMethod -Method Post -Uri "$Server/agents/register" -ContentType 'application/json' -Body (@{ agentId = $AgentId } | ConvertTo-Json -Compress)
        $body = @{ from = $AgentId; to = $To; payload = @{ task = 'nightly report'; n = 1 }; contextSnapshot = @{ step = 'scheduled'; count = 1 } } | ConvertTo-Json -Depth 10 -Compress
        $sent = Invoke-RestMethod -Method Post -Uri "$Server/messages/send" -ContentType 'application/json' -Body $body
        $result.jobMs = $sw.Elapsed.TotalMilliseconds
        $result.count = @($sent.deliveredTo).Count
    }
}
# Written by hand: ConvertTo-Json would auto-load Microsoft.PowerShell.Utility into every job and blur the wall time.
$inv = [Globalization.CultureInfo]::InvariantCulture
$line = '{{"importMs":{0},"jobMs":{1},"count":{2}}}' -f $result.importMs.ToString($inv), $result.jobMs.ToString($inv), $result.count
[Console]::Out.WriteLine($line)
