<#
    Table-driven checks over every exported cmdlet, driven by Get-Command metadata, so a cmdlet added later is
    covered without touching this file beyond one entry in $Samples:
    - every cmdlet with SupportsShouldProcess changes nothing under -WhatIf (no request but reads, no state changed);
    - every cmdlet with -Connection acts through the connection given, not the session's default (two mock servers:
      the default on one, the given connection on the other);
    - every parameter that binds ValueFromPipelineByPropertyName takes its value from a piped object's property.
    A cmdlet without an entry in $Samples, or a by-property-name parameter without an entry in $Markers, fails with
    a message that says what to add.
#>
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $cmdlets = @(Get-Command -Module AgentMailbox -CommandType Cmdlet | Sort-Object Name)
    $supportsShouldProcess = {
        param($Command)
        @($Command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true))[0].SupportsShouldProcess
    }
    $allCases = @($cmdlets | ForEach-Object { @{ Name = $_.Name } })
    $whatIfCases = @($cmdlets | Where-Object { & $supportsShouldProcess $_ } | ForEach-Object { @{ Name = $_.Name } })
    $connectionCases = @($cmdlets | Where-Object { $_.Parameters.ContainsKey('Connection') } | ForEach-Object { @{ Name = $_.Name } })
    $byPropertyCases = @(foreach ($c in $cmdlets) {
            foreach ($p in $c.Parameters.Values) {
                if ($p.ParameterSets.Values.ValueFromPipelineByPropertyName -contains $true) { @{ Name = $c.Name; Parameter = $p.Name } }
            }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-BuiltModule
    $script:servers = @(Start-AgentMailboxServer -Kind Mock; Start-AgentMailboxServer -Kind Mock)
    $script:nonPublic = [System.Reflection.BindingFlags]'Instance,NonPublic'

    # Arguments each cmdlet needs to run and make its requests, from a context made by New-Context.
    # A new cmdlet needs an entry here (the first Describe fails until it has one).
    $script:Samples = @{
        'Connect-AgentMailbox'       = { param($Ctx) @{ AgentId = $Ctx.MeId; Server = $Ctx.Server.Uri } }
        'Disconnect-AgentMailbox'    = { param($Ctx) @{} }
        'Get-AgentInbox'             = { param($Ctx) @{} }
        'Get-AgentMailboxConnection' = { param($Ctx) @{} }
        'Get-AgentThread'            = { param($Ctx) @{} }
        'Get-AgentThreadContext'     = { param($Ctx) @{ ThreadId = $Ctx.ThreadId } }
        'Get-AgentThreadParticipant' = { param($Ctx) @{ ThreadId = $Ctx.ThreadId } }
        'Invoke-AgentReplyAll'       = { param($Ctx) @{ ThreadId = $Ctx.ThreadId; Payload = 'sample reply' } }
        'Receive-AgentMessage'       = { param($Ctx) @{} }
        'Send-AgentMessage'          = { param($Ctx) @{ To = $Ctx.PeerId; Payload = 'sample send' } }
        'Set-AgentThreadRead'        = { param($Ctx) @{ ThreadId = $Ctx.ThreadId } }
        'Test-AgentMailbox'          = { param($Ctx) @{} }
        'Wait-AgentMessage'          = { param($Ctx) @{ TimeoutSec = 2; PollIntervalSec = 0.2 } }
        # The context cmdlets, on the graph, index and checkpoints New-Context made.
        'Set-AgentGraphNode'             = { param($Ctx) @{ Id = "table-new-$($Ctx.Tag)"; Type = 'task'; Name = 'sample node' } }
        'Set-AgentGraphEdge'             = { param($Ctx) @{ SourceId = $Ctx.SourceId; TargetId = $Ctx.TargetId; Type = 'decision' } }
        'Search-AgentGraph'              = { param($Ctx) @{ Query = 'sample query' } }
        'Remove-AgentGraphNode'          = { param($Ctx) @{ Id = $Ctx.TargetId } }
        'Remove-AgentGraphEdge'          = { param($Ctx) @{ SourceId = $Ctx.SourceId; TargetId = $Ctx.TargetId; Type = 'decision' } }
        'Set-AgentIndexEntry'            = { param($Ctx) @{ Key = "table/new-$($Ctx.Tag).ps1"; Category = 'file'; Summary = 'sample summary' } }
        'Get-AgentIndexEntry'            = { param($Ctx) @{ Key = $Ctx.IndexKeys[0] } }
        'Search-AgentIndex'              = { param($Ctx) @{ Query = 'sample query' } }
        'Remove-AgentIndexEntry'         = { param($Ctx) @{ Key = $Ctx.IndexKeys[0] } }
        'Merge-AgentIndexEntry'          = { param($Ctx) @{ ModuleKey = "table/module-$($Ctx.Tag)"; Key = $Ctx.IndexKeys } }
        'Checkpoint-AgentContext'        = { param($Ctx) @{ Message = 'sample checkpoint' } }
        'Get-AgentContextCheckpoint'     = { param($Ctx) @{ Id = $Ctx.MainCheckpointId } }
        'Compare-AgentContextCheckpoint' = { param($Ctx) @{ ReferenceId = $Ctx.BaseCheckpointId; DifferenceId = $Ctx.MainCheckpointId } }
        'Restore-AgentContextCheckpoint' = { param($Ctx) @{ Id = $Ctx.MainCheckpointId } }
        'Remove-AgentContextCheckpoint'  = { param($Ctx) @{ Id = $Ctx.FeatureCheckpointId } }
        'Merge-AgentContextBranch'       = { param($Ctx) @{ From = $Ctx.FeatureBranch; To = 'main' } }
        # The server's own card: with -Connection it must come from the connection's server, and a piped -Server
        # (another server, where no agent of the context is registered) must be where it is read.
        'Get-AgentCard'                  = { param($Ctx) @{} }
    }

    # A distinctive value for each parameter that binds by property name, and how to see that it arrived: the value
    # appears in a request (path, query or body), or every object output carries it as that property. Markers are
    # per name, so each must be valid for every cmdlet with a parameter of that name, and name what exists where a
    # cmdlet needs it. A value that does not show as itself in a request is a hashtable: Value is piped, InRequest is
    # the text a request must hold instead, and At the server whose requests are searched (the context's by default).
    $script:Markers = @{
        ThreadId     = { param($Ctx) $Ctx.ThreadId }
        # Registered (Get-AgentCard needs its card); Connect-AgentMailbox connects as it again.
        AgentId      = { param($Ctx) $Ctx.MarkerAgentId }
        # A checkpoint that is nobody's parent (Remove-AgentContextCheckpoint can remove it) and also a graph node.
        Id           = { param($Ctx) $Ctx.FeatureCheckpointId }
        # A node type (Set-AgentGraphNode validates it) and the type of the context's edge.
        Type         = { param($Ctx) 'decision' }
        Name         = { param($Ctx) "table name $($Ctx.Tag)" }
        Description  = { param($Ctx) "table description $($Ctx.Tag)" }
        # An object goes out as JSON: its distinctive property value is what a request shows.
        Metadata     = { param($Ctx) @{ Value = [pscustomobject]@{ note = "table metadata $($Ctx.Tag)" }; InRequest = "table metadata $($Ctx.Tag)" } }
        SourceId     = { param($Ctx) $Ctx.SourceId }
        TargetId     = { param($Ctx) $Ctx.TargetId }
        Weight       = { param($Ctx) 7.3125 }
        Query        = { param($Ctx) "table query $($Ctx.Tag)" }
        # Small numbers in a range: found only as their query argument, never as a bare digit anywhere.
        Depth        = { param($Ctx) @{ Value = 4; InRequest = 'depth=4' } }
        First        = { param($Ctx) @{ Value = 173; InRequest = 'limit=173' } }
        Key          = { param($Ctx) $Ctx.IndexKeys[0] }
        # A valid category, not the one the samples use.
        Category     = { param($Ctx) 'architecture' }
        Summary      = { param($Ctx) "table summary $($Ctx.Tag)" }
        ReferenceId  = { param($Ctx) $Ctx.BaseCheckpointId }
        DifferenceId = { param($Ctx) $Ctx.MainCheckpointId }
        # A server shows in no request text: the piped one is the second server, which the context and the default
        # connection do not use, so a card read there came from the piped Server (a string, as from Import-Csv).
        Server       = { param($Ctx) @{ Value = $servers[1].Uri.ToString(); InRequest = 'GET /.well-known/agent-card'; At = $servers[1] } }
    }

    function Get-Sample([string] $Name, $Ctx) {
        if (-not $script:Samples.ContainsKey($Name)) {
            throw "$Name has no entry in `$Samples (tests/Pester/CmdletTable.Tests.ps1): add the arguments it needs to run."
        }
        & $script:Samples[$Name] $Ctx
    }

    function New-Context($Server) {
        <#
            Two agents on $Server, and two threads from the peer to me, each with an unread message. For the context
            cmdlets, the agent has two graph nodes with a 'decision' edge between them, two index entries, and
            checkpoints on two branches: base and main (its child) on main, feature (nobody's parent) on another
            branch; the feature checkpoint's id is also a graph node's id. Another registered agent stands for piped ids.
        #>
        $meId = New-TestAgentId me
        $peerId = New-TestAgentId peer
        $me = Connect-AgentMailbox $meId -Server $Server.Uri -PassThru
        $peer = Connect-AgentMailbox $peerId -Server $Server.Uri -PassThru
        $t1 = Send-AgentMessage -Connection $peer -To $meId -Payload 'first'
        # From another agent, so that it is another thread.
        $other = Connect-AgentMailbox (New-TestAgentId other) -Server $Server.Uri -PassThru
        $t2 = Send-AgentMessage -Connection $other -To $meId -Payload 'second'
        $other | Disconnect-AgentMailbox
        $t1.ThreadId | Should -Not -Be $t2.ThreadId
        $markerAgentId = New-TestAgentId marker
        Connect-AgentMailbox $markerAgentId -Server $Server.Uri -PassThru | Disconnect-AgentMailbox

        $tag = [Guid]::NewGuid().ToString('N').Substring(0, 10)
        $sourceId = "table-source-$tag"
        $targetId = "table-target-$tag"
        Set-AgentGraphNode -Connection $me -Id $sourceId -Type file -Name "source $tag" -ErrorAction Stop
        Set-AgentGraphNode -Connection $me -Id $targetId -Type symbol -Name "target $tag" -ErrorAction Stop
        Set-AgentGraphEdge -Connection $me -SourceId $sourceId -TargetId $targetId -Type decision -ErrorAction Stop
        $indexKeys = "table/first-$tag.ps1", "table/second-$tag.ps1"
        foreach ($key in $indexKeys) { Set-AgentIndexEntry -Connection $me -Key $key -Category file -Summary "summary of $key" -ErrorAction Stop }
        $featureBranch = "feature-$tag"
        $base = Checkpoint-AgentContext -Connection $me 'base' -Branch main -ErrorAction Stop
        $main = Checkpoint-AgentContext -Connection $me 'main work' -Branch main -ErrorAction Stop
        $feature = Checkpoint-AgentContext -Connection $me 'feature work' -Branch $featureBranch -ErrorAction Stop
        $main.ParentId | Should -Be $base.Id
        $feature.ParentId | Should -BeNullOrEmpty
        Set-AgentGraphNode -Connection $me -Id $feature.Id -Type decision -Name "checkpointed $tag" -ErrorAction Stop

        @{
            Server = $Server; Me = $me; MeId = $meId; Peer = $peer; PeerId = $peerId; ThreadId = $t1.ThreadId; OtherThreadId = $t2.ThreadId
            MarkerAgentId = $markerAgentId; Tag = $tag; SourceId = $sourceId; TargetId = $targetId; IndexKeys = $indexKeys
            FeatureBranch = $featureBranch; BaseCheckpointId = $base.Id; MainCheckpointId = $main.Id; FeatureCheckpointId = $feature.Id
        }
    }

    function Test-Closed($Connection) { $Connection.GetType().GetProperty('IsClosed', $script:nonPublic).GetValue($Connection) }

    function Get-Unread($Ctx, [string] $AgentId) {
        @((Invoke-RestMethod -Uri "$($Ctx.Server.Uri)/mailbox/$([uri]::EscapeDataString($AgentId))/unread").messages).Count
    }

    function Get-RequestText($Server) {
        <# Every request the mock received, as text: method, decoded path, query and body. #>
        foreach ($r in @(Get-MockRequest $Server)) {
            "$($r.method) $([uri]::UnescapeDataString([string]$r.path))?$([uri]::UnescapeDataString([string]$r.query)) $($r.body)"
        }
    }
}
AfterAll {
    Disconnect-AgentMailbox -ErrorAction SilentlyContinue
    $script:servers | Stop-AgentMailboxServer
}

Describe 'Every exported cmdlet has sample arguments' {
    It '<Name> has an entry in $Samples' -ForEach $allCases {
        $Samples.ContainsKey($Name) | Should -BeTrue -Because "every cmdlet is checked by this file; add an entry for $Name to `$Samples in tests/Pester/CmdletTable.Tests.ps1"
    }

    It 'found the cmdlets of the manifest' {
        $manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../AgentMailbox.psd1')
        $cmdlets = @(Get-Command -Module AgentMailbox -CommandType Cmdlet)
        $cmdlets.Count | Should -Be @($manifest.CmdletsToExport).Count
        @($cmdlets | Where-Object { $_.Parameters.ContainsKey('WhatIf') }).Count | Should -BeGreaterThan 0
        @($cmdlets | Where-Object { $_.Parameters.ContainsKey('Connection') }).Count | Should -BeGreaterThan 0
    }
}

Describe '-WhatIf changes nothing' {
    BeforeEach {
        $script:ctx = New-Context $servers[0]
        Connect-AgentMailbox $ctx.MeId -Server $ctx.Server.Uri
        $script:default = Get-AgentMailboxConnection
        Clear-MockRequest $ctx.Server
    }
    AfterEach { $ctx.Me, $ctx.Peer | Disconnect-AgentMailbox -ErrorAction SilentlyContinue }

    It '<Name> -WhatIf sends nothing that changes state' -ForEach $whatIfCases {
        $arguments = Get-Sample $Name $ctx
        $unreadBefore = (Get-Unread $ctx $ctx.MeId), (Get-Unread $ctx $ctx.PeerId)
        Clear-MockRequest $ctx.Server
        $null = & $Name @arguments -WhatIf -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures | Should -BeNullOrEmpty
        $changing = @(Get-MockRequest $ctx.Server | Where-Object method -ne 'GET')
        $changing | ForEach-Object { "$($_.method) $($_.path)" } | Should -BeNullOrEmpty -Because "$Name -WhatIf may read, never write"
        ((Get-Unread $ctx $ctx.MeId), (Get-Unread $ctx $ctx.PeerId)) | Should -Be $unreadBefore -Because 'no message was sent or marked read'
        Test-Closed $default | Should -BeFalse -Because 'no connection was closed'
        Get-AgentMailboxConnection | Should -Be $default
    }
}

Describe '-Connection acts through the connection given, not the default' {
    BeforeEach {
        # The default on the first server; the connection given on the second.
        $script:local = New-Context $servers[0]
        $script:remote = New-Context $servers[1]
        Connect-AgentMailbox $local.MeId -Server $local.Server.Uri
        $script:default = Get-AgentMailboxConnection
        Clear-MockRequest $servers[0]
        Clear-MockRequest $servers[1]
    }
    AfterEach { $local.Me, $local.Peer, $remote.Me, $remote.Peer | Disconnect-AgentMailbox -ErrorAction SilentlyContinue }

    It '<Name> -Connection uses the connection given' -ForEach $connectionCases {
        $arguments = Get-Sample $Name $remote
        if ((Get-Command $Name).Parameters.ContainsKey('Confirm')) { $arguments.Confirm = $false }
        $null = & $Name @arguments -Connection $remote.Me -ErrorAction SilentlyContinue
        @(Get-MockRequest $servers[0]) | ForEach-Object { "$($_.method) $($_.path)" } |
            Should -BeNullOrEmpty -Because "$Name was given a connection to the other server"
        $atGiven = @(Get-RequestText $servers[1])
        if ($atGiven.Count -eq 0) {
            # A cmdlet that makes no request acts on the connection itself (Disconnect-AgentMailbox closes it).
            Test-Closed $remote.Me | Should -BeTrue -Because "$Name made no request, so it must have acted on the connection given"
        }
        else {
            $atGiven | Where-Object { $_ -like "*$($local.MeId)*" } | Should -BeNullOrEmpty -Because 'no request may act as the default connection''s agent'
        }
        Test-Closed $default | Should -BeFalse
        Get-AgentMailboxConnection | Should -Be $default
    }
}

Describe 'Parameters bind by property name from piped objects' {
    BeforeEach {
        $script:ctx = New-Context $servers[0]
        Connect-AgentMailbox $ctx.MeId -Server $ctx.Server.Uri
        Clear-MockRequest $servers[0]
        Clear-MockRequest $servers[1]
    }
    AfterEach { $ctx.Me, $ctx.Peer | Disconnect-AgentMailbox -ErrorAction SilentlyContinue }

    It '<Name> -<Parameter> binds from a piped object''s <Parameter> property' -ForEach $byPropertyCases {
        if (-not $Markers.ContainsKey($Parameter)) {
            throw "-$Parameter of $Name binds by property name but has no entry in `$Markers (tests/Pester/CmdletTable.Tests.ps1): add a distinctive value for it."
        }
        $marker = & $Markers[$Parameter] $ctx
        $inRequest = $marker
        $at = $ctx.Server
        if ($marker -is [hashtable]) {
            $inRequest = $marker.InRequest
            if ($marker.At) { $at = $marker.At }
            $marker = $marker.Value
        }
        $arguments = Get-Sample $Name $ctx
        $arguments.Remove($Parameter)
        $piped = [pscustomobject]@{ $Parameter = $marker }
        $command = Get-Command $Name
        # -Connection only where it can be bound with the parameter: Get-AgentCard -Server is in another parameter set,
        # so it runs with the default connection (on the context's server) unless the piped Server binds.
        $sets = @($command.Parameters[$Parameter].ParameterSets.Keys)
        $withConnection = $command.Parameters.ContainsKey('Connection') -and $Name -ne 'Disconnect-AgentMailbox' -and
            ($sets -contains '__AllParameterSets' -or @($command.Parameters['Connection'].ParameterSets.Keys | Where-Object { $_ -eq '__AllParameterSets' -or $sets -contains $_ }).Count -gt 0)
        if ($withConnection) { $arguments.Connection = $ctx.Me }
        if ($command.Parameters.ContainsKey('Confirm')) { $arguments.Confirm = $false }
        $output = @($piped | & $Name @arguments -ErrorVariable failures -ErrorAction SilentlyContinue)
        $failures | Should -BeNullOrEmpty
        $inRequests = @(Get-RequestText $at | Where-Object { $_ -like "*$inRequest*" }).Count -gt 0
        $inOutput = $output.Count -gt 0 -and @($output | Where-Object { $_.PSObject.Properties[$Parameter] -and $_.$Parameter -ceq $marker }).Count -eq $output.Count
        ($inRequests -or $inOutput) | Should -BeTrue -Because "the piped $Parameter '$marker' must reach $Name (in a request, or as the $Parameter of every object it outputs)"
    }

    It 'Wait-AgentMessage -ThreadId bound from a piped object outputs only that thread''s messages' {
        # Wait-AgentMessage filters after reading the whole inbox: the value shows in its output, not its request.
        $output = @([pscustomobject]@{ ThreadId = $ctx.OtherThreadId } | Wait-AgentMessage -Connection $ctx.Me -TimeoutSec 2)
        $output.Count | Should -BeGreaterThan 0
        $output.ThreadId | Sort-Object -Unique | Should -Be $ctx.OtherThreadId
        $output.Payload | Should -Not -Contain 'first'
    }
}
