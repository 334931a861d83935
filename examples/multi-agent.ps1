<#
.SYNOPSIS
    The multi-agent flow: an orchestrator dispatches a task to a researcher (cc a writer, bcc a logger) with a
    context snapshot; the researcher reads it, with the context, and replies to all.

.PARAMETER Server
    The AgentMailbox server; defaults to $env:AGENTSMCP_SERVER, then http://localhost:3000.

.PARAMETER Suffix
    Appended to every agent id (e.g. '@demo'), so repeated runs can keep their threads apart.

.EXAMPLE
    ./examples/multi-agent.ps1 -Server http://127.0.0.1:3000
#>
[CmdletBinding()]
param(
    [uri] $Server = $(if ($env:AGENTSMCP_SERVER) { $env:AGENTSMCP_SERVER } else { 'http://localhost:3000' }),
    [string] $Suffix = '@demo'
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module AgentMailbox)) { Import-Module AgentMailbox }

$orchestrator = "orchestrator$Suffix"
$researcher = "researcher$Suffix"
$writer = "writer$Suffix"
$logger = "logger$Suffix"

Write-Host "`n== The orchestrator dispatches the task, with a context snapshot" -ForegroundColor Cyan
$orch = Connect-AgentMailbox $orchestrator -Server $Server -PassThru
$orch | Format-List | Out-Host
Send-AgentMessage -Connection $orch -To $researcher -Cc $writer -Bcc $logger `
    -Payload @{ task = 'find 50 papers on diffusion models' } `
    -ContextSnapshot @{ step = 'task_dispatched'; priority = 'high' } | Format-List | Out-Host

Write-Host "== The researcher connects and reads its inbox: the context comes with the message" -ForegroundColor Cyan
Connect-AgentMailbox $researcher -Server $Server
$in = Get-AgentInbox | Where-Object From -eq $orchestrator | Select-Object -Last 1
$in | Format-Table | Out-Host
Write-Host ("  Context.Snapshot.step : {0}" -f $in.Context.Snapshot.step)
Write-Host ("  Payload.task          : {0}" -f $in.Payload.task)
Write-Host ("  Cc                    : {0}" -f ($in.Cc -join ', '))
Write-Host ("  Bcc                   : [{0}]  (bcc is stripped from a non-sender's view)" -f ($in.Bcc -join ', '))

Write-Host "`n== The researcher replies to all" -ForegroundColor Cyan
$reply = $in | Invoke-AgentReplyAll -Payload @{ result = 'found 50 papers' } `
    -ContextSnapshot @{ step = 'research_complete'; paper_count = 50 }
$reply | Format-List | Out-Host

Write-Host "== Who has the reply unread" -ForegroundColor Cyan
foreach ($agent in $orchestrator, $writer, $logger) {
    $connection = Connect-AgentMailbox $agent -Server $Server -PassThru
    $got = @(Get-AgentInbox -Connection $connection -ThreadId $reply.ThreadId | Where-Object Id -eq $reply.MessageId)
    $note = if ($got) { "has the reply; its snapshot says step = $($got[0].Context.Snapshot.step)" } else { 'does not have the reply' }
    Write-Host ("  {0,-24} {1}" -f $agent, $note)
    Disconnect-AgentMailbox -Connection $connection
}
Disconnect-AgentMailbox -Connection $orch
Disconnect-AgentMailbox
