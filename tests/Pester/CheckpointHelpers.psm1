<# Helpers of the checkpoint suites: write and read an agent's live graph and index through the client library
   (the graph and index cmdlets live elsewhere), and make checkpoints a few milliseconds apart, because the server
   orders a branch by its millisecond clock and picks a parent by that order. #>
Set-StrictMode -Version Latest

$script:Clients = @{}

function Wait-Task($Task) { $Task.GetAwaiter().GetResult() }

function Get-TestClient($Connection) {
    <# A client library instance of our own on the connection's server (the connection's is internal to the module). #>
    $key = $Connection.Server.AbsoluteUri
    if (-not $script:Clients.ContainsKey($key)) {
        $options = [AgentMailbox.AgentMailboxClientOptions]::new()
        $options.Server = $Connection.Server
        $script:Clients[$key] = [AgentMailbox.AgentMailboxClient]::new($options)
    }
    $script:Clients[$key]
}

function Set-TestNode([Parameter(Mandatory)] $Connection, [string] $Id, [string] $Name, [string] $Description, $Metadata) {
    $node = [AgentMailbox.GraphNode]::new($Id, 'file', $Name, $(if ($Description) { $Description } else { $null }), $Metadata)
    $null = Wait-Task (Get-TestClient $Connection).SetGraphNodeAsync($Connection.AgentId, $node, [Threading.CancellationToken]::None)
}

function Remove-TestNode([Parameter(Mandatory)] $Connection, [string] $Id) {
    $null = Wait-Task (Get-TestClient $Connection).RemoveGraphNodeAsync($Connection.AgentId, $Id, [Threading.CancellationToken]::None)
}

function Set-TestEdge([Parameter(Mandatory)] $Connection, [string] $SourceId, [string] $TargetId, [string] $Type = 'imports') {
    $edge = [AgentMailbox.GraphEdge]::new($SourceId, $TargetId, $Type, 1.0)
    $null = Wait-Task (Get-TestClient $Connection).SetGraphEdgeAsync($Connection.AgentId, $edge, [Threading.CancellationToken]::None)
}

function Set-TestEntry([Parameter(Mandatory)] $Connection, [string] $Key, [string] $Summary, $Metadata) {
    $entry = [AgentMailbox.IndexEntry]::new($Key, 'file', $Summary, $Metadata)
    $null = Wait-Task (Get-TestClient $Connection).SetIndexEntryAsync($Connection.AgentId, $entry, [Threading.CancellationToken]::None)
}

function Remove-TestEntry([Parameter(Mandatory)] $Connection, [string] $Key) {
    $null = Wait-Task (Get-TestClient $Connection).RemoveIndexEntryAsync($Connection.AgentId, $Key, [Threading.CancellationToken]::None)
}

function Get-TestEntry([Parameter(Mandatory)] $Connection, [string] $Key) {
    Wait-Task (Get-TestClient $Connection).GetIndexEntryAsync($Connection.AgentId, $Key, [Threading.CancellationToken]::None)
}

function Get-TestNodeName([Parameter(Mandatory)] $Connection) {
    <# The live node names of the agent (a graph query matching every node: all names here contain 'e'). #>
    $result = Wait-Task (Get-TestClient $Connection).SearchGraphAsync($Connection.AgentId, 'e', 1, 200, [Threading.CancellationToken]::None)
    @($result.Nodes | ForEach-Object Name | Sort-Object)
}

function New-TestCheckpoint([Parameter(Mandatory)] $Connection, [string] $Message, [string] $Branch) {
    Start-Sleep -Milliseconds 5
    if ($Branch) { Checkpoint-AgentContext $Message -Branch $Branch -Connection $Connection }
    else { Checkpoint-AgentContext $Message -Connection $Connection }
}

Export-ModuleMember -Function Set-TestNode, Remove-TestNode, Set-TestEdge, Set-TestEntry, Remove-TestEntry, Get-TestEntry, Get-TestNodeName, New-TestCheckpoint
