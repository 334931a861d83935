<#
.SYNOPSIS
    One agent sends a message with a context snapshot and prints the thread id; the recipient reads it.

.PARAMETER Server
    The AgentMailbox server; defaults to $env:AGENTSMCP_SERVER, then http://localhost:3000.

.EXAMPLE
    ./examples/basic.ps1 -Server http://127.0.0.1:3000
#>
[CmdletBinding()]
param(
    [uri] $Server = $(if ($env:AGENTSMCP_SERVER) { $env:AGENTSMCP_SERVER } else { 'http://localhost:3000' })
)
$ErrorActionPreference = 'Stop'
if (-not (Get-Module AgentMailbox)) { Import-Module AgentMailbox }

$alice = Connect-AgentMailbox alice -Server $Server -PassThru
$sent = Send-AgentMessage -Connection $alice -To bob -Payload @{ text = 'hello from PowerShell' } `
    -ContextSnapshot @{ step = 'greeting'; attempt = 1 }
"Sent message $($sent.MessageId) in thread $($sent.ThreadId)"

$bob = Connect-AgentMailbox bob -Server $Server -PassThru
Get-AgentInbox -Connection $bob -ThreadId $sent.ThreadId | ForEach-Object {
    "bob read '$($_.Payload.text)' from $($_.From); the thread's context step is '$($_.Context.Snapshot.step)'"
}
Disconnect-AgentMailbox -Connection $alice
Disconnect-AgentMailbox -Connection $bob
